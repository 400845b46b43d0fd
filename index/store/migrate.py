"""Schema migrations (Alembic, scripts in index/store/migrations/versions). Every production path opens the
database through `upgrade`, so a database is always at the newest schema; SQLite runs in batch mode.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class UnversionedDatabase(RuntimeError):
    """Tables exist but no migration history: made by an older build without migrations."""


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head() -> str:
    return str(ScriptDirectory.from_config(config("sqlite://")).get_current_head())


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (no-op when already there)."""
    if revision == "head" and current(engine) == head():
        return
    with engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        if tables and "alembic_version" not in tables:
            raise UnversionedDatabase(
                "this database was created before schema migrations existed; move it aside and crawl again")
        cfg = config(str(engine.url.render_as_string(hide_password=False)))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
