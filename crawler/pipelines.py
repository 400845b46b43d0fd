"""Item pipelines: check each item against the spider-store contract (index.store.items), then hand
them to the database writer process in batches."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import deque
from pathlib import Path
from typing import Any

from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import defer, error, protocol
from twisted.python.failure import Failure

from crawler import stats
from crawler.storewriter import encode_frame
from index.store.items import invalid_fields

logger = logging.getLogger(__name__)

# Batches sent and not yet written before process_item waits for the oldest: bounds the memory a
# slow database can make the crawl hold.
MAX_BATCHES_IN_FLIGHT = 8
# Where `crawler` is importable from, for the writer process (the crawl may run from a source tree).
_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)


class StoreError(RuntimeError):
    """A batch was not written (the writer said why, or the writer process is gone)."""


class WriterProcess(protocol.ProcessProtocol):
    """The crawl's end of `crawler.storewriter`: batches go out in order, one Deferred per batch
    fires with its counts (or fails with StoreError)."""

    def __init__(self) -> None:
        self.pending: deque[defer.Deferred[dict[str, int]]] = deque()
        self.ended: defer.Deferred[None] = defer.Deferred()
        self.exit_reason: str | None = None
        self._lines = b""

    @classmethod
    def start(cls, db_url: str, run_id: int | None) -> WriterProcess:
        from twisted.internet import reactor

        writer = cls()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE_ROOT, env.get("PYTHONPATH")]))
        args = [sys.executable, "-m", "crawler.storewriter", db_url, "" if run_id is None else str(run_id)]
        reactor.spawnProcess(writer, sys.executable, args, env=env, childFDs={0: "w", 1: "r", 2: 2})  # type: ignore[attr-defined]
        return writer

    def submit(self, items: list[dict[str, Any]]) -> defer.Deferred[dict[str, int]]:
        d: defer.Deferred[dict[str, int]] = defer.Deferred()
        if self.exit_reason is not None:
            d.errback(StoreError(f"the database writer is gone ({self.exit_reason})"))
            return d
        self.pending.append(d)
        self.transport.write(encode_frame(items))  # type: ignore[union-attr]
        return d

    def close(self) -> defer.Deferred[None]:
        """No more batches: the writer finishes the ones it has and exits; fires when it has."""
        if self.exit_reason is None:
            self.transport.closeStdin()  # type: ignore[union-attr]
        return self.ended

    def outReceived(self, data: bytes) -> None:
        self._lines += data
        *lines, self._lines = self._lines.split(b"\n")
        for line in lines:
            reply = json.loads(line)
            d = self.pending.popleft()
            if "error" in reply:
                d.errback(StoreError(f"{reply['error']}\n{reply.get('traceback', '')}".rstrip()))
            else:
                d.callback(reply)

    def processEnded(self, reason: Failure) -> None:
        self.exit_reason = str(reason.value)
        if not reason.check(error.ProcessDone):
            logger.error("the database writer process ended abnormally: %s", self.exit_reason)
        while self.pending:
            self.pending.popleft().errback(StoreError(f"the database writer ended before writing a batch ({self.exit_reason})"))
        self.ended.callback(None)


class StorePipeline:
    """Buffers items and sends them `X402_STORE_BATCH` at a time to one writer process
    (`crawler.storewriter`), the database's only writer; the reactor does not wait for the writes,
    except when MAX_BATCHES_IN_FLIGHT are pending, and at the end of the crawl for all of them.

    A batch the writer could not write is logged as an error and counted in `x402/store/failed`;
    its observations are missing from `x402/store/observations`, so the crawl fails
    (`crawler.stats.crawl_ok`: every attempt stored)."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.db_url = crawler.settings.get("X402_DB_URL")
        self.batch_size = crawler.settings.getint("X402_STORE_BATCH")
        self.run_id = crawler.settings.get("X402_CRAWL_RUN_ID")
        self.buffer: list[dict[str, Any]] = []
        self.in_flight: deque[defer.Deferred[None]] = deque()
        self.writer: WriterProcess | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.writer = WriterProcess.start(self.db_url, self.run_id)

    async def process_item(self, item: Any) -> Any:
        bad = invalid_fields(item)
        if bad:
            self._drop(item, bad)
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size:
            self._send()
            if len(self.in_flight) > MAX_BATCHES_IN_FLIGHT:
                self.crawler.stats.inc_value(stats.STORE_WAITS)  # the database is the bottleneck
            while len(self.in_flight) > MAX_BATCHES_IN_FLIGHT:
                await maybe_deferred_to_future(self.in_flight[0])
        return item

    def _drop(self, item: Any, bad: list[str]) -> None:
        """An item that breaks the spider-store contract (index.store.items) is counted per field, logged
        in one line and dropped: one bad item never fails the batch it would be written in."""
        for field in bad:
            self.crawler.stats.inc_value(stats.VALIDATION + field)
        kind = item.get("kind") if isinstance(item, dict) else type(item).__name__
        url = item.get("url") if isinstance(item, dict) else None
        logger.error("dropped an invalid %s item (%s): %.200r", kind, ", ".join(bad), url)
        # Scrapy's own "Dropped:" line prints the whole item (bodies included): kept for DEBUG only
        raise DropItem(f"invalid fields: {', '.join(bad)}", log_level="DEBUG")

    async def close_spider(self) -> None:
        self._send()
        while self.in_flight:
            await maybe_deferred_to_future(self.in_flight[0])
        assert self.writer is not None
        await maybe_deferred_to_future(self.writer.close())

    def _send(self) -> None:
        if not self.buffer:
            return
        assert self.writer is not None
        batch, self.buffer = self.buffer, []
        d: defer.Deferred[Any] = self.writer.submit(batch)
        self.in_flight.append(d)  # before the callbacks: a gone writer fails the batch at once
        d.addCallbacks(self._stored, self._failed, errbackArgs=(len(batch),))
        d.addBoth(self._done, d)

    def _stored(self, counts: dict[str, int]) -> None:
        counter = self.crawler.stats
        counter.inc_value(stats.STORED, counts["observations"])
        counter.inc_value(stats.NEW_RESOURCES, counts["new_resources"])
        counter.inc_value(stats.STORE_BATCHES)

    def _failed(self, failure: Failure, size: int) -> None:
        self.crawler.stats.inc_value(stats.STORE_FAILED, size)
        logger.error("a batch of %d items was not stored: %s", size, failure.getErrorMessage())

    def _done(self, result: Any, d: defer.Deferred[Any]) -> None:
        self.in_flight.remove(d)
