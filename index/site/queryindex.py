"""index.sqlite: the build's query-ready twin of index.json, written beside it.

`x402-index query` and the MCP server's `search_resources` open this file instead of parsing index.json
(63 MB at 100k resources, ~1.4 s and 300 MB per call): one narrow row per resource holding exactly the
values a filter or a sort compares, already normalized the way index.query.filters compares them
(category and status as published, the method upper-cased, the trust tier lower-cased with "unknown"
for none, the title case-folded, the searchable text lower-cased), a table of (network, resource),
an FTS5 trigram index over the searchable text (substring search, as the JSON path does it), and each
entry's JSON exactly as index.json holds it, read only for the rows a query returns.

The file is a pure function of the entries: fixed page size, rows in index.json's order, no
timestamps of its own, VACUUMed, so the same entries give the same bytes (a rebuild leaves it
unchanged). It is made in a temp file in the output folder and renamed over the old one; when the
entries are the last build's (the same key), it is not even made.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from index.site.writer import SiteWriter

QUERY_FILE = "index.sqlite"
# the layout of the file; a reader refuses a file whose layout is not the one it knows (see DDL)
FORMAT = "x402-index-query/2"
PAGE_SIZE = 4096
UNKNOWN_TIER = "unknown"
TEXT_FIELDS = ("title", "summary", "description", "url", "category", "origin")
SORTS = ("price", "name", "last_verified", "uptime", "latency")

DDL = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    # id: the entry's position in index.json (the order of an unsorted answer); rank_<sort>: its position
    # in each sort's order (sort_order), indexed, so a sorted answer walks an index and stops at its limit
    "CREATE TABLE resources (id INTEGER PRIMARY KEY, category TEXT, status TEXT, method TEXT NOT NULL,"
    " tier TEXT NOT NULL, verified INTEGER, price_usd REAL, uptime_7d_pct REAL, "
    + ", ".join(f"rank_{s} INTEGER NOT NULL" for s in SORTS) + ")",
    *(f"CREATE INDEX by_{s} ON resources (rank_{s})" for s in SORTS),
    "CREATE TABLE networks (network TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (network, id)) WITHOUT ROWID",
    "CREATE TABLE texts (id INTEGER PRIMARY KEY, text TEXT NOT NULL)",
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, json TEXT NOT NULL)",
    # case-sensitive trigrams over text already lower-cased: a phrase of 3+ characters matches exactly
    # the rows whose text holds it as a substring (Python's `in`, byte for byte)
    "CREATE VIRTUAL TABLE words USING fts5(text, content='texts', content_rowid='id',"
    " tokenize='trigram case_sensitive 1')",
)


def search_text(entry: dict[str, Any]) -> str:
    """What `q` searches, lower-cased: the one definition both query paths use."""
    parts = [str(entry.get(k) or "") for k in TEXT_FIELDS]
    return " ".join(parts + [str(t) for t in entry.get("tags") or []]).lower()


def verified_of(entry: dict[str, Any]) -> bool | None:
    """Whether a test-buy proved one of the entry's accepts; None when the entry says nothing about it."""
    if "verified" in entry:
        return bool(entry["verified"])
    if "accepts" in entry:
        return any(isinstance(a, dict) and a.get("verified") for a in entry["accepts"])
    return None


