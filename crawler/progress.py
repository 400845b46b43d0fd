"""Progress extension: every X402_PROGRESS_INTERVAL seconds, send a snapshot of the crawl's counts
as the `progress_snapshot` signal (the CLI connects its display to it; nothing is printed here).

A signal, not a setting holding the callback: Scrapy deep-copies its settings (`frozencopy`), and a
live terminal display (rich's Live holds locks and a thread) cannot be copied, so a callback in the
settings crashed every crawl started from a terminal."""

from __future__ import annotations

import time
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

# Sent with `snapshot=` (a dict from snapshot()); connect with crawler.signals.connect(fn, progress_snapshot).
progress_snapshot = object()


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
