"""A crawl spread over worker processes (crawler.distributed), with a real redis-server
(tests/support/redisserver.py), a real PostgreSQL (tests/support/pgcluster.py) and workers as subprocesses of the
real CLI: the same catalog as one process, per-host limits across the fleet, a worker killed with
SIGKILL mid-run, Redis restarted mid-run (with its data, and empty)."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, TIMEOUT, run_cli
from tests.support.pgcluster import fresh_database
from tests.support.redisserver import RedisServer, find_redis_server, throwaway_redis
from tests.catalog.test_catalog_fleet import _placeholders, normalize

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    binary = find_redis_server()
    if binary is None:
        pytest.skip("no redis-server binary on this machine (`make test` installs Debian's redis-server)")
    with throwaway_redis(binary) as server:
        yield server


@pytest.fixture
def frontier(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The module's redis-server, empty, running (a test may have restarted it)."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    redis.Redis.from_url(redis_server.url).flushall()
    yield redis_server


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("X402_INDEX_DB", None)
    return env


def start_workers(n: int, redis_url: str, db: str, logs: Path, ttl: float = 3.0) -> list[subprocess.Popen[str]]:
    """n `worker --once` processes, returned when each has loaded the crawl and waits for a run (so
    all of them take part, however slowly this machine starts processes)."""
    logs.mkdir(parents=True, exist_ok=True)
    workers = [subprocess.Popen([sys.executable, "-m", "index.cli.app", "worker", "--once", "--redis", redis_url, "--db", db,
                                 "--allow-host", "127.0.0.1", "--ttl", str(ttl)], env=_env(), cwd=ROOT, text=True,
                                stdout=(logs / f"w{i}.out").open("w"), stderr=(logs / f"w{i}.err").open("w"))
               for i in range(n)]
    _wait_for(lambda: all("waiting for a run" in (logs / f"w{i}.out").read_text() for i in range(n)), 120, "the workers")
    return workers


def start_coordinator(redis_url: str, db: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "index.cli.app", "coordinate", "--redis", redis_url, "--db", db,
                             "--worker-wait", "30", *args], env=_env(), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(coordinator: subprocess.Popen[str], workers: list[subprocess.Popen[str]], logs: Path,
           timeout: float = 150) -> tuple[str, str, list[str]]:
    """The coordinator's stdout and stderr, and what each worker printed; everything has exited."""
    try:
        stdout, stderr = coordinator.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        coordinator.kill()
        stdout, stderr = coordinator.communicate()
        for w in workers:
            w.kill()
        raise AssertionError(f"coordinator did not finish\n{stdout}\n{stderr}\n" + _tails(logs)) from None
    for w in workers:
        try:
            w.wait(60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
    assert coordinator.returncode == 0, f"{stdout}\n{stderr}\n" + _tails(logs)
    return stdout, stderr, [(logs / f"w{i}.out").read_text() for i in range(len(workers))]


def _tails(logs: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(logs.glob("w*.err")))


def probes_per_resource(db: str) -> dict[tuple[str, str], int]:
    """Final observations per resource in the run, read from PostgreSQL."""
    engine = create_engine(db)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT r.url, r.method, count(*) FROM observations o JOIN resources r ON r.id = o.resource_id "
                                 "WHERE o.final GROUP BY r.url, r.method")).all()
    engine.dispose()
    return {(url, method): n for url, method, n in rows}


def stored_finals(db: str) -> int:
    from index.store.engine import init_db

    init_db(db)  # the schema, whether or not a worker has created it yet
    engine = create_engine(db)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM observations WHERE final")).scalar_one()
    engine.dispose()
    return int(n)


def worked(outputs: list[str]) -> list[int]:
    """Probes each worker finished (from its `run N: done · paid 12, …` line)."""
    counts = []
    for out in outputs:
        line = next((ln for ln in out.splitlines() if "done ·" in ln), "")
        counts.append(sum(int(part.rsplit(" ", 1)[1]) for part in line.split("·", 1)[1].split(",") if part.strip()) if "·" in line else 0)
    return counts


# -- a slow origin that counts its concurrent requests --------------------------------------------

