"""The per-probe ORM version of `index.store.write.record_probes`, as it was before the set-based one
(commit 27dbd02): the oracle of tests/store/test_store_equivalence.py. Not used by the project."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from index.store.models import Observation, Origin, PaymentOption, Resource
from index.probe.outcomes import ANSWERED, Outcome
from index.store.engine import session_scope
from index.store.pages import _get_origin
from index.store.write import as_datetime, declared_findings, merge_sources
from index.urls import canonical_url, resource_slug


def _unique_slug(session: Session, url: str, method: str, taken: set[str]) -> str:
    candidates = [resource_slug(url, method), resource_slug(url, method, with_method=True)]
    digest = hashlib.sha256(f"{method} {url}".encode()).hexdigest()[:8]
    candidates.append(f"{candidates[0][:71]}-{digest}")
    for slug in candidates:
        if slug not in taken and session.exec(select(Resource.id).where(Resource.slug == slug)).first() is None:
            return slug
    raise RuntimeError(f"slug collision for {method} {url}")  # a sha256 prefix collision: a bug to look at


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
            seen_at = as_datetime(probe.get("observed_at"))
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
            resource.sources = merge_sources(resource.sources or [], probe.get("sources") or [], seen_at)
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
                resource.findings = (challenge.get("findings") or []) + declared_findings(
                    resource.sources or [], challenge.get("accepts") or [])
                resource.last_paid_at = seen_at
                resource.last_good_observation_id = obs.id
                _replace_options(session, resource, challenge.get("accepts") or [], seen_at)
            session.add(resource)
    return counts
