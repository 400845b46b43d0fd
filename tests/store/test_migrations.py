"""Schema migrations: a fresh database migrated to head has exactly the tables the models declare,
on SQLite (batch mode) and PostgreSQL; `x402-index db upgrade` does it from the CLI; a database made
without migrations is refused with a clear message."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from index.store.migrate import UnversionedDatabase, current, head
from index.store.engine import get_engine, init_db
from tests.conftest import run_cli


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = init_db(db_url)
    assert current(engine) == head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    init_db(db_url)  # idempotent


def test_db_upgrade_command(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    proc = run_cli("db", "upgrade", "--db", f"sqlite:///{db}", cwd=tmp_path)
    assert head() in proc.stdout
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone() == (head(),)
    con.close()


def test_a_database_made_without_migrations_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE resources (id INTEGER PRIMARY KEY)")
    con.commit()
    con.close()
    with pytest.raises(UnversionedDatabase):
        init_db(f"sqlite:///{db}")
    proc = run_cli("build", "--db", f"sqlite:///{db}", "--out", str(tmp_path / "out"), cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "migrations" in proc.stderr
    get_engine(f"sqlite:///{db}").dispose()


def test_upgrading_a_populated_database_keeps_its_rows(db_url: str) -> None:
    """Columns added by later migrations get defaults on existing rows (0001 → head)."""
    from sqlalchemy import text

    from index.store.migrate import upgrade
    from index.store.engine import get_engine

    engine = get_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO crawl_runs (started_at) VALUES ('2026-11-20 10:00:00')"))
        conn.execute(text("INSERT INTO origins (url, host, slug, first_seen) VALUES ('https://a.example', 'a.example', 'a-example', '2026-11-20 10:00:00')"))
        conn.execute(text("INSERT INTO resources (url, method, origin_id, slug, first_seen) VALUES ('https://a.example/x', 'GET', 1, 'a-example-x', '2026-11-20 10:00:00')"))
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT kind FROM crawl_runs")).scalar() == "full"
        assert conn.execute(text("SELECT consecutive_failures FROM resources")).scalar() == 0
