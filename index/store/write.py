"""The store's write path for probe results (pages read from origins and late sources: index.store.pages).

`record_probes` takes probe items (index.store.items, what the crawler's pipeline hands over) and writes a batch of them
in one transaction: an observation row per attempt, then current state derived from it. A failed
probe never erases a resource's last good payment options. It is the crawl's hot write path, so it
works per batch with SQLAlchemy Core statements. Engines and transactions are `index.store.engine`'s.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from index.findings import finding
from index.probe.storable import storable
from index.probe.outcomes import ANSWERED, Outcome
from index.protocol.declared import compare_declared
from index.store.engine import RACE_TRIES, chunks, lost_a_race
from index.store.items import ProbeItem
from index.store.models import Observation, Origin, PaymentOption, Resource
from index.urls import canonical_url, origin_of, origin_slug, resource_slug

logger = logging.getLogger(__name__)


def as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def merge_sources(existing: list[dict[str, Any]], new: Iterable[dict[str, Any]], seen_at: datetime) -> list[dict[str, Any]]:
    out = [dict(s) for s in existing]
    stamp = seen_at.isoformat()
    for src in new:
        key = (src.get("kind"), src.get("url"))
        for s in out:
            if (s.get("kind"), s.get("url")) == key:
                s["last_seen"] = stamp
                break
        else:
            out.append({"kind": src.get("kind"), "url": src.get("url"), "first_seen": stamp, "last_seen": stamp})
            s = out[-1]
        if src.get("declared"):
            s["declared"] = src["declared"]  # what this source last claimed (never trusted over a probe)
    return sorted(out, key=lambda s: (str(s.get("kind")), str(s.get("url"))))


def declared_findings(sources: list[dict[str, Any]], accepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where a source's claims (an OpenAPI price, a registry's terms) disagree with the live 402."""
    out: list[dict[str, Any]] = []
    for src in sources:
        if src.get("declared"):
            for f in compare_declared(src["declared"], accepts):
                out.append({**f, "where": f"source:{src.get('kind')}"})
    return out


def record_probes(engine: Engine, probes: Iterable[ProbeItem], crawl_run_id: int | None = None) -> dict[str, int]:
    """Write probe results in one transaction. Returns counts: observations, new_resources, and
    unstorable (probes the database refused, kept as a bare observation with error code
    `store_failed`) and lost (not even that could be written).

    Set-based: a handful of statements per table for the whole batch (SQLAlchemy Core, portable
    SQL), the current state of each resource worked out in memory in attempt order. The rules:
    one observation row per attempt; a resource's status from its final attempts; last good payment
    options, hints and findings only from a paid one (a failed probe never erases them); sources
    merged from every attempt; a test-buy's verification kept only while the terms are unchanged.

    Text from servers passes `index.probe.storable` first (NUL and lone surrogates replaced, with a
    `text_unstorable` finding). A batch the database still refuses is written again probe by probe,
    so one bad answer costs only itself.
    """
    attempts = [_Attempt.of(_storable_probe(probe)) for probe in probes]  # bad input raises before anything is written
    try:
        return _record_racing(engine, attempts, crawl_run_id)
    except REFUSED:  # the database refused a row: find it, writing the probes one by one
        if len(attempts) == 1:
            return _record_fallback(engine, attempts[0], crawl_run_id)
    counts = {"observations": 0, "new_resources": 0}
    for attempt in attempts:
        try:
            done = _record_racing(engine, [attempt], crawl_run_id)
        except REFUSED:
            done = _record_fallback(engine, attempt, crawl_run_id)
        for key, value in done.items():
            counts[key] = counts.get(key, 0) + value
    return counts


# How a database (or its driver, binding a value) refuses a row: SQLAlchemy wraps the driver's own
# errors, but lets through what Python raises while binding (an int past 64 bits: OverflowError;
# text it cannot encode: UnicodeEncodeError, a ValueError).
REFUSED = (SQLAlchemyError, ValueError, OverflowError, TypeError)


def _record_racing(engine: Engine, attempts: list[_Attempt], crawl_run_id: int | None) -> dict[str, int]:
    """_record_batch, written again when it lost a race with another writer."""
    for tries in range(1, RACE_TRIES + 1):
        try:
            return _record_batch(engine, attempts, crawl_run_id)
        except SQLAlchemyError as exc:
            if tries == RACE_TRIES or not lost_a_race(exc):
                raise
            logger.info("a batch lost a race with another writer; writing it again (%d)", tries)
    raise AssertionError("unreachable")


