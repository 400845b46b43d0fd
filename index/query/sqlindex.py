"""Queries answered from a build's index.sqlite (index.site.queryindex) instead of its index.json: the
same filters, sorts and limit as index.query.filters, in SQL over columns the build normalized, so
the answer is the JSON path's, row for row (tests/query/test_query_index.py compares both on every filter).

A file is opened read-only, with SQLite's defences for files one did not make (no schema functions,
cell size checks), and only if its schema is exactly the one this code creates: a file from
elsewhere (a remote build) cannot bring views or triggers of its own. `QueryIndex.search` is what a
running MCP server calls; `open_index` keeps one per file and opens it again when the file changes.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import orjson

from index.site.queryindex import FORMAT, SORTS, create


class NotAQueryIndex(ValueError):
    """A file that is not a query index this code can read (another layout, or not SQLite)."""


_SCHEMA: list[tuple[Any, ...]] | None = None


def _schema(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()


def expected_schema() -> list[tuple[Any, ...]]:
    global _SCHEMA
    if _SCHEMA is None:
        ref = sqlite3.connect(":memory:")
        create(ref)
        _SCHEMA = _schema(ref)
        ref.close()
    return _SCHEMA


ORDER_BY = {None: "r.id", **{sort: f"r.rank_{sort}" for sort in SORTS}}


def _phrase(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class QueryIndex:
    """One open index.sqlite. Thread-safe (one lock around the connection)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        st = self.path.stat()
        self.stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise NotAQueryIndex(f"{path}: {exc}") from None
        try:
            conn.execute("PRAGMA trusted_schema = OFF")
            conn.execute("PRAGMA cell_size_check = ON")
            conn.execute("PRAGMA query_only = ON")
            if _schema(conn) != expected_schema():
                raise NotAQueryIndex(f"{path}: not a query index of this version")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise NotAQueryIndex(f"{path}: {exc}") from None
        except NotAQueryIndex:
            conn.close()
            raise
        if meta.get("format") != FORMAT:
            conn.close()
            raise NotAQueryIndex(f"{path}: format {meta.get('format')!r}, not {FORMAT}")
        self.meta = meta
        self._conn = conn
        self._lock = threading.Lock()

    def changed(self) -> bool:
        """Whether the file on disk is no longer the one this object opened (a new build renamed over it)."""
        try:
            st = self.path.stat()
        except OSError:
            return True
        return (st.st_ino, st.st_size, st.st_mtime_ns) != self.stamp

    def close(self) -> None:
        self._conn.close()

    def search(self, words: list[str], **filters: Any) -> list[dict[str, Any]]:
        """Entries as index.json holds them. Arguments are already checked and normalized by the
        caller (index.query.filters.search): `words` lower-cased, `network` CAIP-2, `sort` known."""
        sql, args = statement(words, **filters)
        with self._lock:
            if filters.get("verified_only") and self.meta.get("verified_unknown") != "0":
                raise ValueError("this index says nothing about verification: --verified needs the build's catalog.jsonl")
            rows = self._conn.execute(sql, args).fetchall()
        return [orjson.loads(j) for (j,) in rows]

    def execute(self, sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
        """Rows of a plain statement (bench/query.py's floor)."""
        with self._lock:
            return self._conn.execute(sql, args).fetchall()


def statement(words: list[str], *, category: str | None = None, network: str | None = None,
              max_price: float | None = None, status: str | None = None, method: str | None = None,
              trust_tier: str | None = None, verified_only: bool = False, min_uptime: float | None = None,
              sort: str | None = None, limit: int | None = None) -> tuple[str, list[Any]]:
    """The SQL (and its parameters) of one search: the entries' JSON, filtered, sorted and cut."""
    where: list[str] = []
    args: list[Any] = []
    long_words = [w for w in words if len(w) >= 3]
    if long_words:  # trigram phrases: an index lookup, exact for 3+ characters
        where.append("r.id IN (SELECT rowid FROM words WHERE words MATCH ?)")
        args.append(" ".join(_phrase(w) for w in long_words))
    for w in words:
        if len(w) < 3:  # shorter than a trigram: a scan of the text
            where.append("instr((SELECT text FROM texts WHERE id = r.id), ?) > 0")
            args.append(w)
    for column, value in (("category", category), ("status", status), ("method", method), ("tier", trust_tier)):
        if value is not None:
            where.append(f"r.{column} = ?")
            args.append(value)
    if network is not None:
        where.append("EXISTS (SELECT 1 FROM networks WHERE network = ? AND id = r.id)")  # a key lookup a row
        args.append(network)
    if max_price is not None:
        where.append("r.price_usd <= ?")
        args.append(max_price)
    if min_uptime is not None:
        where.append("r.uptime_7d_pct >= ?")
        args.append(min_uptime)
    if verified_only:
        where.append("r.verified = 1")
    key = ORDER_BY[sort]
    # A sorted page walks the sort's rank index and stops at the limit; the filters are then tests of
    # each row (a word's matches and a network's members are looked up once, as lists). Left to
    # itself, the planner reads every match of a common word or network first and sorts them all.
    walk = f" INDEXED BY by_{sort}" if sort is not None and limit is not None else ""
    inner = (f"SELECT r.id AS id, {key} AS k FROM resources r{walk}" + (" WHERE " + " AND ".join(where) if where else "")
             + f" ORDER BY {key}")
    if limit is not None:
        inner += " LIMIT ?"
        args.append(limit)
    # the entries' JSON is read for the rows of the answer only
    return f"SELECT e.json FROM ({inner}) AS hit JOIN entries e ON e.id = hit.id ORDER BY hit.k", args


_OPEN: dict[str, QueryIndex] = {}
_OPEN_LOCK = threading.Lock()


def open_index(path: Path) -> QueryIndex:
    """The open QueryIndex of `path`, opened (again) when it is new or the file changed since."""
    key = str(Path(path).resolve())
    with _OPEN_LOCK:
        index = _OPEN.get(key)
        if index is not None and not index.changed():
            return index
        fresh = QueryIndex(Path(key))
        _OPEN[key] = fresh
        if index is not None:
            with index._lock:  # a call still running on it finishes first
                index.close()
        return fresh
