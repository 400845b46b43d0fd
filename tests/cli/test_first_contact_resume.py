"""Ctrl-C during a crawl typed in a terminal: "stopping…" at once, out within a few seconds even with
a download that never answers, what was probed stored; the next `crawl` (no flags at all) resumes the
run's own frontier and probes exactly the rest, not the default seeds."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.support.pty_harness import Terminal, cli_argv

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

# One slot busy with a request that never answers, the other probing one resource at a time.
SLOW = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.4", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
        "-s", "RETRY_ENABLED=False", "-s", "X402_DISCOVER_ORIGINS=False", "-s", "X402_PROGRESS_INTERVAL=0.2"]


def _finals(db: Path) -> list[tuple[int, str, str]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT o.crawl_run_id, r.url, r.method FROM observations o JOIN resources r ON r.id = o.resource_id "
                           "WHERE o.final ORDER BY o.id").fetchall()


def test_ctrl_c_stops_at_once_and_the_next_crawl_probes_exactly_the_rest(fleet: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    silent = next(r for r in fleet["resources"] if r["url"].endswith("/silent"))
    well_behaved = [s for s in fleet["seeds"] if "/silent" not in s and s.split()[-1].startswith(tuple(fleet["origins"][k] for k in ("weather", "ai", "chain")))]
    seeds = [arg for s in [f"GET {silent['url']}", *well_behaved] for arg in ("--seed", s)]
    argv = cli_argv("crawl", "--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", *seeds,
                    "--facilitator", fleet["facilitator"], *SLOW, "-s", "DOWNLOAD_TIMEOUT=120")
    with Terminal(argv, cwd=tmp_path) as term:
        term.expect(r"│ ([3-9]|\d\d+) / \d+", timeout=90)  # the live display: a few probed, more queued
        term.ctrl_c()
        asked = time.monotonic()
        term.expect("stopping…", timeout=2)
        code = term.wait(30)
        took = time.monotonic() - asked
        screen = term.screen
    assert code == 130, screen
    assert took < 6, (took, screen)  # Scrapy alone would wait for the silent download (120 s)
    assert re.search(r"stopped: crawl run 1 probed \d+ of \d+ queued", screen), screen
    assert "Traceback" not in screen
    first = _finals(db)
    assert first and {run for run, _, _ in first} == {1}
    probed_first = {(u, m) for _, u, m in first}
    assert not any("/silent" in u for u, _ in probed_first)  # in flight when stopped: not probed

    # no flags: the run's own frontier, not data/seeds.yaml (whose hosts would not even resolve here)
    resumed = run_cli("crawl", "--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", *SLOW,
                      "-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_TIMEOUT=1", cwd=tmp_path)
    assert f"resuming crawl run 1 ({len(probed_first)} resources already probed)" in resumed.stderr, resumed.stderr
    after = _finals(db)
    assert {run for run, _, _ in after} == {1}  # the same run, finished now
    second = [(u, m) for _, u, m in after[len(first):]]
    assert len(second) == len(set(second)) and not set(second) & probed_first  # nothing probed twice
    assert all(u.startswith("http://127.0.0.1:") for u, _ in second)  # no default seed
    assert any("/silent" in u for u, _ in second)

    # exactly the rest: together, what one uninterrupted crawl of the same sources probes
    whole = tmp_path / "whole.db"
    run_cli("crawl", "--db", f"sqlite:///{whole}", "--allow-host", "127.0.0.1", "--quiet", *seeds,
            "--facilitator", fleet["facilitator"], *SLOW, "-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_TIMEOUT=1",
            cwd=tmp_path)
    assert probed_first | set(second) == {(u, m) for _, u, m in _finals(whole)}
    with sqlite3.connect(db) as con:
        finished, frontier = con.execute("SELECT finished_at IS NOT NULL, frontier FROM crawl_runs").fetchall()[0]
    assert finished == 1 and frontier in (None, "null")  # a finished run keeps no frontier