def _record_batch(engine: Engine, attempts: list[_Attempt], crawl_run_id: int | None) -> dict[str, int]:
    counts = {"observations": len(attempts), "new_resources": 0}
    if not attempts:
        return counts
    with engine.begin() as conn:
        origin_ids = _origin_ids(conn, attempts)
        resources, counts["new_resources"] = _resource_rows(conn, attempts, origin_ids)
        observation_ids = _insert_returning_ids(conn, OBSERVATIONS, [
            _observation_row(a, resources[a.resource_key].id, crawl_run_id) for a in attempts])
        _apply_state(conn, attempts, observation_ids, resources, origin_ids)
    return counts


def _storable_probe(probe: dict[str, Any]) -> dict[str, Any]:
    """The probe with every string a database can store, and a `text_unstorable` finding (on its
    challenge, or on the probe when it has none) if something had to be replaced."""
    clean, changed = storable(probe)
    if not changed:
        return probe
    note = finding("text_unstorable", "answer")
    challenge = clean.get("challenge")
    if isinstance(challenge, dict):
        clean["challenge"] = {**challenge, "findings": [*(challenge.get("findings") or []), note]}
    else:
        clean["findings"] = [*(clean.get("findings") or []), note]
    return clean


def _record_fallback(engine: Engine, refused: _Attempt, crawl_run_id: int | None) -> dict[str, int]:
    """A probe the database refused: its bare outcome as an observation (error code `store_failed`,
    a `store_failed` finding, nothing the server sent), or, if even that is refused, nothing. The
    counts say which (`unstorable`, `lost`)."""
    logger.warning("the database refused the probe of %s; keeping its outcome only", refused.url[:300], exc_info=True)
    probe = refused.probe
    attempt = probe.get("attempt")
    bare = {
        "url": refused.url, "method": refused.method, "resource_method": refused.resource_key[1],
        "observed_at": refused.seen_at, "final": bool(probe.get("final", True)),
        "attempt": attempt if isinstance(attempt, int) and 0 <= attempt < 1000 else 0,
        "outcome": (Outcome.PAID_INVALID if refused.outcome is Outcome.PAID else refused.outcome).value,
        "error_code": "store_failed", "findings": [finding("store_failed", "answer")],
    }
    try:
        counts = _record_racing(engine, [_Attempt.of(bare)], crawl_run_id)
    except REFUSED:
        logger.exception("the probe of %s could not be stored at all", refused.url[:300])
        return {"observations": 0, "new_resources": 0, "lost": 1}
    return {**counts, "unstorable": 1}


ORIGINS = Origin.__table__
RESOURCES = Resource.__table__
OBSERVATIONS = Observation.__table__
OPTIONS = PaymentOption.__table__


class _Attempt(NamedTuple):
    """One probe item with what every step needs read once."""

    probe: ProbeItem
    url: str
    method: str  # the attempt's method
    resource_key: tuple[str, str]  # (url, method of the resource): a GET refused then paid by POST is POST's
    origin: str
    seen_at: datetime
    outcome: Outcome

    @classmethod
    def of(cls, probe: ProbeItem) -> _Attempt:
        url = canonical_url(probe["url"])
        method = (probe.get("method") or "GET").upper()
        resource_method = (probe.get("resource_method") or method).upper()
        return cls(probe, url, method, (url, resource_method), origin_of(url), as_datetime(probe.get("observed_at")),
                   Outcome(probe["outcome"]))


class _ResourceRow:
    """A resource's id and the parts of its state this batch reads and changes."""

    __slots__ = ("id", "sources", "changes", "options")

    def __init__(self, id: int, sources: list[dict[str, Any]]) -> None:  # noqa: A002 - the column's name
        self.id = id
        self.sources = sources
        self.changes: dict[str, Any] = {}
        self.options: list[tuple[list[dict[str, Any]], datetime]] = []  # accepts of each paid final attempt


def _insert_returning_ids(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """executemany INSERT, the new ids in the order of `rows`."""
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).scalars())


