"""Start a probe crawl from Python (AsyncCrawlerProcess); used by the CLI.

One call per process: Twisted's reactor cannot be restarted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from crawler.discovery import Candidate
from crawler.stats import crawl_ok, summarize  # noqa: F401 - crawl_ok: index.cli imports it from here
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


def run_crawl(
    candidates: list[Candidate],
    facilitators: list[str],
    db_url: str,
    *,
    allow_private: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    origins: list[str] | None = None,
    run_id: int | None = None,
    known: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Probe candidates (and everything the facilitators list), store observations, return the summary.

    `run_id`: the crawl run the observations belong to (index.schedule.changes.begin_run; the caller finishes
    it). Without one, a run is begun and finished here. `known`: (url, method) of resources not to
    probe in this run: discovery only records them as sightings."""
    from scrapy.crawler import AsyncCrawlerProcess

    from index.schedule.changes import begin_run, finish_run
    from index.store.write import init_db

    engine = init_db(db_url)
    own_run = run_id is None
    if run_id is None:
        run_id = begin_run(engine, "full")
    extra = dict(overrides or {})
    extra["X402_CRAWL_RUN_ID"] = run_id
    settings = crawl_settings(db_url, allow_private, extra)
    process = AsyncCrawlerProcess(settings)
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
    with fewer_collections():
        process.start()
    stats = crawler.stats.get_stats()
    summary = summarize(stats)
    summary["run_id"] = run_id
    summary["discovery"] = bool(facilitators or origins)
    if own_run:
        summary["changes"] = finish_run(engine, run_id, summary)
    return summary
