"""The crawl's report: the names of the `x402/*` stat keys our components count under, and the
readings of them, `snapshot()` while a crawl runs, `summarize()` and `crawl_ok()` when it is over.
Crawl stats are the one record of what a crawl did; nothing else parses them."""

from __future__ import annotations

import time
from typing import Any

# probes: one outcome per candidate (the suffix is an index.probe.outcomes.Outcome value), one per attempt
OUTCOME = "x402/outcome/"
ATTEMPTS = "x402/attempts"
REATTEMPTS = "x402/probe/reattempts"
# candidates
QUEUED = "x402/candidates/queued"
BAD_URL = "x402/candidates/bad_url"
DUPLICATE = "x402/candidates/duplicate"
CROSS_ORIGIN_DROPPED = "x402/candidates/cross_origin_dropped"
# facilitator discovery pages
DISCOVERY_PAGES = "x402/discovery/pages"
DISCOVERY_INVALID_JSON = "x402/discovery/invalid_json"
DISCOVERY_ITEMS = "x402/discovery/items"
DISCOVERY_FAILED = "x402/discovery/failed"
# origin discovery (homepages, well-known files, OpenAPI, llms.txt, docs)
ORIGINS_DISCOVERED = "x402/origins/discovered"
ORIGIN_FILES = "x402/origins/files/"  # + "<page kind>/<http status>"
ORIGINS_FAILED = "x402/origins/failed/"  # + page kind
# the store
STORED = "x402/store/observations"
NEW_RESOURCES = "x402/store/new_resources"
STORE_BATCHES = "x402/store/batches"
STORE_FAILED = "x402/store/failed"
STORE_WAITS = "x402/store/waits"
# items dropped by the pipeline's validation: + the first field found wrong (spidermon's habit)
VALIDATION = "x402/validation/"


def outcomes(stats: dict[str, Any]) -> dict[str, int]:
    """Probes by outcome."""
    return {k[len(OUTCOME):]: v for k, v in stats.items() if k.startswith(OUTCOME)}


def snapshot(stats: dict[str, Any], started: float) -> dict[str, Any]:
    """Plain counts of a running crawl: done, queued, by outcome, rate (`started`: time.monotonic())."""
    by_outcome = outcomes(stats)
    done = sum(by_outcome.values())
    elapsed = max(time.monotonic() - started, 1e-6)
    return {"done": done, "queued": stats.get(QUEUED, 0), "outcomes": by_outcome, "rate": done / elapsed,
            "elapsed": elapsed}


def summarize(stats: dict[str, Any]) -> dict[str, Any]:
    """The crawl report: counts by outcome and the few numbers the CLI prints."""
    by_outcome = outcomes(stats)
    probed = sum(by_outcome.values())
    paid = by_outcome.get("paid", 0)
    free = by_outcome.get("free", 0)
    return {
        "probed": probed,
        "paid": paid,
        "free": free,
        "failed": probed - paid - free,
        "new": stats.get(NEW_RESOURCES, 0),
        "queued": stats.get(QUEUED, 0),
        "attempts": stats.get(ATTEMPTS, 0),
        "stored": stats.get(STORED, 0),
        "outcomes": dict(sorted(by_outcome.items())),
        "discovery_pages": stats.get(DISCOVERY_PAGES, 0),
        "discovery_failed": stats.get(DISCOVERY_FAILED, 0),
        "finish_reason": stats.get("finish_reason"),
        "errors": stats.get("log_count/ERROR", 0),
        "spider_exceptions": sum(v for k, v in stats.items() if k.startswith("spider_exceptions/")),
    }


def crawl_ok(summary: dict[str, Any]) -> bool:
    """A crawl failed only when it did not finish or lost results (every queued candidate ends in one
    outcome, every attempt in one stored row, no callback crashed); unreachable endpoints are data."""
    return (summary["finish_reason"] == "finished" and summary["stored"] == summary["attempts"]
            and summary["probed"] == summary["queued"] and not summary["spider_exceptions"])
