"""Our Scrapy extensions: `ProgressReporter` sends a running crawl's counts to whoever listens, and
`WorldLogs` keeps the crawl log about us."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from crawler.stats import snapshot

# Sent with `snapshot=` (a dict from crawler.stats.snapshot()); connect with
# crawler.signals.connect(fn, progress_snapshot).
progress_snapshot = object()


class ProgressReporter:
    """Every X402_PROGRESS_INTERVAL seconds, and once at the end, send a snapshot of the crawl's counts
    as the `progress_snapshot` signal (the CLI connects its display to it; nothing is printed here).

    A signal, not a setting holding the callback: Scrapy deep-copies its settings (`frozencopy`), and a
    live terminal display (rich's Live holds locks and a thread) cannot be copied, so a callback in the
    settings crashed every crawl started from a terminal."""

    def __init__(self, crawler: Any, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressReporter:
        interval = crawler.settings.getfloat("X402_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def report(self) -> None:
        self.crawler.signals.send_catch_log(progress_snapshot, snapshot=snapshot(self.crawler.stats.get_stats(), self.started))

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.report()


# Loggers whose warnings describe the remote server, never our own state.
WORLD_LOGGERS = (
    "scrapy.core.downloader.handlers.http11",
    "scrapy.downloadermiddlewares.httpcompression",
    "scrapy.downloadermiddlewares.redirect",
    "scrapy.downloadermiddlewares.retry",
)
ROBOTS_LOGGER = "scrapy.downloadermiddlewares.robotstxt"


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


class WorldLogs:
    """What hostile or broken servers do is data (a coded outcome on the observation), not a warning:
    Scrapy's per-response warnings (oversized, data loss, decompression bombs, redirects) become INFO,
    so WARNING and ERROR lines, and the error count that decides a crawl's exit code, mean something
    went wrong on our side."""

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