def _update_by_id(conn: Connection, table: Any, changes: dict[int, dict[str, Any]]) -> None:
    """executemany UPDATE … WHERE id = :row_id, one statement per distinct set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes.items():
        if values:
            groups.setdefault(tuple(sorted(values)), []).append({"row_id": row_id, **values})
    for columns, rows in groups.items():
        stmt = update(table).where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})
        conn.execute(stmt, rows)


def _origin_ids(conn: Connection, attempts: list[_Attempt]) -> dict[str, int]:
    """Id of every origin in the batch by URL; the new ones inserted (first seen: their first attempt)."""
    first_seen: dict[str, datetime] = {}
    for a in attempts:
        first_seen.setdefault(a.origin, a.seen_at)
    ids: dict[str, int] = {}
    for chunk in chunks(list(first_seen)):
        ids.update((url, oid) for url, oid in conn.execute(select(ORIGINS.c.url, ORIGINS.c.id).where(ORIGINS.c.url.in_(chunk))))
    new = [base for base in first_seen if base not in ids]
    slugs = new_origin_slugs(conn, new)
    rows = [{"url": base, "host": base.split("://", 1)[1], "slug": slugs[base], "title": None,
             "description": None, "favicon": None, "first_seen": first_seen[base], "last_seen": None} for base in new]
    ids.update(zip(new, _insert_returning_ids(conn, ORIGINS, rows), strict=True))
    return ids


def _origin_slug_candidates(base: str) -> list[str]:
    first = origin_slug(base)
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return [first, f"{first[:71]}-{digest}"]


def new_origin_slugs(conn: Connection, bases: list[str]) -> dict[str, str]:
    """A unique slug for each new origin: `a.b.example` and `a-b.example` (or `:8080` and `-8080`)
    slugify alike, so the later one gets a hash suffix, as resources do."""
    return _first_free(conn, ORIGINS, {base: _origin_slug_candidates(base) for base in bases})


def _first_free(conn: Connection, table: Any, candidates: dict[Any, list[str]]) -> dict[Any, str]:
    """For each key in order, the first of its candidate slugs that no row of `table` (stored, or
    given to a key before it here) has."""
    taken: set[str] = set()
    for chunk in chunks(sorted({slug for slugs in candidates.values() for slug in slugs})):
        taken.update(conn.execute(select(table.c.slug).where(table.c.slug.in_(chunk))).scalars())
    out: dict[Any, str] = {}
    for key, slugs in candidates.items():
        slug = next((s for s in slugs if s not in taken), None)
        if slug is None:
            raise RuntimeError(f"slug collision for {key}")  # a sha256 prefix collision: a bug to look at
        taken.add(slug)
        out[key] = slug
    return out


def _resource_rows(conn: Connection, attempts: list[_Attempt], origin_ids: dict[str, int]) -> tuple[dict[tuple[str, str], _ResourceRow], int]:
    """Every resource of the batch by (url, method), the new ones inserted; and how many were new."""
    first_seen: dict[tuple[str, str], datetime] = {}
    for a in attempts:
        first_seen.setdefault(a.resource_key, a.seen_at)
    found: dict[tuple[str, str], _ResourceRow] = {}
    cols = RESOURCES.c
    for chunk in chunks(sorted({url for url, _ in first_seen})):
        query = select(cols.id, cols.url, cols.method, cols.sources).where(cols.url.in_(chunk))
        for row in conn.execute(query):
            if (row.url, row.method) in first_seen:
                found[(row.url, row.method)] = _ResourceRow(row.id, row.sources or [])
    new = [key for key in first_seen if key not in found]  # in order of first appearance
    if not new:
        return found, 0
    slugs = _new_slugs(conn, new)
    origins = {a.resource_key: a.origin for a in attempts}
    rows = [{"url": url, "method": method, "origin_id": origin_ids[origins[(url, method)]], "slug": slugs[(url, method)],
             "status": None, "last_probed_at": None, "x402_version": None, "resource_url": None, "description": None,
             "mime_type": None, "service_name": None, "tags": [], "hints": {}, "findings": [], "last_paid_at": None,
             "last_good_observation_id": None, "sources": [], "first_seen": first_seen[(url, method)], "last_seen": None}
            for url, method in new]
    for key, rid in zip(new, _insert_returning_ids(conn, RESOURCES, rows), strict=True):
        found[key] = _ResourceRow(rid, [])
    return found, len(new)


def _slug_candidates(url: str, method: str) -> list[str]:
    first = resource_slug(url, method)
    digest = hashlib.sha256(f"{method} {url}".encode()).hexdigest()[:8]
    return [first, resource_slug(url, method, with_method=True), f"{first[:71]}-{digest}"]


def _new_slugs(conn: Connection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """A unique slug for each new resource, in order: the first of its candidates that no resource
    (stored, or new before it in this batch) has."""
    return _first_free(conn, RESOURCES, {key: _slug_candidates(*key) for key in keys})


def _observation_row(a: _Attempt, resource_id: int, crawl_run_id: int | None) -> dict[str, Any]:
    probe = a.probe
    challenge = probe.get("challenge") or None
    return {
        "resource_id": resource_id, "crawl_run_id": crawl_run_id, "observed_at": a.seen_at, "method": a.method,
        "attempt": probe.get("attempt") or 0, "final": bool(probe.get("final", True)),
        "final_url": probe.get("final_url"), "robots": probe.get("robots"),
        "outcome": a.outcome.value, "http_status": probe.get("http_status"), "latency_ms": probe.get("latency_ms"),
        "error_code": probe.get("error_code"), "x402_version": challenge.get("x402_version") if challenge else None,
        "raw_headers": probe.get("headers") or {}, "raw_body": probe.get("body"), "parsed": challenge,
        "findings": (challenge.get("findings") if challenge else probe.get("findings")) or [],
    }


def _apply_state(conn: Connection, attempts: list[_Attempt], observation_ids: list[int],
                 resources: dict[tuple[str, str], _ResourceRow], origin_ids: dict[str, int]) -> None:
    """Resource and origin state after the batch's attempts, in their order; then the writes."""
    origin_changes: dict[int, dict[str, Any]] = {}
    for a, observation_id in zip(attempts, observation_ids, strict=True):
        res = resources[a.resource_key]
        probe = a.probe
        res.sources = res.changes["sources"] = merge_sources(res.sources, probe.get("sources") or [], a.seen_at)
        if a.outcome in ANSWERED:
            res.changes["last_seen"] = a.seen_at
            origin_changes[origin_ids[a.origin]] = {"last_seen": a.seen_at}
        if not probe.get("final", True):  # an earlier attempt of a probe that went on: history only
            continue
        res.changes["status"] = a.outcome.value
        res.changes["last_probed_at"] = a.seen_at
        challenge = probe.get("challenge") or None
        if a.outcome is Outcome.PAID and challenge:
            info = challenge.get("resource") or {}
            accepts = challenge.get("accepts") or []
            res.changes.update(
                x402_version=challenge.get("x402_version"), resource_url=info.get("url"),
                description=info.get("description"), mime_type=info.get("mime_type"),
                service_name=info.get("service_name"), tags=info.get("tags") or [], hints=challenge.get("hints") or {},
                findings=(challenge.get("findings") or []) + declared_findings(res.sources, accepts),
                last_paid_at=a.seen_at, last_good_observation_id=observation_id,
            )
            res.options.append((accepts, a.seen_at))
    rows = list(resources.values())
    _update_by_id(conn, RESOURCES, {r.id: r.changes for r in rows})
    _update_by_id(conn, ORIGINS, origin_changes)
    _replace_options(conn, {r.id: r.options for r in rows if r.options})


