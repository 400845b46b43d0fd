"""Shared fixtures: the demo fleet (real servers on 127.0.0.1, official x402 SDK) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.demo.server import DemoFleet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fleet() -> Iterator[dict[str, Any]]:
    """The demo fleet's manifest; the fleet runs in a subprocess for the whole session."""
    with DemoFleet() as running:
        yield running.manifest


FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
TIMEOUT = 5  # the hostile origin's drip and silent endpoints cost this much (twice: one retry)


@pytest.fixture(scope="session")
def crawled_fleet(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One crawl and build of the whole fleet, as `make demo` runs it (guard on, only 127.0.0.1 let
    through). Tests read it; a test that needs to change the database copies it first."""
    import httpx

    work = tmp_path_factory.mktemp("e2e")
    db = f"sqlite:///{work / 'catalog.db'}"
    hits_before = httpx.get(fleet["hits_url"], timeout=5).json()["hits"]
    seeds = [arg for s in [*fleet["seeds"], *fleet["guarded_seeds"]] for arg in ("--seed", s)]
    crawl = run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", "--facilitator", fleet["facilitator"],
                    *seeds, *FAST, "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", cwd=work)
    hits_after = httpx.get(fleet["hits_url"], timeout=5).json()["hits"]
    build = run_cli("build", "--db", db, "--out", str(work / "public"), "--quiet", cwd=work)
    return {"work": work, "db": db, "db_path": work / "catalog.db", "crawl": crawl, "build": build, "out": work / "public",
            "counter_hits": hits_after - hits_before}


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session (tests/support/pgcluster.py); skipped, saying why, only
    where no PostgreSQL binaries exist (`make test` installs them on Debian)."""
    from tests.support.pgcluster import find_bin_dir, throwaway_cluster

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    with throwaway_cluster(bin_dir) as url:
        yield url


@pytest.fixture
def pg_url(pg_cluster: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    from tests.support.pgcluster import fresh_database

    with fresh_database(pg_cluster) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return str(request.getfixturevalue("pg_url"))


def run_cli(*args: str, cwd: Path | None = None, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `x402-index` in a subprocess (a crawl needs a fresh Twisted reactor each time). The tests
    package is importable there (for stub components named in settings)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("X402_INDEX_DB", None)
    proc = subprocess.run([sys.executable, "-m", "index.cli.app", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"x402-index {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


# Markers for the fast lane (`make test-fast` deselects them; `make test` runs everything): by folder
# (tests/e2e, tests/browser) and by what a test starts (the fleet, PostgreSQL, Redis).
_E2E_FIXTURES = {"fleet", "crawled_fleet", "redis_server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).parent.name
        names = set(getattr(item, "fixturenames", ()))
        if folder == "e2e" or names & _E2E_FIXTURES:
            item.add_marker(pytest.mark.e2e)
        if folder == "browser":
            item.add_marker(pytest.mark.browser)
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "pg_cluster" in names or "pg_url" in names or "postgresql" in params.values():
            item.add_marker(pytest.mark.postgres)
