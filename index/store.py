"""The store: engine, sessions, and the one write path for probe results.

`record_probes` takes plain dicts (what the crawler's pipeline hands over) and writes them in one
transaction: an observation row per attempt, then current state derived from it. A failed probe
never erases a resource's last good payment options.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine, delete, select

from index.declared import compare_declared
from index.models import CrawlRun, DocPage, Observation, Origin, PaymentOption, Resource
from index.outcomes import ANSWERED, Outcome
from index.urls import canonical_url, origin_of, origin_slug, resource_slug

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


def init_db(url: str) -> Engine:
    """Engine of a database at the newest schema (migrations applied; idempotent)."""
    from index.migrate import upgrade

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


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _unique_slug(session: Session, url: str, method: str, taken: set[str]) -> str:
    candidates = [resource_slug(url, method), resource_slug(url, method, with_method=True)]
    digest = hashlib.sha256(f"{method} {url}".encode()).hexdigest()[:8]
    candidates.append(f"{candidates[0][:71]}-{digest}")
    for slug in candidates:
        if slug not in taken and session.exec(select(Resource.id).where(Resource.slug == slug)).first() is None:
            return slug
    raise RuntimeError(f"slug collision for {method} {url}")  # a sha256 prefix collision: a bug to look at


def _get_origin(session: Session, url: str, seen_at: datetime, cache: dict[str, Origin]) -> Origin:
    base = origin_of(url)
    if base in cache:
        return cache[base]
    origin = session.exec(select(Origin).where(Origin.url == base)).first()
    if origin is None:
        host = base.split("://", 1)[1]
        origin = Origin(url=base, host=host, slug=origin_slug(base), first_seen=seen_at)
        session.add(origin)
        session.flush()
    cache[base] = origin
    return origin


def _merge_sources(existing: list[dict[str, Any]], new: Iterable[dict[str, Any]], seen_at: datetime) -> list[dict[str, Any]]:
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


def _replace_options(session: Session, resource: Resource, accepts: list[dict[str, Any]], seen_at: datetime) -> None:
    old = {(o.network_caip2, o.asset, o.pay_to, o.amount_atomic, o.scheme): o
           for o in session.exec(select(PaymentOption).where(PaymentOption.resource_id == resource.id)).all()}
    session.exec(delete(PaymentOption).where(PaymentOption.resource_id == resource.id))
    session.flush()
    for position, acc in enumerate(accepts):
        key = (acc.get("network_caip2"), acc.get("asset"), acc.get("pay_to"), acc.get("amount_atomic"), acc.get("scheme"))
        kept = old.get(key)  # a test-buy's verification holds only while the terms are unchanged
        session.add(PaymentOption(
            resource_id=resource.id, position=position, scheme=acc.get("scheme"), network=acc.get("network"),
            network_caip2=acc.get("network_caip2"), asset=acc.get("asset"), pay_to=acc.get("pay_to"),
            amount_atomic=acc.get("amount_atomic"), max_timeout_seconds=acc.get("max_timeout_seconds"),
            mime_type=acc.get("mime_type"), description=acc.get("description"), extra=acc.get("extra") or {},
            verified=bool(kept and kept.verified), verified_at=kept.verified_at if kept else None, updated_at=seen_at,
        ))


def _declared_findings(sources: list[dict[str, Any]], accepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where a source's claims (an OpenAPI price, a registry's terms) disagree with the live 402."""
    out: list[dict[str, Any]] = []
    for src in sources:
        if src.get("declared"):
            for f in compare_declared(src["declared"], accepts):
                out.append({**f, "where": f"source:{src.get('kind')}"})
    return out


def _refresh_declared_findings(session: Session, resource: Resource) -> None:
    """Recompute the declared-vs-live findings of a resource from its sources and current terms."""
    options = session.exec(select(PaymentOption).where(PaymentOption.resource_id == resource.id)).all()
    accepts = [{"amount_atomic": o.amount_atomic, "network_caip2": o.network_caip2, "asset": o.asset,
                "pay_to": o.pay_to, "scheme": o.scheme} for o in sorted(options, key=lambda o: o.position)]
    kept = [f for f in resource.findings or [] if not str(f.get("where", "")).startswith("source:")]
    resource.findings = kept + _declared_findings(resource.sources or [], accepts)


