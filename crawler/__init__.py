"""The Scrapy project: everything that talks HTTP to the world."""
