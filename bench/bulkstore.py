"""A set-based prototype of `index.store.record_probes`, for the bench only.

Same rows, same rules as the project's version (one observation per attempt; resource state from
final attempts; a failed probe never erases payment options; a test-buy's verification survives only
while the terms are unchanged), but per batch instead of per probe, and with SQLAlchemy Core rows
(plain dicts) instead of SQLModel objects, whose construction is the single largest cost of the
per-probe version:

- one SELECT for the batch's origins, one for its resources, one for candidate slugs;
- new origins, new resources and all observations inserted by executemany INSERT … RETURNING id;
- resource and origin state computed in memory, in attempt order, then one executemany UPDATE;
- payment options: one SELECT of the old ones, one DELETE, one executemany INSERT.

`bench/check_bulkstore.py` checks it writes the same rows as `index.store.record_probes`. It is a
measurement of what the design costs, not a module to import from the project.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from index.models import Observation, Origin, PaymentOption, Resource
from index.outcomes import ANSWERED, Outcome
from index.store import _as_datetime, _merge_sources, session_scope

try:  # declared-vs-live findings (newer store): a paid probe's findings include them
    from index.store import _declared_findings
except ImportError:  # pragma: no cover - older store
    def _declared_findings(sources: list[dict[str, Any]], accepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return []
from index.urls import canonical_url, origin_of, origin_slug, resource_slug

_CHUNK = 500  # bound on IN (...) lists

ORIGINS = Origin.__table__
RESOURCES = Resource.__table__
OBSERVATIONS = Observation.__table__
OPTIONS = PaymentOption.__table__


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _slug_candidates(url: str, method: str) -> list[str]:
    first = resource_slug(url, method)
    digest = hashlib.sha256(f"{method} {url}".encode()).hexdigest()[:8]
    return [first, resource_slug(url, method, with_method=True), f"{first[:71]}-{digest}"]


def _insert_returning_ids(conn: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).scalars().all())


def _update_by_id(conn: Any, table: Any, changes: dict[int, dict[str, Any]]) -> None:
    """executemany UPDATE … WHERE id = :_id, one statement per distinct set of columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row_id, values in changes.items():
        if values:
            groups.setdefault(tuple(sorted(values)), []).append({"_id": row_id, **values})
    for columns, rows in groups.items():
        stmt = update(table).where(table.c.id == bindparam("_id")).values({c: bindparam(c) for c in columns})
        conn.execute(stmt, rows)