def sort_order(entries: list[dict[str, Any]], sort: str) -> list[int]:
    """Positions of `entries` in `sort`'s order: price: cheapest first; name: by title; last_verified:
    most recent first; uptime: most reliable first (then most probes answered); latency: fastest
    median first. Unknown values last; ties by title, then slug. The one definition of the orders:
    the JSON path sorts with it, the query file stores its ranks."""
    def title(i: int) -> str:
        return str(entries[i].get("title") or "").casefold()

    def slug(i: int) -> str:
        return str(entries[i].get("slug", ""))

    def get(i: int, name: str) -> Any:
        return entries[i].get(name)

    every = range(len(entries))
    if sort == "price":
        return sorted(every, key=lambda i: (get(i, "price_usd") is None, get(i, "price_usd") or 0, slug(i)))
    if sort == "name":
        return sorted(every, key=lambda i: (title(i), slug(i)))
    if sort == "uptime":
        return sorted(every, key=lambda i: (get(i, "uptime_7d_pct") is None, -(get(i, "uptime_7d_pct") or 0),
                                            -(get(i, "up_7d") or 0), title(i), slug(i)))
    if sort == "latency":
        return sorted(every, key=lambda i: (get(i, "p50_latency_ms") is None, get(i, "p50_latency_ms") or 0, title(i), slug(i)))
    if sort == "last_verified":
        dated = sorted((i for i in every if get(i, "last_verified")), key=lambda i: (get(i, "last_verified"), slug(i)),
                       reverse=True)
        return dated + sorted((i for i in every if not get(i, "last_verified")), key=slug)
    raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {sort!r}")


def _rows(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    ranks = []
    for sort in SORTS:
        rank = [0] * len(entries)
        for position, i in enumerate(sort_order(entries, sort)):
            rank[i] = position
        ranks.append(rank)
    rows = []
    for i, e in enumerate(entries):
        verified = verified_of(e)
        rows.append((i, e.get("category"), e.get("status"), str(e.get("method") or "").upper(),
                     str(e.get("trust_tier") or UNKNOWN_TIER).lower(), None if verified is None else int(verified),
                     e.get("price_usd"), e.get("uptime_7d_pct"), *(rank[i] for rank in ranks)))
    return rows


def create(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    for statement in DDL:
        conn.execute(statement)
    conn.execute("ANALYZE")  # its statistics table, empty until the rows are in (the planner's counts)


def write_file(path: Path, entries: list[dict[str, Any]], generated_at: str | None, schema_version: str) -> None:
    """Make the query file for `entries` at `path` (a new file: any old one there is removed first)."""
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        create(conn)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO meta VALUES (?, ?)", [
            ("format", FORMAT), ("schema_version", schema_version), ("generated_at", generated_at or ""),
            ("resources", str(len(entries))),
            ("verified_unknown", str(sum(1 for e in entries if verified_of(e) is None)))])
        conn.executemany(f"INSERT INTO resources VALUES ({','.join('?' * (8 + len(SORTS)))})", _rows(entries))
        conn.executemany("INSERT OR IGNORE INTO networks VALUES (?, ?)",
                         ((str(n), i) for i, e in enumerate(entries) for n in e.get("networks") or []))
        conn.executemany("INSERT INTO texts VALUES (?, ?)", ((i, search_text(e)) for i, e in enumerate(entries)))
        conn.executemany("INSERT INTO entries VALUES (?, ?)",
                         ((i, orjson.dumps(e).decode()) for i, e in enumerate(entries)))
        conn.execute("INSERT INTO words(words) VALUES ('rebuild')")
        conn.execute("INSERT INTO words(words) VALUES ('optimize')")
        conn.execute("ANALYZE")
        conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_query_index(writer: "SiteWriter", entries: list[dict[str, Any]], generated_at: str | None,
                      schema_version: str) -> None:
    """index.sqlite through the build's writer: claimed, hashed and counted like every file it writes;
    not made at all when its inputs are the last build's and the file is there."""
    target = writer.claim(QUERY_FILE)
    key = hashlib.blake2b(orjson.dumps([FORMAT, sqlite3.sqlite_version, schema_version, generated_at, entries]),
                          digest_size=16).hexdigest()
    old = writer.old_hashes.get(QUERY_FILE)
    if old is not None and writer.old_keys.get(QUERY_FILE) == key and target.exists():
        writer.hashes[QUERY_FILE], writer.keys[QUERY_FILE] = old, key
        writer.unchanged += 1
        return
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        write_file(tmp, entries, generated_at, schema_version)
        h = _file_digest(tmp)
        writer.hashes[QUERY_FILE], writer.keys[QUERY_FILE] = h, key
        if target.exists() and (old == h or _file_digest(target) == h):
            tmp.unlink()
            writer.unchanged += 1
            return
        os.replace(tmp, target)
        writer.written += 1
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
