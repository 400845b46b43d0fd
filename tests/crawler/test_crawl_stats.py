"""crawler.stats: the one reader of the x402/* crawl stats (the live snapshot and the final report)."""

from __future__ import annotations

import time

from crawler import stats

STATS = {
    stats.OUTCOME + "paid": 5, stats.OUTCOME + "free": 2, stats.OUTCOME + "timeout": 1, stats.QUEUED: 8,
    stats.ATTEMPTS: 10, stats.STORED: 10, stats.NEW_RESOURCES: 7, stats.DISCOVERY_PAGES: 3, stats.DISCOVERY_FAILED: 1,
    "finish_reason": "finished", "log_count/ERROR": 0, stats.VALIDATION + "url": 1,
}


def test_the_report_and_the_live_snapshot_read_the_same_outcomes() -> None:
    summary = stats.summarize(STATS)
    assert summary["outcomes"] == {"free": 2, "paid": 5, "timeout": 1}
    assert (summary["probed"], summary["paid"], summary["free"], summary["failed"]) == (8, 5, 2, 1)
    assert (summary["queued"], summary["attempts"], summary["stored"], summary["new"]) == (8, 10, 10, 7)
    snap = stats.snapshot(STATS, time.monotonic())
    assert snap["outcomes"] == {"paid": 5, "free": 2, "timeout": 1}
    assert (snap["done"], snap["queued"]) == (8, 8)


def test_a_crawl_is_ok_only_when_every_result_was_kept() -> None:
    assert stats.crawl_ok(stats.summarize(STATS))
    lost_row = {**STATS, stats.STORED: 9}
    assert not stats.crawl_ok(stats.summarize(lost_row))
    unfinished = {**STATS, "finish_reason": "shutdown"}
    assert not stats.crawl_ok(stats.summarize(unfinished))
    crashed = {**STATS, "spider_exceptions/KeyError": 1}
    assert not stats.crawl_ok(stats.summarize(crashed))
    never_probed = {**STATS, stats.QUEUED: 9}
    assert not stats.crawl_ok(stats.summarize(never_probed))


def test_the_old_homes_still_answer_for_callers_not_moved_yet() -> None:
    from crawler import run

    assert run.summarize is stats.summarize and run.crawl_ok is stats.crawl_ok  # crawl_job reads them from stats
