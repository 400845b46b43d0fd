"""Drives crawler.pipelines' writer process under a real (asyncio) Twisted reactor, for
tests/crawler/test_storewriter.py. Run as `python -m tests.support.writer_harness SCENARIO DB_URL`; prints one JSON
object with what happened. A reactor cannot be restarted, hence a process per scenario."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
from typing import Any

from twisted.internet import asyncioreactor

asyncioreactor.install()

from twisted.internet import defer, task  # noqa: E402

from scrapy.exceptions import DropItem  # noqa: E402

from crawler.pipelines import StorePipeline, WriterProcess  # noqa: E402


def probe(i: int, outcome: str = "timeout") -> dict[str, Any]:
    """A probe item as the spider yields it (index.store.items.ProbeItem)."""
    return {"kind": "probe", "url": f"https://h.example/r/{i}", "method": "GET", "attempt": 0, "attempt_why": "default",
            "robots": "test", "final_url": None, "observed_at": "2026-11-22T10:00:00+00:00", "outcome": outcome,
            "http_status": None, "latency_ms": None, "error_code": "timeout", "headers": {}, "body": None,
            "challenge": None, "sources": [{"kind": "seed", "url": "test"}]}


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + count


class Settings:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def getint(self, key: str) -> int:
        return int(self.values[key])


class Crawler:
    def __init__(self, db_url: str, batch: int) -> None:
        self.settings = Settings({"X402_DB_URL": db_url, "X402_STORE_BATCH": batch, "X402_CRAWL_RUN_ID": None})
        self.stats = Stats()


async def batches(db_url: str) -> dict[str, Any]:
    """Three batches in order, the second one bad: the first and third are written."""
    writer = WriterProcess.start(db_url, None)
    sent = [writer.submit([probe(0), probe(1)]), writer.submit([probe(2, "no-such-outcome")]), writer.submit([probe(3)])]
    results = []
    for d in sent:
        try:
            results.append(await d.asFuture(asyncio.get_running_loop()))
        except Exception as exc:  # noqa: BLE001 - reported
            results.append({"failed": str(exc).splitlines()[0]})
    await writer.close().asFuture(asyncio.get_running_loop())
    return {"results": results, "exit": writer.exit_reason}


async def pipeline(db_url: str) -> dict[str, Any]:
    """The pipeline over 8 items with batches of 3: item 4 breaks the item contract (dropped, counted);
    item 5 fits it but the writer refuses it (a time it cannot read): its batch [3 5 6] fails, the
    rest are stored."""
    crawler = Crawler(db_url, 3)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    for i in range(8):
        item = probe(i, "no-such-outcome" if i == 4 else "timeout")
        if i == 5:
            item["observed_at"] = "yesterday"
        try:
            await store.process_item(item)
        except DropItem:
            pass
    await store.close_spider()
    return {"stats": crawler.stats.values, "exit": store.writer.exit_reason if store.writer else None}


async def writer_killed(db_url: str) -> dict[str, Any]:
    """The writer process dies: the pending and later batches fail, nothing hangs."""
    crawler = Crawler(db_url, 2)
    store = StorePipeline.from_crawler(crawler)
    store.open_spider()
    assert store.writer is not None
    await store.process_item(probe(0))
    await store.process_item(probe(1))
    os.kill(store.writer.transport.pid, signal.SIGKILL)  # type: ignore[union-attr]
    await store.writer.ended.asFuture(asyncio.get_running_loop())
    for i in range(2, 5):
        await store.process_item(probe(i))
    await store.close_spider()
    return {"stats": crawler.stats.values, "exited": store.writer.exit_reason is not None}


SCENARIOS = {"batches": batches, "pipeline": pipeline, "writer_killed": writer_killed}


def main() -> None:
    scenario, db_url = sys.argv[1], sys.argv[2]
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    async def run() -> None:
        print(json.dumps(await SCENARIOS[scenario](db_url)), flush=True)

    # as Scrapy runs coroutines under the asyncio reactor: asyncio tasks
    task.react(lambda _reactor: defer.Deferred.fromFuture(asyncio.ensure_future(run())))  # exits when done


if __name__ == "__main__":
    main()
