"""The Scrapy components a worker swaps in: scrapy-redis' scheduler on our frontier (a leased queue,
JSON instead of pickle), fleet-wide per-host slots, and the store pipeline that releases leases.

scrapy-redis 0.9.1 on Scrapy 2.19 works, with two deprecation warnings (`spider.log()` when it
resumes a queue; `stats.inc_value(..., spider=)` per request). We subclass to (a) pop with LMOVE into
this worker's working list instead of a plain RPOP (the lease), (b) open and count without the
deprecated calls, and take our keys from the Frontier rather than settings, (c) never flush the shared
queue when one worker closes (the coordinator owns the run's keys), (d) turn the coordinator's tasks
into requests when the queue is empty.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from typing import Any
from urllib.parse import urlsplit

from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet import defer
from twisted.python.failure import Failure

from crawler.distributed import codec
from crawler.distributed.spider import ITEM_LEASE, LEASE
from crawler.pipelines import MAX_BATCHES_IN_FLIGHT, StorePipeline
from index.store.engine import lost_a_race

logger = logging.getLogger(__name__)

# A batch that lost a race with another worker's writer (the same new origin or slug, inserted
# twice) is written again (index.store.engine.RACE_MARKERS). Probes are already written again by
# record_probes itself; this is for pages and sightings, whose writers let the error through.
STORE_TRIES = 4


class LeasedQueue(FifoQueue):
    """FIFO over the run's queue; a popped request stays in this worker's working list (its lease)."""

    def pop(self, timeout: int = 0) -> Any:
        frontier = self.spider.frontier
        entry = frontier.take(self.key, "RIGHT")
        if entry is None:
            return None
        try:
            request = self._decode_request(entry)
        except Exception:  # noqa: BLE001 - a request we cannot read is dropped, said, not retried forever
            logger.exception("dropping an unreadable request from the frontier")
            frontier.ack(entry)
            return None
        request.meta[LEASE] = self.spider.leases.take(entry)
        return request


class FrontierScheduler(Scheduler):
    """scrapy-redis' Scheduler on the spider's Frontier."""

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierScheduler:
        frontier = crawler.spider.frontier
        scheduler = cls(server=frontier.server, persist=True, queue_key=frontier.queue,
                        queue_cls="crawler.distributed.components.LeasedQueue", dupefilter_key=frontier.dupefilter,
                        serializer=codec)
        scheduler.stats = crawler.stats
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.queue = LeasedQueue(server=self.server, spider=spider, key=self.queue_key, serializer=self.serializer)
        # every request of ours is dont_filter (claims dedupe resources); scrapy-redis' filter for any other
        self.df = RFPDupeFilter(self.server, key=self.dupefilter_key)

    def close(self, reason: str) -> None:
        """The queue is the fleet's: nothing is flushed when one worker stops."""

    def enqueue_request(self, request: Any) -> bool:
        replaced = request.meta.pop(LEASE, None)  # a redirect or retry of a leased request
        if not request.dont_filter and self.df.request_seen(request):
            queued = False
        else:
            self.queue.push(request)
            self.stats.inc_value("scheduler/enqueued/redis")  # scrapy-redis passes `spider=`, deprecated in 2.19
            queued = True
        if replaced is not None:
            self.spider.leases.release(replaced)
        return queued

    def next_request(self) -> Any:
        request = self.queue.pop()
        if request is None and self.spider.take_tasks(self.enqueue_request):
            request = self.queue.pop()
        if request is not None:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class HostSlots:
    """At most CONCURRENT_REQUESTS_PER_DOMAIN requests in flight per host for the whole fleet: a
    request takes a slot in Redis before it reaches the downloader and gives it back with its answer
    or failure. A slot left by a dead worker expires (download timeout plus the longest delay)."""

    META = "_x402_slot"

    def __init__(self, crawler: Any) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.limit = settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
        self.ttl = settings.getfloat("DOWNLOAD_TIMEOUT") + settings.getfloat("AUTOTHROTTLE_MAX_DELAY") + 30
        self.poll = settings.getfloat("X402_SLOT_POLL")
        self._ids = itertools.count()

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostSlots:
        return cls(crawler)

    async def process_request(self, request: Any) -> None:
        host = urlsplit(request.url).hostname or ""
        frontier = self.crawler.spider.frontier
        holder = f"{frontier.worker}|{next(self._ids)}"
        waited = False
        while not frontier.take_slot(host, self.limit, holder, self.ttl):
            waited = True
            await asyncio.sleep(self.poll * (0.5 + random.random()))  # noqa: S311 - jitter, not security
        if waited:
            self.crawler.stats.inc_value("x402/fleet/slot_waits")
        request.meta[self.META] = (host, holder)

    def _give_back(self, request: Any) -> None:
        taken = request.meta.pop(self.META, None)
        if taken is not None:
            self.crawler.spider.frontier.give_slot(*taken)

    def process_response(self, request: Any, response: Any) -> Any:
        self._give_back(request)
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        self._give_back(request)


class FrontierStorePipeline(StorePipeline):
    """StorePipeline that releases each item's lease once its batch is stored, sends what it holds
    twice a second (an idle worker must not sit on the last items of a run), and writes a batch again
    when it lost an insert race with another worker."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.buffer_leases: list[int] = []
        self._flusher: Any = None

    def open_spider(self) -> None:
        from twisted.internet import task

        super().open_spider()
        self._flusher = task.LoopingCall(self._send)
        self._flusher.start(0.5, now=False)

    async def process_item(self, item: Any) -> Any:
        token = item.pop(ITEM_LEASE, None) if isinstance(item, dict) else None
        self.buffer.append(dict(item))
        self.buffer_leases.append(token)
        if len(self.buffer) >= self.batch_size:
            self._send()
            while len(self.in_flight) > MAX_BATCHES_IN_FLIGHT:
                await maybe_deferred_to_future(self.in_flight[0])
        return item

    async def close_spider(self) -> None:
        if self._flusher is not None and self._flusher.running:
            self._flusher.stop()
        await super().close_spider()

    def _send(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        leases, self.buffer_leases = self.buffer_leases, []
        # probes apart from pages and sightings: each batch is then one transaction, safe to write again
        probes = [i for i, item in enumerate(batch) if item.get("kind", "probe") == "probe"]
        others = [i for i, item in enumerate(batch) if item.get("kind", "probe") != "probe"]
        for part in (probes, others):
            if part:
                done: defer.Deferred[None] = defer.Deferred()
                self.in_flight.append(done)
                self._submit([batch[i] for i in part], [leases[i] for i in part], 1, done)

    def _submit(self, batch: list[dict[str, Any]], leases: list[int | None], attempt: int, done: defer.Deferred[None]) -> None:
        assert self.writer is not None
        d = self.writer.submit(batch)

        def stored(counts: dict[str, int]) -> None:
            self._stored(counts)
            finish()

        def failed(failure: Failure) -> None:
            message = failure.getErrorMessage()
            if attempt < STORE_TRIES and lost_a_race(message):
                self.crawler.stats.inc_value("x402/store/rewritten")
                self._submit(batch, leases, attempt + 1, done)
                return
            self._failed(failure, len(batch))
            finish()

        def finish() -> None:
            spider = self.crawler.spider
            for token in leases:
                if token is not None:
                    spider.leases.release(token)
            self.in_flight.remove(done)
            done.callback(None)

        d.addCallbacks(stored, failed)

