"""Progress extension: every X402_PROGRESS_INTERVAL seconds, hand a snapshot of the crawl's
counts to X402_PROGRESS_CALLBACK (the CLI draws it; nothing is printed here)."""

from __future__ import annotations

import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def snapshot(stats: dict[str, Any], started: float) -> dict[str, Any]:
    """Plain counts from crawl stats: done, queued, by outcome, rate."""
    outcomes = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("x402/outcome/")}
    done = sum(outcomes.values())
    elapsed = max(time.monotonic() - started, 1e-6)
    return {
        "done": done,
        "queued": stats.get("x402/candidates/queued", 0),
        "outcomes": outcomes,
        "rate": done / elapsed,
        "elapsed": elapsed,
    }


class ProgressReporter:
    def __init__(self, crawler: Any, callback: Any, interval: float) -> None:
        self.crawler = crawler
        self.callback = callback
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> ProgressReporter:
        callback = crawler.settings.get("X402_PROGRESS_CALLBACK")
        if not callable(callback):
            raise NotConfigured
        ext = cls(crawler, callback, crawler.settings.getfloat("X402_PROGRESS_INTERVAL"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def report(self) -> None:
        self.callback(snapshot(self.crawler.stats.get_stats(), self.started))

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self) -> None:
        if self.loop and self.loop.running:
            self.loop.stop()
        self.report()
