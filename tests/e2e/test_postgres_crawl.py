"""The crawler and the catalog on a real PostgreSQL server (a throwaway cluster, tests/support/pgcluster.py):
the same fleet crawl as on SQLite, then a build, then a second crawl with its change report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from tests.conftest import FAST, run_cli


def test_crawl_build_and_recrawl_on_postgresql(fleet: dict[str, Any], pg_url: str, tmp_path: Path) -> None:
    paid = [r for r in fleet["resources"] if r["paid"]]  # the SDK origins' resources (their origins add 2 unpaid)
    seeds = [a for r in paid for a in ("--seed", f"{r['method']} {r['url']}")]
    first = run_cli("crawl", "--db", pg_url, "--allow-host", "127.0.0.1", "--quiet", *seeds, *FAST, cwd=tmp_path)
    assert f"paid {len(paid)}" in first.stdout and f"added {len(paid)}" in first.stdout
    run_cli("build", "--db", pg_url, "--out", str(tmp_path / "public"), "--quiet", cwd=tmp_path)
    index = json.loads((tmp_path / "public" / "index.json").read_text())
    assert len(index["resources"]) == len(paid)
    second = run_cli("crawl", "--db", pg_url, "--allow-host", "127.0.0.1", "--quiet", *seeds, *FAST, cwd=tmp_path)
    assert "changes: none" in second.stdout
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM crawl_runs WHERE finished_at IS NOT NULL")).scalar() == 2
            finals = conn.execute(text("SELECT COUNT(*) FROM observations WHERE final")).scalar()
            resources = conn.execute(text("SELECT COUNT(*) FROM resources")).scalar()
            # the seeds again; what their origins listed is not due yet (a sighting only)
            assert finals == resources + len(paid)
    finally:
        engine.dispose()
    runs = json.loads(run_cli("runs", "--db", pg_url, "--format", "json", cwd=tmp_path).stdout)
    assert [r["changes"]["added"] for r in runs] == [0, len(paid)]