class SlowOrigin:
    """N paid endpoints `/r/<i>` on 127.0.0.1 answering a v2 402 after `delay` seconds (anything else:
    404 after the same delay); counts requests in progress at the server, and their peak."""

    def __init__(self, n: int, delay: float) -> None:
        self.n, self.delay = n, delay
        self.active = self.peak = self.hits = 0
        self.lock = threading.Lock()
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                with origin.lock:
                    origin.active += 1
                    origin.hits += 1
                    origin.peak = max(origin.peak, origin.active)
                try:
                    time.sleep(origin.delay)
                    self._answer()
                finally:
                    with origin.lock:
                        origin.active -= 1

            do_POST = do_GET  # noqa: N815

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                base = f"http://127.0.0.1:{origin.port}"
                if self.path.startswith("/r/") and self.path[3:].isdigit() and int(self.path[3:]) < origin.n:
                    challenge = {"x402Version": 2, "error": "Payment required",
                                 "resource": {"url": base + self.path, "description": f"Report {self.path[3:]}", "mimeType": "application/json"},
                                 "accepts": [{"scheme": "exact", "network": "eip155:84532", "amount": "1000",
                                              "asset": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
                                              "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 300,
                                              "extra": {"name": "USDC", "version": "2"}}]}
                    header = base64.b64encode(json.dumps(challenge).encode()).decode()
                    self._send(402, b"{}", {"PAYMENT-REQUIRED": header, "Content-Type": "application/json"})
                else:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowOrigin:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def seeds(self) -> list[str]:
        return [arg for i in range(self.n) for arg in ("--seed", f"http://127.0.0.1:{self.port}/r/{i}")]


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- the tests ---------------------------------------------------------------------------------

@pytest.fixture
def pg_url2(pg_cluster: str) -> Iterator[str]:
    """A second fresh PostgreSQL database (pg_url is the first)."""
    with fresh_database(pg_cluster) as url:
        yield url


def _catalog(db: str, out: Path, fleet: dict[str, Any]) -> dict[str, Any]:
    run_cli("build", "--db", db, "--out", str(out), "--quiet", "--no-search")
    pairs = _placeholders(fleet)
    records = [json.loads(line) for line in (out / "catalog.jsonl").read_text().splitlines()]
    return {normalize(r["slug"], pairs): normalize(r, pairs) for r in records}


