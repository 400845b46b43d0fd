"""A worker: one Scrapy process per run on the shared frontier, writing to the shared database.

    python -m crawler.distributed.worker REDIS_URL DB_URL RUN_ID [--allow-private] [--allow-host H]...

`x402-index worker` runs this for each run the coordinator opens. The SSRF guard's exceptions
(`--allow-private`, `--allow-host`) are the worker's own flags, never read from Redis; of the
settings a coordinator passes, only politeness and limits are taken (ALLOWED_SETTINGS).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

from crawler.distributed.frontier import Frontier, connect, current_run, new_worker_id
from crawler.stats import outcomes

# Settings a coordinator may choose for the run (politeness, limits, logging, our crawl knobs);
# never the SSRF guard, the database or any component (Redis is not trusted to load code).
ALLOWED_SETTINGS = ("CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_DELAY", "DOWNLOAD_TIMEOUT",
                    "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE", "AUTOTHROTTLE_ENABLED", "AUTOTHROTTLE_START_DELAY",
                    "AUTOTHROTTLE_MAX_DELAY", "AUTOTHROTTLE_TARGET_CONCURRENCY", "RETRY_TIMES", "LOG_LEVEL",
                    "ROBOTSTXT_OBEY", "X402_RETRY_AFTER_TIMES", "X402_RETRY_AFTER_MAX", "X402_STORE_BATCH",
                    "X402_RAW_BODY_LIMIT", "X402_DISCOVER_ORIGINS", "X402_DOCS_PAGES", "X402_DISCOVERY_PAGE_SIZE")
# Seconds a worker's heartbeat lives: a worker silent this long is dead and its leases go back.
WORKER_TTL = 15.0
# Seconds between a waiting request's tries for a per-host slot (jittered).
SLOT_POLL = 0.05
# Stats a worker reports to the coordinator (summed over the fleet in the run's report).
REPORTED_PREFIXES = ("x402/", "log_count/ERROR", "spider_exceptions", "finish_reason", "item_scraped_count")


def allowed(requested: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (requested or {}).items() if k in ALLOWED_SETTINGS}


def reported(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in stats.items() if k.startswith(REPORTED_PREFIXES)}


def work(redis_url: str, db_url: str, run_id: int, *, allow_private: bool = False, allow_hosts: list[str] | None = None,
         worker_id: str | None = None, ttl: float = WORKER_TTL) -> dict[str, Any]:
    """Crawl run `run_id` from the frontier until the coordinator says it is done; the worker's stats."""
    from scrapy import signals
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import AsyncCrawlerProcess
    from twisted.internet import task

    from crawler.distributed.spider import DistributedProbeSpider
    from crawler.run import crawl_settings
    from index.gcpolicy import fewer_collections

    frontier = Frontier(connect(redis_url), run_id, worker_id or new_worker_id())
    meta = frontier.meta() or {}
    overrides = allowed(meta.get("settings") or {})
    overrides["X402_CRAWL_RUN_ID"] = run_id
    if allow_hosts:
        overrides["X402_ALLOW_HOSTS"] = list(allow_hosts)
    settings = crawl_settings(db_url, allow_private, overrides)
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    pipelines.update({"crawler.pipelines.StorePipeline": None, "crawler.distributed.components.FrontierStorePipeline": 500})
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["crawler.distributed.components.HostSlots"] = 990  # next to the downloader: held only while fetching
    settings.setdict({"SCHEDULER": "crawler.distributed.components.FrontierScheduler", "ITEM_PIPELINES": pipelines,
                      "DOWNLOADER_MIDDLEWARES": middlewares, "X402_SLOT_POLL": SLOT_POLL,
                      "CONCURRENT_ITEMS": 1}, priority="cmdline")  # leases rely on one output element at a time
    # An idle engine asks its scheduler for work every 5 s; other workers fill the shared queue at any
    # time, so this process (which runs only this crawl) asks every 0.2 s.
    ExecutionEngine._SLOT_HEARTBEAT_INTERVAL = 0.2
    process = AsyncCrawlerProcess(settings)
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    crawler = process.create_crawler(DistributedProbeSpider)
    frontier.heartbeat(ttl)  # registered before it takes any work: the coordinator counts its leases
    beat = task.LoopingCall(lambda: frontier.heartbeat(ttl, {**reported(crawler.stats.get_stats()),
                                                             "leases_held": len(crawler.spider.leases)}))

    def opened() -> None:
        beat.start(min(1.0, ttl / 4), now=True)

    def closed() -> None:
        if beat.running:
            beat.stop()

    crawler.signals.connect(opened, signal=signals.spider_opened, weak=False)
    crawler.signals.connect(closed, signal=signals.spider_closed, weak=False)
    process.crawl(crawler, frontier=frontier)
    with fewer_collections():
        process.start()
    stats = reported(crawler.stats.get_stats())
    frontier.leave(stats)
    return stats


