"""Alternative tunings of our crawler, applied inside a bench child only (never to the project).

Each variant monkeypatches the imported project modules and/or returns settings overrides. Combine
them with `+` (`thread+batch50`). `bench/probe.py --variant NAME` runs ours with one; `--variants`
compares them all with ours as is (the project's defaults).

The store variants replace the writer process (`crawler.storewriter`, the default) by a writer
inside the crawl process, to compare the designs: `inline` writes on the reactor thread, `thread`
in a worker thread (the design before the writer process). Both call the same
`crawler.storewriter.write_batch`.

Variants marked `stores=False` do not write the database, so the bench skips its row check for them;
they only bound what the rest of the crawler costs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variant:
    doc: str
    apply: Callable[[], dict[str, Any]]
    stores: bool = True


class InProcessWriter:
    """The WriterProcess interface (submit, close) with the writes done in the crawl process."""

    def __init__(self, db_url: str, run_id: int | None, mode: str) -> None:
        from twisted.internet.defer import DeferredLock

        from index.store.engine import init_db

        self.engine = init_db(db_url) if mode != "nodb" else None
        self.run_id = run_id
        self.mode = mode
        self.lock = DeferredLock()  # one write at a time, as the one writer process

    def submit(self, items: list[dict[str, Any]]) -> Any:
        from twisted.internet import defer
        from twisted.internet.threads import deferToThread

        import crawler.storewriter as storewriter

        if self.mode == "nodb":
            return defer.succeed({"observations": sum(i.get("kind", "probe") == "probe" for i in items),
                                  "new_resources": 0})
        if self.mode == "thread":
            return self.lock.run(deferToThread, storewriter.write_batch, self.engine, items, self.run_id)
        try:
            return defer.succeed(storewriter.write_batch(self.engine, items, self.run_id))
        except Exception:  # noqa: BLE001 - handed back as the Deferred's failure, like the process's errors
            return defer.fail()

    def close(self) -> Any:
        from twisted.internet import defer

        return defer.succeed(None)


def _writer(mode: str) -> Callable[[], dict[str, Any]]:
    def apply() -> dict[str, Any]:
        import crawler.pipelines as pipelines

        pipelines.WriterProcess.start = classmethod(  # type: ignore[method-assign, assignment]
            lambda cls, db_url, run_id: InProcessWriter(db_url, run_id, mode))
        return {}

    return apply


def _noparse() -> dict[str, Any]:
    """Diagnostic: parse each distinct PAYMENT-REQUIRED header once, then reuse the result (the
    callback's parsing becomes a dict lookup): what the rest of the crawl costs."""
    import crawler.spiders.probe as probe

    original = probe.parse_challenge
    seen: dict[Any, Any] = {}

    def parse_challenge(status: int, headers: Any, body: bytes, probed_url: str | None = None) -> Any:
        key = (status, headers.get("payment-required"), body)
        if key not in seen:
            seen.clear()
            seen[key] = original(status, headers, body, probed_url=probed_url)
        return seen[key]

    probe.parse_challenge = parse_challenge
    return {}


def _gctime() -> dict[str, Any]:
    """Diagnostic: time spent in the garbage collector of the crawl process, by generation (printed at exit)."""
    import atexit
    import gc
    import time

    spent = {0: 0.0, 1: 0.0, 2: 0.0}
    runs = {0: 0, 1: 0, 2: 0}
    started: list[float] = []

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.process_time())
        elif started:
            spent[info["generation"]] += time.process_time() - started.pop()
            runs[info["generation"]] += 1

    gc.callbacks.append(callback)
    atexit.register(lambda: print(f"gc: runs {runs}, cpu s {({g: round(v, 3) for g, v in spent.items()})}",
                                  file=sys.stderr))
    return {}


