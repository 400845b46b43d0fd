"""A crawl run from Python: `crawl_job` (prepare → crawl → finish, the one home of a run's lifecycle)
and `run_crawl` (one Scrapy crawl inside a run). Used by the CLI.

One crawl per process: Twisted's reactor cannot be restarted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from crawler.discovery import Candidate
from crawler.stats import crawl_ok, summarize
from crawler.discovery.seeds import Sources
from index.gcpolicy import fewer_collections

SETTINGS_MODULE = "crawler.settings"

# Stat keys whose errors are about the world, not about us (they never fail a crawl).
_BENIGN_ERROR_PREFIXES = ("robotstxt/",)


def crawl_settings(db_url: str, allow_private: bool = False, overrides: dict[str, Any] | None = None) -> Any:
    """Project settings, found from any working directory, with the run's values on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", SETTINGS_MODULE)
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    values: dict[str, Any] = {"X402_DB_URL": db_url, "X402_ALLOW_PRIVATE": allow_private}
    values.update(overrides or {})
    settings.setdict(values, priority="cmdline")
    return settings


# After Ctrl-C, how long in-flight downloads may take to finish before the crawl stops without them
# (what was probed is stored first; what was not stays in the run's frontier for the next crawl).
STOP_GRACE_S = 2.0


def _interruptible_process(settings: Any, on_stop: Callable[[], None] | None) -> Any:
    """Scrapy's process, whose first Ctrl-C (or SIGTERM) also tells `on_stop` at once and, if a slow
    download still holds the crawl STOP_GRACE_S later, stores what was probed and stops the reactor.
    A second Ctrl-C stops at once, as in Scrapy."""
    from scrapy.crawler import AsyncCrawlerProcess

    class Process(AsyncCrawlerProcess):  # type: ignore[misc]
        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            super()._signal_shutdown(signum, frame)
            if on_stop is not None:  # printing is not safe inside a signal handler: the reactor does it
                reactor.callFromThread(on_stop)
            reactor.callFromThread(reactor.callLater, STOP_GRACE_S, self._hurry)

        def _hurry(self) -> None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self._store_and_stop())

        async def _store_and_stop(self) -> None:
            from crawler.pipelines import StorePipeline

            for crawler in list(self.crawlers):
                engine = crawler.engine
                if engine is None or engine.scraper is None:
                    continue
                for component in getattr(engine.scraper.itemproc, "middlewares", ()):
                    if isinstance(component, StorePipeline) and component.writer is not None:
                        await component.close_spider()
            self._stop_reactor()

    return Process(settings)


def run_crawl(
    candidates: Iterable[Candidate],
    facilitators: list[str],
    db_url: str,
    *,
    run_id: int,
    allow_private: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    on_stop: Callable[[], None] | None = None,
    origins: list[str] | None = None,
    known: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Probe candidates (and everything the facilitators list), store observations, return the summary.
    `candidates` is iterated once, as the crawl goes (index.schedule.due.Candidates reads them from the store).

    `run_id`: the crawl run the observations belong to (begun and finished by `crawl_job`). `known`:
    (url, method) of resources not to probe in this run: discovery only records them as sightings.
    `on_stop` is called once when Ctrl-C or SIGTERM asks the crawl to stop."""
    import signal

    extra = dict(overrides or {})
    extra["X402_CRAWL_RUN_ID"] = run_id
    settings = crawl_settings(db_url, allow_private, extra)
    process = _interruptible_process(settings, on_stop)
    # Scrapy filters by LOG_LEVEL in its handler only, so every DEBUG line (two per response) is built
    # and then dropped; at the logger, records below LOG_LEVEL are never built.
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))
    crawler = process.create_crawler("probe")
    if progress is not None:
        from crawler.extensions import progress_snapshot

        # Connected to the crawler, never put in the settings (Scrapy deep-copies those; see extensions.py).
        def on_snapshot(snapshot: dict[str, Any]) -> None:
            progress(snapshot)

        crawler.signals.connect(on_snapshot, signal=progress_snapshot, weak=False)
    process.crawl(crawler, candidates=candidates, facilitators=facilitators, origins=list(origins or []),
                  known=list(known or []))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with fewer_collections():
            process.start()
    finally:
        # Scrapy leaves its shutdown handlers installed: give SIGINT and SIGTERM back to what they were
        # (Ctrl-C and `kill` must still stop a demo that serves after its crawl).
        for sig, handler in handlers.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    stats = crawler.stats.get_stats()
    summary = summarize(stats)
    summary["run_id"] = run_id
    summary["discovery"] = bool(facilitators or origins)
    summary["interrupted"] = stats.get("finish_reason") in (None, "shutdown")
    summary["no_network"] = no_network(stats)
    return summary


_DNS_ERRORS = ("DNSLookupError", "CannotResolveHostError")


def no_network(stats: dict[str, Any]) -> bool:
    """True when nothing answered and every download failed on a name lookup: the machine has no
    network (or no DNS), which is about us, not about the endpoints."""
    prefix = "downloader/exception_type_count/"
    failures = {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix) and v}
    return (not stats.get("downloader/response_count") and bool(failures)
            and all(name.endswith(_DNS_ERRORS) for name in failures))


@dataclass
class CrawlJob:
    """What one `crawl` did: its plan, the crawl's summary (None when nothing was due), whether it
    completed, and (when it did) what changed."""

    plan: Any  # index.schedule.runs.CrawlPlan
    summary: dict[str, Any] | None
    ok: bool
    counts: dict[str, int] = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)


def crawl_job(db_url: str, sources: Sources, *, everything: bool = False, limit: int | None = None,
              every: timedelta | None = None, allow_private: bool = False, overrides: dict[str, Any] | None = None,
              progress: Callable[[dict[str, Any]], None] | None = None, on_stop: Callable[[], None] | None = None,
              on_plan: Callable[[Any], None] | None = None) -> CrawlJob:
    """One crawl run, the one home of its lifecycle: prepare (resume an unfinished run's frontier, or
    plan what is due) → crawl → finish (schedule, changes). A crawl that did not complete (Ctrl-C,
    lost results) leaves its run open: the next `crawl_job` resumes it. `on_plan` sees the plan before
    the crawl starts."""
    from index.schedule.rules import DEFAULT_INTERVAL
    from index.schedule.runs import change_lines, finish, prepare
    from index.store.engine import init_db

    every = every or DEFAULT_INTERVAL
    engine = init_db(db_url)
    plan = prepare(engine, seeds=sources.candidates, facilitators=sources.facilitators, origins=sources.origins,
                   explicit=sources.explicit, everything=everything, limit=limit)
    if on_plan is not None:
        on_plan(plan)
    if not plan.candidates and not plan.facilitators and not plan.origins:
        finish(engine, plan, {"probed": 0}, every)
        return CrawlJob(plan, None, True)
    summary = run_crawl(plan.candidates, plan.facilitators, db_url, run_id=plan.run_id, allow_private=allow_private,
                        overrides=overrides, progress=progress, on_stop=on_stop, origins=plan.origins, known=plan.known)
    if not crawl_ok(summary):
        return CrawlJob(plan, summary, False)
    counts = finish(engine, plan, summary, every)
    return CrawlJob(plan, summary, True, counts, change_lines(engine, plan.run_id))
