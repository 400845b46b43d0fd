"""The store's rarer writes, through the ORM: pages read from origins (homepages, docs, discovery
files) and sources that named a resource after its probe was recorded. The probe path is
index.store.write."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from index.findings import finding
from index.probe.storable import storable
from index.store.engine import session_scope
from index.store.items import PageItem, SourceItem
from index.store.models import DocPage, Origin, PaymentOption, Resource
from index.store.write import REFUSED, as_datetime, declared_findings, merge_sources, new_origin_slugs
from index.urls import canonical_url, origin_of

logger = logging.getLogger(__name__)


def record_origin_pages(engine: Engine, pages: Iterable[PageItem]) -> None:
    """Pages read from origins (homepages, docs, discovery files): one DocPage row per URL, latest
    fetch wins; a homepage's title, description and favicon go on its origin. A failed fetch keeps
    the last extracted data. Text passes `index.probe.storable` (a `text_unstorable` finding when it
    had to); a batch the database refuses is written page by page, a refused page skipped."""
    batch = [_storable_page(page) for page in pages]
    try:
        _record_pages(engine, batch)
    except REFUSED:  # one refused page must not cost the others
        for page in batch:
            try:
                _record_pages(engine, [page])
            except REFUSED:
                logger.warning("the database refused the page %s; skipped", str(page.get("url"))[:300], exc_info=True)


def _storable_page(page: dict[str, Any]) -> dict[str, Any]:
    clean, changed = storable(page)
    if changed:
        extracted = dict(clean.get("extracted") or {})
        extracted["findings"] = [*(extracted.get("findings") or []), finding("text_unstorable", "page")]
        clean["extracted"] = extracted
    return clean


def _record_pages(engine: Engine, pages: list[dict[str, Any]]) -> None:
    with session_scope(engine) as session:
        origins: dict[str, Origin] = {}
        touched: dict[int, Origin] = {}
        for page in pages:
            seen_at = as_datetime(page.get("fetched_at"))
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


def record_sources(engine: Engine, sightings: Iterable[SourceItem]) -> int:
    """Sources that named a resource after its probe was already recorded in this crawl: merged into
    the resource with that URL and method (or, failing that, the only resource with that URL)."""
    merged = 0
    with session_scope(engine) as session:
        for s in (storable(sighting)[0] for sighting in sightings):
            url = canonical_url(s["url"])
            rows = session.exec(select(Resource).where(Resource.url == url)).all()
            match = [r for r in rows if r.method == (s.get("method") or "GET").upper()] or (rows if len(rows) == 1 else [])
            for resource in match:
                resource.sources = merge_sources(resource.sources or [], [s["source"]], as_datetime(s.get("seen_at")))
                if (s["source"] or {}).get("declared") and resource.last_good_observation_id is not None:
                    _refresh_declared_findings(session, resource)
                session.add(resource)
                merged += 1
    return merged


def _get_origin(session: Session, url: str, seen_at: datetime, cache: dict[str, Origin]) -> Origin:
    base = origin_of(url)
    if base in cache:
        return cache[base]
    origin = session.exec(select(Origin).where(Origin.url == base)).first()
    if origin is None:
        host = base.split("://", 1)[1]
        slug = new_origin_slugs(session.connection(), [base])[base]
        origin = Origin(url=base, host=host, slug=slug, first_seen=seen_at)
        session.add(origin)
        session.flush()
    cache[base] = origin
    return origin


def _refresh_declared_findings(session: Session, resource: Resource) -> None:
    """Recompute the declared-vs-live findings of a resource from its sources and current terms."""
    options = session.exec(select(PaymentOption).where(PaymentOption.resource_id == resource.id)).all()
    accepts = [{"amount_atomic": o.amount_atomic, "network_caip2": o.network_caip2, "asset": o.asset,
                "pay_to": o.pay_to, "scheme": o.scheme} for o in sorted(options, key=lambda o: o.position)]
    kept = [f for f in resource.findings or [] if not str(f.get("where", "")).startswith("source:")]
    resource.findings = kept + declared_findings(resource.sources or [], accepts)
