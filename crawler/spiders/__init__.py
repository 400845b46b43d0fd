"""Spiders: thin movers of data between the network and index/."""