def _memtrace() -> dict[str, Any]:
    """Diagnostic: where the crawl process's memory is (tracemalloc, 1 frame), sampled every 2 s;
    at exit, the RSS timeline and the largest allocation sites of the sample with the most traced
    memory, plus the live Request objects then (printed to stderr). Slows the crawl ~2×."""
    import atexit
    import gc
    import threading
    import time
    import tracemalloc
    from pathlib import Path

    tracemalloc.start(1)
    best: list[Any] = [0, None, 0]  # traced bytes, snapshot, live requests
    timeline: list[str] = []
    started = time.monotonic()

    def rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def sample() -> None:
        current, _ = tracemalloc.get_traced_memory()
        timeline.append(f"{time.monotonic() - started:5.0f}s rss {rss():6.0f} MiB traced {current / 2**20:6.0f} MiB")
        if current > best[0]:
            from scrapy import Request

            best[:] = [current, tracemalloc.take_snapshot(),
                       sum(isinstance(o, Request) for o in gc.get_objects())]

    def loop() -> None:  # a daemon thread: the samples hold the GIL while they run, like the collector
        while True:
            time.sleep(2.0)
            sample()

    def report() -> None:
        print("memtrace timeline:\n  " + "\n  ".join(timeline), file=sys.stderr)
        if best[1] is None:
            return
        print(f"memtrace peak sample: traced {best[0] / 2**20:.0f} MiB, live Requests {best[2]}", file=sys.stderr)
        for stat in best[1].statistics("lineno")[:25]:
            frame = stat.traceback[0]
            print(f"  {stat.size / 2**20:7.1f} MiB {stat.count:8d} blocks  {frame.filename}:{frame.lineno}",
                  file=sys.stderr)

    threading.Thread(target=loop, daemon=True).start()
    atexit.register(report)
    return {}


