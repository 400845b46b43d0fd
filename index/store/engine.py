"""The store's engine: one engine per database URL per process, SQLite pragmas, the schema, and
transactions. Every stage that reads or writes the database opens it here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

_IN_CHUNK = 500  # values per IN (...) list

_ENGINES: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def get_engine(url: str) -> Engine:
    """One engine per URL per process; SQLite files get their folder created and WAL mode."""
    if url in _ENGINES:
        return _ENGINES[url]
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    """Close and forget this process's engine for `url` (its pooled connections)."""
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


_OPENED_IN: dict[int, int] = {}  # id(engine) -> the process whose pool it holds


def in_this_process(engine: Engine) -> Engine:
    """`engine`, safe to use here: in a forked worker, the first call drops the pooled connections it
    inherited from its parent without closing them (SQLAlchemy's advice for fork), so the worker opens
    its own."""
    pid = os.getpid()
    if _OPENED_IN.setdefault(id(engine), pid) != pid:
        engine.dispose(close=False)
        _OPENED_IN[id(engine)] = pid
    return engine


def init_db(url: str) -> Engine:
    """Engine of a database at the newest schema (migrations applied; idempotent)."""
    from index.store.migrate import upgrade

    engine = get_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A transaction: committed on success, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def chunks(values: list[Any], size: int | None = None) -> Iterator[list[Any]]:
    """`values` in slices of at most `size`: IN (...) lists stay far below the bind-parameter limits
    of SQLite (250,000 here) and PostgreSQL (65,535), whatever the catalog's size."""
    size = size or _IN_CHUNK
    for start in range(0, len(values), size):
        yield values[start:start + size]


# How a transaction loses a race with another writer (two workers inserting the same new origin,
# resource or slug; PostgreSQL's deadlock and serialization aborts): rolled back whole, and the same
# write succeeds when tried again (the row now exists). Not a refusal of the probe: a probe is never
# kept as `store_failed` for it. index.store.write and crawler.distributed's writer write such a batch again.
RACE_MARKERS = ("UniqueViolation", "duplicate key value", "UNIQUE constraint failed", "deadlock detected",
                "SerializationFailure", "could not serialize access")
RACE_TRIES = 4


def lost_a_race(error: BaseException | str) -> bool:
    return any(marker in str(error) for marker in RACE_MARKERS)