def record_probes(engine: Any, probes: Iterable[dict[str, Any]], crawl_run_id: int | None = None) -> dict[str, int]:
    """Write probe results in one transaction, set-based. Returns counts: observations, new_resources."""
    rows = []
    for probe in probes:
        url = canonical_url(probe["url"])
        method = (probe.get("method") or "GET").upper()
        resource_method = (probe.get("resource_method") or method).upper()
        rows.append((probe, url, method, resource_method, _as_datetime(probe.get("observed_at")), Outcome(probe["outcome"])))
    counts = {"observations": len(rows), "new_resources": 0}
    if not rows:
        return counts

    with session_scope(engine) as session:
        conn = session.connection()

        # origins: id by URL; new ones inserted
        first_seen: dict[str, Any] = {}
        for _, url, _, _, seen_at, _ in rows:
            first_seen.setdefault(origin_of(url), seen_at)
        origin_ids: dict[str, int] = {}
        for chunk in _chunks(list(first_seen)):
            origin_ids.update({r.url: r.id for r in conn.execute(select(ORIGINS.c.id, ORIGINS.c.url).where(ORIGINS.c.url.in_(chunk)))})
        new_origins = [{"url": base, "host": base.split("://", 1)[1], "slug": origin_slug(base), "first_seen": seen,
                        "title": None, "description": None, "favicon": None, "last_seen": None}
                       for base, seen in first_seen.items() if base not in origin_ids]
        origin_ids.update(zip([o["url"] for o in new_origins], _insert_returning_ids(conn, ORIGINS, new_origins), strict=True))

        # resources: id and sources by (url, method); new ones inserted with their defaults
        keys: dict[tuple[str, str], Any] = {}
        for _, url, _, resource_method, seen_at, _ in rows:
            keys.setdefault((url, resource_method), seen_at)
        resource_ids: dict[tuple[str, str], int] = {}
        sources: dict[int, list[dict[str, Any]]] = {}
        for chunk in _chunks(sorted({url for url, _ in keys})):
            query = select(RESOURCES.c.id, RESOURCES.c.url, RESOURCES.c.method, RESOURCES.c.sources).where(RESOURCES.c.url.in_(chunk))
            for r in conn.execute(query):
                if (r.url, r.method) in keys:
                    resource_ids[(r.url, r.method)] = r.id
                    sources[r.id] = r.sources or []
        missing = [key for key in keys if key not in resource_ids]
        if missing:
            wanted = {key: _slug_candidates(*key) for key in missing}
            every = sorted({slug for slugs in wanted.values() for slug in slugs})
            taken: set[str] = set()
            for chunk in _chunks(every):
                taken.update(conn.execute(select(RESOURCES.c.slug).where(RESOURCES.c.slug.in_(chunk))).scalars())
            new_rows = []
            for (url, resource_method), slugs in wanted.items():
                slug = next((s for s in slugs if s not in taken), None)
                if slug is None:
                    raise RuntimeError(f"slug collision for {resource_method} {url}")
                taken.add(slug)
                new_rows.append({
                    "url": url, "method": resource_method, "origin_id": origin_ids[origin_of(url)], "slug": slug,
                    "first_seen": keys[(url, resource_method)], "status": None, "last_probed_at": None,
                    "x402_version": None, "resource_url": None, "description": None, "mime_type": None,
                    "service_name": None, "tags": [], "hints": {}, "findings": [], "last_paid_at": None,
                    "last_good_observation_id": None, "sources": [], "last_seen": None,
                })
            for key, rid in zip(missing, _insert_returning_ids(conn, RESOURCES, new_rows), strict=True):
                resource_ids[key] = rid
                sources[rid] = []
            counts["new_resources"] = len(new_rows)

        # observations
        with_plan = "attempt" in OBSERVATIONS.c
        values = []
        for probe, url, method, resource_method, seen_at, outcome in rows:
            challenge = probe.get("challenge") or None
            row = {
                "resource_id": resource_ids[(url, resource_method)], "crawl_run_id": crawl_run_id,
                "observed_at": seen_at, "method": method, "outcome": outcome.value,
                "http_status": probe.get("http_status"), "latency_ms": probe.get("latency_ms"),
                "error_code": probe.get("error_code"), "x402_version": (challenge or {}).get("x402_version"),
                "raw_headers": probe.get("headers") or {}, "raw_body": probe.get("body"), "parsed": challenge,
                "findings": (challenge or {}).get("findings") or [],
            }
            if with_plan:
                row.update(attempt=probe.get("attempt") or 0, final_url=probe.get("final_url"), robots=probe.get("robots"))
            values.append(row)
        obs_ids = _insert_returning_ids(conn, OBSERVATIONS, values)

        # current state, in attempt order
        resource_changes: dict[int, dict[str, Any]] = {}
        origin_changes: dict[int, dict[str, Any]] = {}
        options: dict[int, list[tuple[list[dict[str, Any]], Any]]] = {}
        for (probe, url, _, resource_method, seen_at, outcome), obs_id in zip(rows, obs_ids, strict=True):
            rid = resource_ids[(url, resource_method)]
            change = resource_changes.setdefault(rid, {})
            sources[rid] = change["sources"] = _merge_sources(sources[rid], probe.get("sources") or [], seen_at)
            if outcome in ANSWERED:
                change["last_seen"] = seen_at
                origin_changes[origin_ids[origin_of(url)]] = {"last_seen": seen_at}
            if not probe.get("final", True):
                continue
            change["status"] = outcome.value
            change["last_probed_at"] = seen_at
            challenge = probe.get("challenge") or None
            if outcome is Outcome.PAID and challenge:
                res = challenge.get("resource") or {}
                change.update(
                    x402_version=challenge.get("x402_version"), resource_url=res.get("url"),
                    description=res.get("description"), mime_type=res.get("mime_type"),
                    service_name=res.get("service_name"), tags=res.get("tags") or [],
                    hints=challenge.get("hints") or {},
                    findings=(challenge.get("findings") or []) + _declared_findings(sources[rid], challenge.get("accepts") or []),
                    last_paid_at=seen_at, last_good_observation_id=obs_id,
                )
                options.setdefault(rid, []).append((challenge.get("accepts") or [], seen_at))
        _update_by_id(conn, RESOURCES, resource_changes)
        _update_by_id(conn, ORIGINS, origin_changes)
        if options:
            _replace_options(conn, options)
    return counts


def _key(acc: dict[str, Any]) -> tuple[Any, ...]:
    return (acc.get("network_caip2"), acc.get("asset"), acc.get("pay_to"), acc.get("amount_atomic"), acc.get("scheme"))


def _replace_options(conn: Any, options: dict[int, list[tuple[list[dict[str, Any]], Any]]]) -> None:
    """Each resource's options become its last paid attempt's accepts; verification carries over only
    through unchanged terms, attempt after attempt, as the per-probe version does."""
    ids = list(options)
    current: dict[int, dict[tuple[Any, ...], tuple[bool, Any]]] = {rid: {} for rid in ids}
    cols = OPTIONS.c
    for chunk in _chunks(ids):
        query = select(cols.resource_id, cols.network_caip2, cols.asset, cols.pay_to, cols.amount_atomic, cols.scheme,
                       cols.verified, cols.verified_at).where(cols.resource_id.in_(chunk))
        for row in conn.execute(query):
            acc = {"network_caip2": row.network_caip2, "asset": row.asset, "pay_to": row.pay_to,
                   "amount_atomic": row.amount_atomic, "scheme": row.scheme}
            current[row.resource_id][_key(acc)] = (bool(row.verified), row.verified_at)
        conn.execute(delete(OPTIONS).where(cols.resource_id.in_(chunk)))
    values = []
    for rid, attempts in options.items():
        final: list[dict[str, Any]] = []
        for accepts, seen_at in attempts:
            old = current[rid]
            final = []
            for position, acc in enumerate(accepts):
                verified, verified_at = old.get(_key(acc), (False, None))
                final.append({
                    "resource_id": rid, "position": position, "scheme": acc.get("scheme"), "network": acc.get("network"),
                    "network_caip2": acc.get("network_caip2"), "asset": acc.get("asset"), "pay_to": acc.get("pay_to"),
                    "amount_atomic": acc.get("amount_atomic"), "max_timeout_seconds": acc.get("max_timeout_seconds"),
                    "mime_type": acc.get("mime_type"), "description": acc.get("description"),
                    "extra": acc.get("extra") or {}, "verified": verified, "verified_at": verified_at,
                    "updated_at": seen_at,
                })
            current[rid] = {_key(v): (v["verified"], v["verified_at"]) for v in final}
        values.extend(final)
    if values:
        conn.execute(insert(OPTIONS), values)