def record_probes(engine: Engine, probes: Iterable[dict[str, Any]], crawl_run_id: int | None = None) -> dict[str, int]:
    """Write probe results in one transaction. Returns counts: observations, new_resources."""
    counts = {"observations": 0, "new_resources": 0}
    with session_scope(engine) as session:
        origins: dict[str, Origin] = {}
        slugs_taken: set[str] = set()
        for probe in probes:
            url = canonical_url(probe["url"])
            method = (probe.get("method") or "GET").upper()  # the attempt's method
            # The resource an attempt belongs to: a probe may ask GET, be refused, and get its 402 by POST.
            resource_method = (probe.get("resource_method") or method).upper()
            final = probe.get("final", True)
            seen_at = _as_datetime(probe.get("observed_at"))
            outcome = Outcome(probe["outcome"])
            origin = _get_origin(session, url, seen_at, origins)
            resource = session.exec(select(Resource).where(Resource.url == url, Resource.method == resource_method)).first()
            if resource is None:
                slug = _unique_slug(session, url, resource_method, slugs_taken)
                slugs_taken.add(slug)
                resource = Resource(url=url, method=resource_method, origin_id=origin.id, slug=slug, first_seen=seen_at)
                session.add(resource)
                session.flush()
                counts["new_resources"] += 1
            challenge = probe.get("challenge") or None
            obs = Observation(
                resource_id=resource.id, crawl_run_id=crawl_run_id, observed_at=seen_at, method=method,
                attempt=probe.get("attempt") or 0, final=bool(final), final_url=probe.get("final_url"), robots=probe.get("robots"),
                outcome=outcome.value, http_status=probe.get("http_status"), latency_ms=probe.get("latency_ms"),
                error_code=probe.get("error_code"), x402_version=(challenge or {}).get("x402_version"),
                raw_headers=probe.get("headers") or {}, raw_body=probe.get("body"), parsed=challenge,
                findings=(challenge or {}).get("findings") or [],
            )
            session.add(obs)
            session.flush()
            counts["observations"] += 1
            resource.sources = _merge_sources(resource.sources or [], probe.get("sources") or [], seen_at)
            if outcome in ANSWERED:
                resource.last_seen = seen_at
                origin.last_seen = seen_at
            if not final:  # an earlier attempt of a probe that went on: history only
                session.add(resource)
                continue

            resource.status = outcome.value
            resource.last_probed_at = seen_at
            if outcome is Outcome.PAID and challenge:
                res = challenge.get("resource") or {}
                resource.x402_version = challenge.get("x402_version")
                resource.resource_url = res.get("url")
                resource.description = res.get("description")
                resource.mime_type = res.get("mime_type")
                resource.service_name = res.get("service_name")
                resource.tags = res.get("tags") or []
                resource.hints = challenge.get("hints") or {}
                resource.findings = (challenge.get("findings") or []) + _declared_findings(
                    resource.sources or [], challenge.get("accepts") or [])
                resource.last_paid_at = seen_at
                resource.last_good_observation_id = obs.id
                _replace_options(session, resource, challenge.get("accepts") or [], seen_at)
            session.add(resource)
    return counts


def record_origin_pages(engine: Engine, pages: Iterable[dict[str, Any]]) -> None:
    """Pages read from origins (homepages, docs, discovery files): one DocPage row per URL, latest
    fetch wins; a homepage's title, description and favicon go on its origin. A failed fetch keeps
    the last extracted data."""
    with session_scope(engine) as session:
        origins: dict[str, Origin] = {}
        touched: dict[int, Origin] = {}
        for page in pages:
            seen_at = _as_datetime(page.get("fetched_at"))
            origin = _get_origin(session, page["origin"], seen_at, origins)
            url = page.get("url") or origin.url + "/"
            row = session.exec(select(DocPage).where(DocPage.url == url)).first()
            extracted = page.get("extracted") or page.get("meta") or {}
            if row is None:
                row = DocPage(origin_id=origin.id, url=url, kind=page.get("page_kind") or "homepage")
            row.fetched_at, row.status, row.error_code = seen_at, page.get("status"), page.get("error_code")
            row.content_type = page.get("content_type")
            if extracted or row.extracted is None:
                row.extracted = extracted
            session.add(row)
            session.flush()
            touched[origin.id] = origin
        for origin in touched.values():
            _derive_origin_meta(session, origin)


_META_PRIORITY = ("homepage", "parent_homepage", "openapi")


def _derive_origin_meta(session: Session, origin: Origin) -> None:
    """An origin's title, description and favicon from its pages, in order of trust: its homepage,
    then (for an api. subdomain) its parent domain's homepage, then OpenAPI `info`; a favicon found
    only at /favicon.ico comes last. A field no page gives keeps its last value."""
    pages = {p.kind: p for p in session.exec(select(DocPage).where(DocPage.origin_id == origin.id)).all()}
    for field in ("title", "description", "favicon"):
        for kind in _META_PRIORITY:
            page = pages.get(kind)
            data = (page.extracted or {}) if page else {}
            data = (data.get("info") or {}) if kind == "openapi" else data
            value = data.get(field) if isinstance(data, dict) else None
            if isinstance(value, str) and value.strip():
                setattr(origin, field, value[:500])
                break
        else:
            icon = pages.get("favicon")
            if field == "favicon" and icon is not None and icon.status == 200:
                origin.favicon = icon.url
    session.add(origin)


def record_sources(engine: Engine, sightings: Iterable[dict[str, Any]]) -> int:
    """Sources that named a resource after its probe was already recorded in this crawl: merged into
    the resource with that URL and method (or, failing that, the only resource with that URL)."""
    merged = 0
    with session_scope(engine) as session:
        for s in sightings:
            url = canonical_url(s["url"])
            rows = session.exec(select(Resource).where(Resource.url == url)).all()
            match = [r for r in rows if r.method == (s.get("method") or "GET").upper()] or (rows if len(rows) == 1 else [])
            for resource in match:
                resource.sources = _merge_sources(resource.sources or [], [s["source"]], _as_datetime(s.get("seen_at")))
                if (s["source"] or {}).get("declared") and resource.last_good_observation_id is not None:
                    _refresh_declared_findings(session, resource)
                session.add(resource)
                merged += 1
    return merged
