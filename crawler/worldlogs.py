"""Keep the crawl log about us: what hostile or broken servers do is data (a coded outcome on the
observation), not a warning. This extension demotes Scrapy's per-response warnings (oversized, data
loss, decompression bombs, redirects) to INFO, so WARNING and ERROR lines, and the error count that
decides a crawl's exit code, mean something went wrong on our side."""

from __future__ import annotations

import logging
from typing import Any

# Loggers whose warnings describe the remote server, never our own state.
WORLD_LOGGERS = (
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.httpcompression",
    "scrapy.downloadermiddlewares.redirect",
    "scrapy.downloadermiddlewares.retry",
)


class _DemoteWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class _RobotsFetchFailures(logging.Filter):
    """A robots.txt that cannot be downloaded (TLS refused, connection reset) is the server's state:
    Scrapy logs it at ERROR with a traceback; it becomes one INFO line (the request itself then gets
    its own coded outcome)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and str(record.msg).startswith("Error downloading"):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


_FILTER = _DemoteWarnings()
_ROBOTS_FILTER = _RobotsFetchFailures()
ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


class WorldLogs:
    def __init__(self) -> None:
        for name in WORLD_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
        robots = logging.getLogger(ROBOTS_LOGGER)
        if _ROBOTS_FILTER not in robots.filters:
            robots.addFilter(_ROBOTS_FILTER)

    @classmethod
    def from_crawler(cls, crawler: Any) -> WorldLogs:
        return cls()
