"""Item pipelines: hand probe results to index.store in batched transactions."""

from __future__ import annotations

import threading
from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from index.store import init_db, record_origin_pages, record_probes, record_sources


class StorePipeline:
    """Buffers items and writes them `X402_STORE_BATCH` at a time, in a worker thread so the
    reactor keeps downloading while the database commits."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.db_url = crawler.settings.get("X402_DB_URL")
        self.batch_size = crawler.settings.getint("X402_STORE_BATCH")
        self.run_id = crawler.settings.get("X402_CRAWL_RUN_ID")
        self.buffer: list[dict[str, Any]] = []
        self.engine: Any = None
        # One writer at a time: flushes run in worker threads, and two overlapping SQLite write
        # transactions fail with "database is locked" instead of waiting.
        self._write_lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.engine = init_db(self.db_url)

    async def process_item(self, item: Any) -> Any:
        self.buffer.append(dict(item))
        if len(self.buffer) >= self.batch_size:
            await self._flush()
        return item

    async def close_spider(self) -> None:
        await self._flush()

    async def _flush(self) -> None:
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        probes = [i for i in batch if i.get("kind", "probe") == "probe"]
        pages = [i for i in batch if i.get("kind") == "page"]
        sightings = [i for i in batch if i.get("kind") == "source"]
        counts = await maybe_deferred_to_future(deferToThread(self._write, probes, pages, sightings))
        stats = self.crawler.stats
        stats.inc_value("x402/store/observations", counts["observations"])
        stats.inc_value("x402/store/new_resources", counts["new_resources"])
        stats.inc_value("x402/store/batches")

    def _write(self, probes: list[dict[str, Any]], pages: list[dict[str, Any]],
               sightings: list[dict[str, Any]]) -> dict[str, int]:
        with self._write_lock:
            counts = record_probes(self.engine, probes, self.run_id)
            record_origin_pages(self.engine, pages)
            record_sources(self.engine, sightings)
        return counts