def _terms(acc: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a test-buy verified: the option's terms."""
    return (acc.get("network_caip2"), acc.get("asset"), acc.get("pay_to"), acc.get("amount_atomic"), acc.get("scheme"))


def _replace_options(conn: Connection, paid: dict[int, list[tuple[list[dict[str, Any]], datetime]]]) -> None:
    """Each resource's options become the accepts of its last paid attempt. Verification carries over
    through unchanged terms only, attempt after attempt, as if each paid attempt replaced them in turn."""
    if not paid:
        return
    verified: dict[int, dict[tuple[Any, ...], tuple[bool, Any]]] = {rid: {} for rid in paid}
    cols = OPTIONS.c
    for chunk in chunks(list(paid)):
        query = (select(cols.resource_id, cols.network_caip2, cols.asset, cols.pay_to, cols.amount_atomic, cols.scheme,
                        cols.verified, cols.verified_at)
                 .where(cols.resource_id.in_(chunk)).order_by(cols.resource_id, cols.position))
        for row in conn.execute(query):
            verified[row.resource_id][_terms(row._mapping)] = (bool(row.verified), row.verified_at)
        conn.execute(delete(OPTIONS).where(cols.resource_id.in_(chunk)))
    values: list[dict[str, Any]] = []
    for rid, attempts in paid.items():
        final: list[dict[str, Any]] = []
        for accepts, seen_at in attempts:
            old = verified[rid]
            final = []
            for position, acc in enumerate(accepts):
                was_verified, verified_at = old.get(_terms(acc), (False, None))
                final.append({
                    "resource_id": rid, "position": position, "scheme": acc.get("scheme"), "network": acc.get("network"),
                    "network_caip2": acc.get("network_caip2"), "asset": acc.get("asset"), "pay_to": acc.get("pay_to"),
                    "amount_atomic": acc.get("amount_atomic"), "max_timeout_seconds": acc.get("max_timeout_seconds"),
                    "mime_type": acc.get("mime_type"), "description": acc.get("description"),
                    "extra": acc.get("extra") or {}, "verified": was_verified, "verified_at": verified_at,
                    "updated_at": seen_at,
                })
            verified[rid] = {_terms(v): (v["verified"], v["verified_at"]) for v in final}
        values.extend(final)
    if values:
        conn.execute(insert(OPTIONS), values)