def test_a_distributed_crawl_of_the_fleet_builds_the_single_process_catalog(
        fleet: dict[str, Any], frontier: RedisServer, pg_url: str, pg_url2: str, tmp_path: Path) -> None:
    """Three workers and a coordinator crawl the demo fleet as crawled_fleet does; `crawl` (one
    process) crawls it into another PostgreSQL database: the same catalog records (times, ports and
    latencies masked as in the golden records), each probe stored once.

    Against PostgreSQL, not the SQLite golden file: JSONB orders an object's keys its own way, and an
    example body's key order shows in a record's example prompt."""
    seeds = [arg for s in [*fleet["seeds"], *fleet["guarded_seeds"]] for arg in ("--seed", s)]
    settings = [*FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}"]
    # both at once: the fleet's slow endpoints make each crawl wait, not work
    single = subprocess.Popen([sys.executable, "-m", "index.cli.app", "crawl", "--db", pg_url2, "--allow-host", "127.0.0.1",
                               "--quiet", "--facilitator", fleet["facilitator"], *seeds, *settings], env=_env(), cwd=ROOT,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    workers = start_workers(3, frontier.url, pg_url, tmp_path / "logs")
    coordinator = start_coordinator(frontier.url, pg_url, "--facilitator", fleet["facilitator"], *seeds, *settings)
    stdout, _, outputs = finish(coordinator, workers, tmp_path / "logs")
    single_out, single_err = single.communicate(timeout=150)
    assert single.returncode == 0, single_err
    assert stdout.startswith("probed 44 · paid 20"), stdout
    assert stdout.splitlines()[:3] == single_out.splitlines()[:3]  # summary, outcomes, changes
    assert sum(1 for n in worked(outputs) if n) >= 2, outputs  # the work was shared
    per_resource = probes_per_resource(pg_url)
    assert len(per_resource) == 44 and set(per_resource.values()) == {1}

    got, expected = _catalog(pg_url, tmp_path / "fleet", fleet), _catalog(pg_url2, tmp_path / "single", fleet)
    assert len(got) >= 12 and sorted(got) == sorted(expected)
    for slug in expected:
        assert got[slug] == expected[slug], slug
    assert redis.Redis.from_url(frontier.url).keys("x402:run:*") == []  # the run's keys are gone


def test_per_host_limit_holds_for_the_whole_fleet(frontier: RedisServer, pg_url: str, tmp_path: Path) -> None:
    """One slow origin, three workers each allowed 2 requests per host: never more than 2 at once
    at the origin (three processes on their own would reach 6, or more: Scrapy 2.19 starts a burst
    of queued requests past its per-domain limit when DOWNLOAD_DELAY is 0)."""
    with SlowOrigin(24, 0.25) as origin:
        workers = start_workers(3, frontier.url, pg_url, tmp_path / "logs")
        # each worker takes at most 2 requests at a time (a worker takes up to CONCURRENT_REQUESTS from
        # the queue, also while they wait for a host slot), so all three share the origin's work
        coordinator = start_coordinator(frontier.url, pg_url, *origin.seeds(), *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
                                        "-s", "CONCURRENT_REQUESTS=2")
        stdout, _, outputs = finish(coordinator, workers, tmp_path / "logs")
    assert stdout.startswith("probed 24 · paid 24"), stdout
    assert sum(1 for n in worked(outputs) if n) >= 2, outputs
    assert origin.peak == 2, origin.peak
    assert origin.hits >= 24


def test_a_worker_killed_mid_run_loses_nothing_and_stores_nothing_twice(frontier: RedisServer, pg_url: str, tmp_path: Path) -> None:
    with SlowOrigin(40, 0.2) as origin:
        workers = start_workers(3, frontier.url, pg_url, tmp_path / "logs")
        coordinator = start_coordinator(frontier.url, pg_url, *origin.seeds(), *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=6",
                                         "-s", "X402_DISCOVER_ORIGINS=False")
        server = redis.Redis.from_url(frontier.url)
        victim: list[subprocess.Popen[str]] = []

        def busy_worker_found() -> bool:
            """A worker holding leases while some probes are already stored: SIGKILL it."""
            if stored_finals(pg_url) < 6:
                return False
            for key in server.keys("x402:run:*:working:*"):
                if server.llen(key):
                    pid = int(key.decode().rsplit(":", 1)[1].split("-")[-2])
                    victim.extend(w for w in workers if w.pid == pid)
                    if victim:
                        os.kill(pid, signal.SIGKILL)
                        return True
            return False

        _wait_for(busy_worker_found, 90, "a busy worker")
        stdout, stderr, _ = finish(coordinator, workers, tmp_path / "logs")
    assert victim[0].returncode == -signal.SIGKILL
    assert "stopped answering" in stderr, stderr
    assert stdout.startswith("probed 40 · paid 40"), stdout
    per_resource = probes_per_resource(pg_url)
    assert len(per_resource) == 40 and set(per_resource.values()) == {1}, per_resource


@pytest.mark.parametrize("wipe", [False, True], ids=["redis-keeps-its-data", "redis-comes-back-empty"])
def test_redis_restarting_mid_run_costs_at_most_a_repush(frontier: RedisServer, pg_url: str, tmp_path: Path, wipe: bool) -> None:
    with SlowOrigin(30, 0.2) as origin:
        workers = start_workers(2, frontier.url, pg_url, tmp_path / "logs", ttl=10)
        coordinator = start_coordinator(frontier.url, pg_url, *origin.seeds(), *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        _wait_for(lambda: stored_finals(pg_url) >= 5, 90, "the first probes")
        frontier.restart(wipe=wipe, down=1.0)
        stdout, stderr, _ = finish(coordinator, workers, tmp_path / "logs")
    per_resource = probes_per_resource(pg_url)
    assert len(per_resource) == 30, per_resource
    probed = sum(per_resource.values())
    first = stdout.splitlines()[0]
    assert first.startswith(f"probed {probed} · paid {probed} · free 0 ·") and first.endswith("· new 30"), stdout
    if wipe:
        assert "redis lost run" in stderr, stderr
        # the coordinator lets the workers finish what they had taken before it pushes the run again
        assert set(per_resource.values()) == {1}, per_resource
    else:
        assert set(per_resource.values()) == {1}, per_resource


# -- the deploy recipe ---------------------------------------------------------------------------

def test_fleet_deploy_units_and_compose_file() -> None:
    import yaml

    from tests.house.test_deploy import DEPLOY, _unit

    worker = _unit("x402-index-worker@.service")["Service"]
    assert worker["ExecStart"][0].split()[1:4] == ["worker", "--redis", "${X402_REDIS_URL}"]
    assert worker["Restart"] == ["always"] and worker["KillSignal"] == ["SIGTERM"]
    coordinator, timer = _unit("x402-index-coordinator.service"), _unit("x402-index-coordinator.timer")
    assert [v.split()[1] for v in coordinator["Service"]["ExecStart"]] == ["coordinate", "build"]
    assert coordinator["Service"]["Type"] == ["oneshot"]
    assert timer["Timer"]["Persistent"] == ["true"] and timer["Install"]["WantedBy"] == ["timers.target"]
    compose = yaml.safe_load((DEPLOY / "compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "postgres", "worker", "coordinator"}
    assert "--appendonly" in services["redis"]["command"] and "--requirepass" in services["redis"]["command"]
    assert "x402-index worker" in services["worker"]["command"][-1]
    assert "x402-index coordinate" in services["coordinator"]["command"][-1]
    assert "x402-index build" in services["coordinator"]["command"][-1]