def _die_with_parent() -> None:
    """In the child: SIGKILL when the worker loop dies, so killing a worker kills its crawl (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def serve(redis_url: str, db_url: str, *, once: bool = False, allow_private: bool = False,
          allow_hosts: list[str] | None = None, ttl: float = WORKER_TTL, stop: threading.Event | None = None,
          say: Callable[[str], None] = print, poll: float = 0.5) -> int:
    """Work on every run the coordinator opens until `stop` is set; with `once`, on the first one only,
    in this process. Each run otherwise gets a child process (a crawl needs a fresh reactor); a child
    that dies while its run is open is started again. Returns the number of runs worked on."""
    stop = stop or threading.Event()
    server = connect(redis_url)
    if once:  # the crawl runs in this process: load it now, not when the run has begun
        import scrapy.crawler  # noqa: F401

        import crawler.distributed.components  # noqa: F401
        import crawler.distributed.spider  # noqa: F401
    say("waiting for a run")
    worked, last = 0, None
    while not stop.is_set():
        run_id = current_run(server)
        if run_id is None or run_id == last:
            stop.wait(poll)
            continue
        say(f"run {run_id}: working")
        if once:
            stats = work(redis_url, db_url, run_id, allow_private=allow_private, allow_hosts=allow_hosts, ttl=ttl)
            say(f"run {run_id}: done · " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes(stats).items())))
            return 1
        args = [sys.executable, "-m", "crawler.distributed.worker", redis_url, db_url, str(run_id), "--ttl", str(ttl)]
        args += ["--allow-private"] if allow_private else []
        for host in allow_hosts or []:
            args += ["--allow-host", host]
        child = subprocess.Popen(args, preexec_fn=_die_with_parent)  # noqa: S603,PLW1509 - our own module
        while child.poll() is None:
            if stop.wait(0.5):
                child.terminate()  # Scrapy stops gracefully: what it fetched is stored, the rest goes back
                child.wait()
        if Frontier(server, run_id).done() or current_run(server) != run_id:
            last = run_id
            worked += 1
            say(f"run {run_id}: finished (exit code {child.returncode})")
        elif not stop.is_set():
            say(f"run {run_id}: worker exited with code {child.returncode} while the run is open; starting again")
            stop.wait(1.0)
    return worked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="crawl one run of the shared frontier")
    parser.add_argument("redis")
    parser.add_argument("db")
    parser.add_argument("run_id", type=int)
    parser.add_argument("--allow-private", action="store_true")
    parser.add_argument("--allow-host", action="append", default=[])
    parser.add_argument("--ttl", type=float, default=WORKER_TTL)
    args = parser.parse_args(argv)
    stats = work(args.redis, args.db, args.run_id, allow_private=args.allow_private, allow_hosts=args.allow_host, ttl=args.ttl)
    return 0 if not stats.get("spider_exceptions/count") else 1


if __name__ == "__main__":
    sys.exit(main())
