"""What keeps a large crawl's memory flat in the probe spider: how many of start()'s requests may
wait in Scrapy's scheduler, and one shared dict per distinct source."""

from __future__ import annotations

from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future

# Requests from start() waiting in the scheduler before start() waits for room (backlog_room), and
# how often it looks again: at 1,000 probes/s the backlog lasts 0.25 s, five looks.
START_BACKLOG = 256
START_POLL_S = 0.05
# Distinct flat sources shared between the resources they name (bounded: discovery pages are many).
SOURCE_POOL = 10_000


async def backlog_room(crawler: Any) -> None:
    """Wait while START_BACKLOG requests already wait in the scheduler. Scrapy reads start() on while
    its downloader or scraper is backed out (a writer process behind), so without this every
    candidate becomes a queued request, meta and hints included, in the first seconds of a crawl:
    812 MB at 100k due resources (bench/crawljob.py)."""
    try:
        scheduler = crawler.engine._slot.scheduler
        len(scheduler)
    except (AttributeError, RuntimeError, TypeError):  # no engine (a spider driven by hand), or a
        return  # scheduler that cannot say how much it holds
    while len(scheduler) >= START_BACKLOG:
        from twisted.internet import reactor
        from twisted.internet.task import deferLater

        await maybe_deferred_to_future(deferLater(reactor, START_POLL_S, lambda: None))


class SourcePool:
    """One shared dict for equal flat sources (a seed file, a listing page: thousands of resources name
    the same one). Sources with nested claims, and any beyond SOURCE_POOL, are returned as they are."""

    def __init__(self) -> None:
        self.pool: dict[Any, dict[str, Any]] = {}

    def __call__(self, source: dict[str, Any] | None) -> dict[str, Any] | None:
        if not source:
            return source
        try:
            key = tuple(source.items())
            if len(self.pool) < SOURCE_POOL:
                return self.pool.setdefault(key, source)
            return self.pool.get(key, source)
        except TypeError:  # unhashable: a source carrying declared terms
            return source
