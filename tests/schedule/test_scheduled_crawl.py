"""The scheduled crawl end to end on a fleet of our own (its state is changed between crawls): two
crawls with a price change, a removal and an outage injected between them; the change report, the
runs listing, the history on the records; the due-queue; resuming a crawl killed with SIGKILL; the
`run --every` loop stopping on SIGTERM between steps."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from index.demo.server import DemoFleet
from tests.conftest import FAST, ROOT, run_cli

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

CASES = {"price": "drift", "removal": "body_only", "outage": "cheap_first"}


@pytest.fixture(scope="module")
def own_fleet() -> Iterator[dict[str, Any]]:
    with DemoFleet() as running:
        yield running.manifest


def _url(fleet: dict[str, Any], case: str) -> str:
    return str(fleet["buyer"]["resources"][CASES[case]]["url"])


def _crawl(db: str, seeds: list[str], cwd: Path, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    args = [a for s in seeds for a in ("--seed", s)]
    return run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", *args, *FAST, *extra, cwd=cwd, check=check)


def test_two_crawls_report_a_price_change_a_removal_and_an_outage(own_fleet: dict[str, Any], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    seeds = [_url(own_fleet, c) for c in CASES]
    terms = own_fleet["buyer"]["terms_url"]
    httpx.post(own_fleet["buyer"]["reset_url"], timeout=5)
    try:
        first = _crawl(db, seeds, tmp_path)
        assert "changes: added 3" in first.stdout
        httpx.post(terms, json={"path": "/v2/drift", "amount": "2000"}, timeout=5).raise_for_status()
        httpx.post(terms, json={"path": "/v2/body-only", "status": 404}, timeout=5).raise_for_status()
        httpx.post(terms, json={"path": "/v2/cheap-first", "status": 503}, timeout=5).raise_for_status()
        second = _crawl(db, seeds, tmp_path)
    finally:
        httpx.post(own_fleet["buyer"]["reset_url"], timeout=5)
    report = second.stdout
    assert "changes: price changed 1, went down 1, removed 1" in report, report
    assert f"price_changed   GET {seeds[0]}" in report and "1000" in report and "2000" in report
    assert f"removed         GET {seeds[1]}  paid → not_found" in report
    assert f"went_down       GET {seeds[2]}  paid → server_error" in report

    runs = json.loads(run_cli("runs", "--db", db, "--format", "json", cwd=tmp_path).stdout)
    assert [r["changes"]["added"] for r in runs] == [0, 3]
    assert runs[0]["changes"] | {} == {"added": 0, "price_changed": 1, "pay_to_changed": 0, "went_down": 1,
                                       "recovered": 0, "removed": 1, "retired": 0}
    assert all(r["finished_at"] for r in runs)

    out = tmp_path / "public"
    run_cli("build", "--db", db, "--out", str(out), "--quiet", "--no-search", cwd=tmp_path)
    records = {json.loads(line)["url"]: json.loads(line) for line in (out / "catalog.jsonl").read_text().splitlines()}
    drift, gone, down = (records[s] for s in seeds)
    assert [c["field"] for c in drift["terms_changes"]] == ["price"]
    assert drift["price_usd"] == 0.002 and "price_changed" in [n["code"] for n in drift["risks"]]
    w24 = {w["window"]: w for w in down["health"]["windows"]}["24h"]
    assert (w24["samples"], w24["up"], w24["uptime_pct"]) == (2, 1, 50.0)
    assert down["trust_tier"] == "unreachable" and gone["status"] == "not_found"
    feed = json.loads((out / "changes.json").read_text())["changes"]
    kinds = {(c["kind"], c["url"]) for c in feed}
    assert {("price", seeds[0]), ("removed", seeds[1]), ("went_down", seeds[2])} <= kinds
    assert {("added", s) for s in seeds} <= kinds
    atom = (out / "changes.atom").read_text()
    assert atom.count("<entry>") == len(feed) and "paid → not_found" in atom and "paid → server_error" in atom


def test_the_due_queue_leaves_recent_resources_alone(own_fleet: dict[str, Any], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    seeds = [_url(own_fleet, "price")]
    _crawl(db, seeds, tmp_path)
    again = _crawl(db, [], tmp_path, "--seeds-file", str(_empty_seeds(tmp_path)))
    assert "probed 0" in again.stdout or "nothing due" in again.stdout
    forced = _crawl(db, [], tmp_path, "--all", "--seeds-file", str(_empty_seeds(tmp_path)))
    assert "probed 1" in forced.stdout


def _empty_seeds(folder: Path) -> Path:
    path = folder / "empty.yaml"
    path.write_text("facilitators: []\nresources: []\norigins: []\n")
    return path


def _run_rows(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    con = sqlite3.connect(db_path)
    try:
        return int(con.execute("SELECT COUNT(*) FROM crawl_runs").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def _observations(db_path: Path) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(db_path)
    try:
        return con.execute("SELECT resource_id, crawl_run_id, attempt, final FROM observations").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        con.close()


@pytest.mark.parametrize("kill_after", [0, 1, 4])
def test_a_crawl_killed_with_sigkill_resumes_without_duplicates(own_fleet: dict[str, Any], tmp_path: Path, kill_after: int) -> None:
    """Kill the crawl (and its writer) once `kill_after` observations are stored, start it again:
    it finishes the remaining work, no attempt is stored twice, no resource is half written."""
    db_path = tmp_path / "c.db"
    db = f"sqlite:///{db_path}"
    seeds = [f"{r['method']} {r['url']}" for r in own_fleet["resources"] if r["paid"]]
    seed_args = [a for s in seeds for a in ("--seed", s)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("X402_INDEX_DB", None)
    # one probe at a time and a batch per item, so the kill lands between stored probes
    slow = ["-s", "CONCURRENT_REQUESTS=1", "-s", "X402_STORE_BATCH=1", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.2"]
    proc = subprocess.Popen([sys.executable, "-m", "index.cli.app", "crawl", "--db", db, "--allow-host", "127.0.0.1",
                             "--quiet", *seed_args, *slow], cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(_observations(db_path)) < kill_after and proc.poll() is None:
        time.sleep(0.05)
    while time.monotonic() < deadline and not _run_rows(db_path):  # the run has begun
        time.sleep(0.05)
    assert proc.poll() is None, "the crawl finished before the kill"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stored_before = len(_observations(db_path))

    resumed = run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", *seed_args, *FAST, cwd=tmp_path)
    assert "resuming crawl run 1" in resumed.stderr, resumed.stderr
    assert stored_before >= kill_after
    rows = _observations(db_path)
    finals = [(rid, run) for rid, run, _attempt, final in rows if final]
    assert len(finals) == len(set(finals)), "a probe stored twice in one run"
    con = sqlite3.connect(db_path)
    try:
        runs = con.execute("SELECT id, finished_at FROM crawl_runs").fetchall()
        assert len(runs) == 1 and runs[0][1] is not None, runs  # the killed run was resumed and finished
        probed = {url for (url,) in con.execute(
            "SELECT DISTINCT r.url FROM observations o JOIN resources r ON r.id = o.resource_id WHERE o.final")}
        assert {s.split(" ", 1)[1] for s in seeds} <= probed  # every seed, and what its origins listed
        half = con.execute("SELECT COUNT(*) FROM resources r WHERE r.last_good_observation_id IS NOT NULL AND "
                           "NOT EXISTS (SELECT 1 FROM payment_options o WHERE o.resource_id = r.id)").fetchone()[0]
        assert half == 0
        assert con.execute("SELECT COUNT(*) FROM observations o LEFT JOIN resources r ON r.id = o.resource_id "
                           "WHERE r.id IS NULL").fetchone()[0] == 0
    finally:
        con.close()


def test_run_loop_stops_on_sigterm_between_steps(own_fleet: dict[str, Any], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "index.cli.app", "run", "--every", "1h", "--db", db, "--out", str(tmp_path / "public"),
                             "--allow-host", "127.0.0.1", "--seed", _url(own_fleet, "price"), *FAST[:2]],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (tmp_path / "public" / "index.json").exists():
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "crawl finished with exit code 0" in stdout and "build finished with exit code 0" in stdout
    assert "stopped after 1 cycle(s)" in stdout


def test_status_changes_reach_the_record_and_the_feeds(own_fleet: dict[str, Any], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    seeds = [_url(own_fleet, "outage")]
    httpx.post(own_fleet["buyer"]["reset_url"], timeout=5)
    try:
        _crawl(db, seeds, tmp_path)
        httpx.post(own_fleet["buyer"]["terms_url"], json={"path": "/v2/cheap-first", "status": 503}, timeout=5).raise_for_status()
        _crawl(db, seeds, tmp_path)
        httpx.post(own_fleet["buyer"]["reset_url"], timeout=5)
        third = _crawl(db, seeds, tmp_path)
    finally:
        httpx.post(own_fleet["buyer"]["reset_url"], timeout=5)
    assert "changes: recovered 1" in third.stdout
    out = tmp_path / "public"
    run_cli("build", "--db", db, "--out", str(out), "--quiet", "--no-search", cwd=tmp_path)
    [record] = [json.loads(line) for line in (out / "catalog.jsonl").read_text().splitlines()]
    assert [(c["kind"], c["before"], c["after"]) for c in record["status_changes"]] == [
        ("went_down", "paid", "server_error"), ("recovered", "server_error", "paid")]
    feed = json.loads((out / "changes.json").read_text())["changes"]
    assert [c["kind"] for c in feed][:2] == ["recovered", "went_down"]
    atom = (out / "changes.atom").read_text()
    assert "went_down: " in atom and "recovered: " in atom and "server_error → paid" in atom