def _rsswatch() -> dict[str, Any]:
    """Diagnostic: every 0.5 s, the crawl process's RSS, Python's allocated blocks and the requests
    waiting in the scheduler (printed at exit, with the peak): how memory grows, without
    tracemalloc's own overhead."""
    import atexit
    import threading
    import time
    from pathlib import Path

    rows: list[tuple[float, float, int, int]] = []
    started = time.monotonic()
    found: list[Any] = []

    def rss() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    from scrapy.crawler import Crawler

    original_init = Crawler.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:  # the crawler, seen as it is made (gc.get_objects
        original_init(self, *args, **kwargs)  # misses what the crawl's GC policy froze)
        found.append(self)

    Crawler.__init__ = init  # type: ignore[method-assign]

    def queued() -> int:
        engine = getattr(found[0], "engine", None) if found else None
        slot = getattr(engine, "_slot", None)
        return len(slot.scheduler) if slot is not None and slot.scheduler is not None else -1

    def loop() -> None:
        while True:
            time.sleep(0.5)
            try:
                rows.append((time.monotonic() - started, rss(), sys.getallocatedblocks(), queued()))
            except Exception:  # noqa: BLE001 - a diagnostic never fails the crawl
                pass

    def report() -> None:
        step = max(1, len(rows) // 40)
        print("rsswatch: seconds, RSS MiB, allocated blocks, scheduler queue", file=sys.stderr)
        for t, r, b, q in rows[::step]:
            print(f"  {t:6.1f} {r:7.1f} {b:10d} {q:7d}", file=sys.stderr)
        if rows:
            top = max(rows, key=lambda row: row[1])
            print(f"rsswatch peak: {top[1]:.1f} MiB at {top[0]:.1f} s, blocks {top[2]}, queue {top[3]}; "
                  f"max queue {max(row[3] for row in rows)}", file=sys.stderr)

    threading.Thread(target=loop, daemon=True).start()
    atexit.register(report)
    return {}


def _novalidate() -> dict[str, Any]:
    """Diagnostic: the pipeline's contract check (index.store.items.invalid_fields) skipped."""
    import crawler.pipelines as pipelines

    pipelines.invalid_fields = lambda item: []
    return {}


def _handlers(name: str) -> Callable[[], dict[str, Any]]:
    """Diagnostic: Scrapy's own HTTP/1.1 handler instead of ours (no response head/body limits)."""
    def apply() -> dict[str, Any]:
        import crawler.settings as project

        handler = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
        return {"DOWNLOAD_HANDLERS": {**project.DOWNLOAD_HANDLERS, "http": handler, "https": handler}}

    return apply


def _without_mw(path: str) -> Callable[[], dict[str, Any]]:
    def apply() -> dict[str, Any]:
        import crawler.settings as project

        return {"DOWNLOADER_MIDDLEWARES": {**project.DOWNLOADER_MIDDLEWARES, path: None}}

    return apply


def _inflight() -> dict[str, Any]:
    """Diagnostic: requests in the downloader when each probe answer reaches the spider (a histogram,
    printed at exit), and the connections the download handler opened."""
    import atexit
    from collections import Counter

    import crawler.spiders.probe as probe

    seen: Counter[int] = Counter()
    original = probe.ProbeSpider.parse_probe

    def parse_probe(self: Any, response: Any) -> Any:
        seen[len(self.crawler.engine.downloader.active)] += 1
        return original(self, response)

    probe.ProbeSpider.parse_probe = parse_probe  # type: ignore[method-assign]

    def report() -> None:
        total = sum(seen.values()) or 1
        mean = sum(k * v for k, v in seen.items()) / total
        print(f"inflight: mean {mean:.1f} requests in the downloader per answer; "
              f"{sorted(seen.items())[:5]} … {sorted(seen.items())[-5:]}", file=sys.stderr)

    atexit.register(report)
    return {}


def _switch() -> dict[str, Any]:
    """Shorter GIL switch interval (0.5 ms instead of 5 ms)."""
    sys.setswitchinterval(0.0005)
    return {}


VARIANTS: dict[str, Variant] = {
    "inline": Variant("write each batch on the reactor thread (no writer process)", _writer("inline")),
    "thread": Variant("write in a worker thread, one batch at a time (the design before the writer process)",
                      _writer("thread")),
    "nodb": Variant("no database writes at all (upper bound, not a fix)", _writer("nodb"), stores=False),
    "noparse": Variant("diagnostic: a challenge parsed once per distinct header, then reused", _noparse),
    "gctime": Variant("diagnostic: CPU in the garbage collector (printed at exit)", _gctime),
    "memtrace": Variant("diagnostic: tracemalloc samples; the peak's allocation sites (printed at exit)", _memtrace),
    "rsswatch": Variant("diagnostic: RSS, allocated blocks and scheduler queue every 0.5 s (printed at exit)",
                        _rsswatch),
    "switch": Variant("sys.setswitchinterval(0.0005)", _switch),
    "asis": Variant("ours as is, as a named variant (to check for order effects in --variants)", lambda: {}),
    "batch200": Variant("X402_STORE_BATCH=200 (the default before)", lambda: {"X402_STORE_BATCH": 200}),
    "batch50": Variant("X402_STORE_BATCH=50", lambda: {"X402_STORE_BATCH": 50}),
    "batch1000": Variant("X402_STORE_BATCH=1000", lambda: {"X402_STORE_BATCH": 1000}),
    "novalidate": Variant("diagnostic: no contract check of items in the pipeline", _novalidate),
    "scrapyhandler": Variant("diagnostic: Scrapy's HTTP/1.1 handler, without our response limits", _handlers("scrapy")),
    "nossrf": Variant("diagnostic: no SSRF guard middleware", _without_mw("crawler.middlewares.SSRFGuardMiddleware")),
    "noretryafter": Variant("diagnostic: no Retry-After middleware", _without_mw("crawler.middlewares.RetryAfterMiddleware")),
    "norobots": Variant("diagnostic: ROBOTSTXT_OBEY off (the robots middleware not installed)", lambda: {"ROBOTSTXT_OBEY": False}),
    "noretry": Variant("diagnostic: RETRY_ENABLED off", lambda: {"RETRY_ENABLED": False}),
    "noprogress": Variant("diagnostic: no progress snapshots", lambda: {"X402_PROGRESS_INTERVAL": 0}),
    "inflight": Variant("diagnostic: requests in the downloader per answer (printed at exit)", _inflight),
    "items100": Variant("CONCURRENT_ITEMS=100 (Scrapy's default)", lambda: {"CONCURRENT_ITEMS": 100}),
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
