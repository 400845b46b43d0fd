"""Prototype tunings of our crawler, applied inside a bench child only (never to the project).

Each variant monkeypatches the imported project modules and/or returns settings overrides. Combine
them with `+` (`serial+bulk`). `bench/probe.py --variant NAME` runs ours with one; `--variants`
compares them all with ours as is.

Variants marked `stores=False` do not write the database, so the bench skips its row check for them;
they only bound what the rest of the crawler costs.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variant:
    doc: str
    apply: Callable[[], dict[str, Any]]
    stores: bool = True


# -------------------------------------------------------------------------------------------
# pipeline design


def _serial() -> dict[str, Any]:
    """One flush at a time: today a second batch can start writing while the first one is still in
    its thread, and two transactions then both insert the same new origin (UNIQUE failure, batch lost)."""
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet.defer import DeferredLock

    import crawler.pipelines as pipelines

    original = pipelines.StorePipeline._flush

    async def _flush(self: Any) -> None:
        lock = self.__dict__.setdefault("_bench_lock", DeferredLock())
        await maybe_deferred_to_future(lock.acquire())
        try:
            await original(self)
        finally:
            lock.release()

    pipelines.StorePipeline._flush = _flush  # type: ignore[method-assign]
    return {}


def _serialwrite() -> dict[str, Any]:
    """One *write* at a time: the buffer is still swapped at once (batches stay X402_STORE_BATCH and one
    item per batch waits), but the worker-thread write waits for the previous one to finish. The
    smallest fix of the lost-batch race that keeps today's design."""
    from twisted.internet.defer import DeferredLock

    import crawler.pipelines as pipelines

    original_defer = pipelines.deferToThread
    lock = DeferredLock()

    def one_at_a_time(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return lock.run(original_defer, f, *args, **kwargs)

    pipelines.deferToThread = one_at_a_time
    return {}


def _inline() -> dict[str, Any]:
    """Write on the reactor thread (no worker thread): no GIL hand-offs, the reactor waits instead."""
    from twisted.internet import defer

    import crawler.pipelines as pipelines

    def run_here(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return defer.succeed(f(*args, **kwargs))
        except Exception:  # noqa: BLE001 - handed back as the Deferred's failure, like deferToThread
            return defer.fail()

    pipelines.deferToThread = run_here
    return {}


def _background() -> dict[str, Any]:
    """Single writer in the background: process_item never awaits the database; one flush runs at a
    time (the project's own _flush, worker thread included), and close_spider waits for the last."""
    import asyncio

    import crawler.pipelines as pipelines

    original_flush = pipelines.StorePipeline._flush
    original_close = pipelines.StorePipeline.close_spider

    def _kick(self: Any) -> None:
        busy = self.__dict__.get("_bench_busy")
        if (busy is None or busy.done()) and len(self.buffer) >= self.batch_size:
            self._bench_busy = asyncio.ensure_future(_run(self))

    async def _run(self: Any) -> None:
        await original_flush(self)
        self._bench_busy = None
        _kick(self)

    async def process_item(self: Any, item: Any) -> Any:
        self.buffer.append(dict(item))
        _kick(self)
        return item

    async def close_spider(self: Any) -> None:
        while self.__dict__.get("_bench_busy") is not None:
            await self._bench_busy
        await original_close(self)

    pipelines.StorePipeline.process_item = process_item  # type: ignore[method-assign]
    pipelines.StorePipeline.close_spider = close_spider  # type: ignore[method-assign]
    return {}


_WRITER: dict[str, Any] = {}


def write_in_process(db_url: str, run_id: int | None, bulk: bool, args: tuple[Any, ...]) -> dict[str, int]:
    """The pipeline's own `_write`, run by the writer process on a bare pipeline holding only what
    `_write` uses (engine, run id). Module level, so a spawned process can import it."""
    import crawler.pipelines as pipelines
    from index.store import init_db

    if "pipeline" not in _WRITER:
        if bulk:
            import bulkstore

            pipelines.record_probes = bulkstore.record_probes
        pipeline = pipelines.StorePipeline.__new__(pipelines.StorePipeline)
        pipeline.engine = init_db(db_url)
        pipeline.run_id = run_id
        pipeline.db_url = db_url
        pipeline._write_lock = threading.Lock()  # what __init__ gives the project's pipeline
        _WRITER["pipeline"] = pipeline
    return _WRITER["pipeline"]._write(*args)


def _procwriter() -> dict[str, Any]:
    """One writer *process* (not a thread): each batch is pickled to it, in order, one at a time, so
    the database work runs on the other core instead of sharing the reactor's GIL."""
    import asyncio
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from twisted.internet import defer

    import crawler.pipelines as pipelines

    pools: dict[int, Any] = {}

    def open_spider(self: Any) -> None:
        original_open(self)
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        pool.submit(int).result(timeout=60)  # start the worker before the crawl does
        pools[id(self)] = pool

    def to_process(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        owner = getattr(f, "__self__", None)
        if not isinstance(owner, pipelines.StorePipeline) or f.__name__ != "_write" or kwargs:
            return original_defer(f, *args, **kwargs)
        future = pools[id(owner)].submit(write_in_process, owner.db_url, owner.run_id, _BULK_ACTIVE[0], args)
        return defer.Deferred.fromFuture(asyncio.wrap_future(future))

    async def close_spider(self: Any) -> None:
        await original_close(self)
        pools.pop(id(self)).shutdown(wait=True)

    original_open = pipelines.StorePipeline.open_spider
    original_close = pipelines.StorePipeline.close_spider
    original_defer = pipelines.deferToThread
    pipelines.StorePipeline.open_spider = open_spider  # type: ignore[method-assign]
    pipelines.StorePipeline.close_spider = close_spider  # type: ignore[method-assign]
    pipelines.deferToThread = to_process
    return {}


def _nodb() -> dict[str, Any]:
    """The pipeline buffers and 'writes' nothing: what the crawl costs without the database."""
    import crawler.pipelines as pipelines

    def _write(self: Any, probes: list[dict[str, Any]], *_: Any) -> dict[str, int]:
        return {"observations": len(probes), "new_resources": 0}

    pipelines.StorePipeline._write = _write  # type: ignore[method-assign]
    return {}


def _switch() -> dict[str, Any]:
    """Shorter GIL switch interval (0.5 ms instead of 5 ms): the reactor thread waits less for the
    database thread after every socket call."""
    sys.setswitchinterval(0.0005)
    return {}


def _countgen() -> dict[str, Any]:
    """Diagnostic: count Scrapy's generator-return checks and their cache misses (printed at exit)."""
    import atexit

    import scrapy.utils.misc as misc

    original = misc.is_generator_with_return_value
    counts = {"calls": 0, "misses": 0}

    def counted(callable: Any) -> bool:  # noqa: A002 - Scrapy's name
        counts["calls"] += 1
        if callable not in misc._generator_callbacks_cache:
            counts["misses"] += 1
        return original(callable)

    misc.is_generator_with_return_value = counted
    atexit.register(lambda: print(f"generator-return checks: {counts}", file=sys.stderr))
    return {}


# -------------------------------------------------------------------------------------------
# store: a bulk prototype of index.store.record_probes


def _bulk() -> dict[str, Any]:
    """record_probes with set-based statements: one SELECT per table per batch, executemany INSERTs
    (RETURNING ids), bulk UPDATE by primary key, and payment options replaced for the batch at once."""
    import bulkstore

    import crawler.pipelines as pipelines

    pipelines.record_probes = bulkstore.record_probes
    _BULK_ACTIVE[0] = True
    return {}


_BULK_ACTIVE = [False]  # procwriter's worker process writes with bulkstore too when `bulk` is applied


# -------------------------------------------------------------------------------------------
# parser and item hot spots


_DROP = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _fastclean() -> dict[str, Any]:
    """clean_text with a fast path: printable ASCII/Latin text (the usual case) skips the
    per-character unicodedata scan; anything else takes the original path."""
    import index.x402 as x402

    original = x402.clean_text

    def clean_text(value: Any, limit: int, findings: list[dict[str, Any]] | None = None, where: str = "") -> str | None:
        if isinstance(value, str) and value.isascii() and value.isprintable():
            text = value.strip()
            if len(text) > limit:
                text = text[:limit]
                if findings is not None:
                    findings.append(x402.finding("text_truncated", where))
            return text or None
        return original(value, limit, findings, where)

    x402.clean_text = clean_text
    assert unicodedata  # the original path still uses it
    return {}


def _hintcache() -> dict[str, Any]:
    """Memoize the bazaar check (jsonschema validation of info against schema) by the compact JSON of
    (info, schema), 4096 entries. Here every endpoint shares one bazaar, so this is the best case: the
    hit rate on a real crawl is what a service's routes have in common."""
    import json
    from collections import OrderedDict

    import index.hints as hints

    original = hints.check_bazaar
    cache: OrderedDict[str, tuple[str | None, bool]] = OrderedDict()

    def check_bazaar(info: Any, schema: Any) -> tuple[str | None, bool]:
        try:
            key = json.dumps([info, schema], sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            return original(info, schema)
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        result = cache[key] = original(info, schema)
        if len(cache) > 4096:
            cache.popitem(last=False)
        return result

    hints.check_bazaar = check_bazaar
    return {}


# -------------------------------------------------------------------------------------------


VARIANTS: dict[str, Variant] = {
    "serial": Variant("one flush at a time, items queue on a lock (fixes the lost-batch race)", _serial),
    "serialwrite": Variant("one write at a time, batches swapped at once (smallest race fix)", _serialwrite),
    "background": Variant("single background writer; items never wait for the DB", _background),
    "inline": Variant("write on the reactor thread, no worker thread", _inline),
    "switch": Variant("sys.setswitchinterval(0.0005)", _switch),
    "bulk": Variant("set-based record_probes prototype (bench/bulkstore.py)", _bulk),
    "fastclean": Variant("clean_text fast path for printable ASCII", _fastclean),
    "nowarngen": Variant("WARN_ON_GENERATOR_RETURN_VALUE=False (no per-response source parse of the callback)",
                         lambda: {"WARN_ON_GENERATOR_RETURN_VALUE": False}),
    "hintcache": Variant("memoize the bazaar schema check (best case: one schema for all)", _hintcache),
    "batch50": Variant("X402_STORE_BATCH=50", lambda: {"X402_STORE_BATCH": 50}),
    "batch1000": Variant("X402_STORE_BATCH=1000", lambda: {"X402_STORE_BATCH": 1000}),
    "items100": Variant("CONCURRENT_ITEMS=100 (Scrapy's default)", lambda: {"CONCURRENT_ITEMS": 100}),
    "countgen": Variant("diagnostic: count Scrapy's generator-return checks and cache misses", _countgen),
    "procwriter": Variant("one writer process for the database (with `bulk`, it writes with bulkstore)",
                          _procwriter),
    "nodb": Variant("no database writes (upper bound, not a fix)", _nodb, stores=False),
}


def stores(name: str) -> bool:
    """Whether a (combined) variant writes the database, so the bench can check the rows."""
    return all(VARIANTS[part].stores for part in name.split("+") if part)


def apply(name: str) -> dict[str, Any]:
    """Apply every part of `name` (joined by `+`); returns the settings overrides they need."""
    overrides: dict[str, Any] = {}
    for part in name.split("+"):
        if part:
            overrides.update(VARIANTS[part].apply())
    return overrides
