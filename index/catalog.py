"""Normalize: database rows → CatalogRecord. Reads the store, never the network.

Every value on a record comes from an observation (or our registries); nothing is guessed.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from index.categories import classify
from index.models import Origin, PaymentOption, Resource
from index.networks import atomic_to_decimal, format_decimal, lookup_asset, lookup_network
from index.record import AcceptRecord, CatalogRecord, Hints, OriginRef, SourceRef

_VERSION_SEGMENT = re.compile(r"^(v\d+|api)$", re.IGNORECASE)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def readable_path(url: str) -> str:
    """'/v1/chat/completions' → 'Chat completions'; version and 'api' segments are dropped."""
    segments = [s for s in urlsplit(url).path.split("/") if s and not _VERSION_SEGMENT.match(s)]
    if not segments:
        return "Root"
    text = " ".join(re.sub(r"[-_.]+", " ", s) for s in segments[-2:])
    return text[:1].upper() + text[1:]


def accept_record(opt: PaymentOption, hints: dict[str, Any]) -> AcceptRecord:
    """One payment option with human amounts, USD only for registered stablecoins."""
    net = lookup_network(opt.network_caip2)
    asset = lookup_asset(opt.network_caip2, opt.asset)
    amount = price_usd = None
    if asset is not None and opt.amount_atomic is not None:
        human = atomic_to_decimal(int(opt.amount_atomic), asset.decimals)
        amount = format_decimal(human)
        price_usd = float(human) if asset.usd_pegged else None
    return AcceptRecord(
        scheme=opt.scheme, network=opt.network, network_caip2=opt.network_caip2,
        network_name=net.name if net else None, testnet=net.testnet if net else None,
        pay_to=opt.pay_to, asset=opt.asset, asset_symbol=asset.symbol if asset else None,
        asset_decimals=asset.decimals if asset else None, max_amount_required_atomic=opt.amount_atomic,
        amount=amount, price_usd=price_usd, max_timeout_seconds=opt.max_timeout_seconds,
        mime_type=opt.mime_type, description=opt.description, verified=opt.verified,
        verified_at=_iso(opt.verified_at),
        hints=Hints(input=hints.get("input"), output=hints.get("output"), source=hints.get("source")),
    )


def example_body(hints: dict[str, Any]) -> Any:
    """An example request body the server published in its own hints (bazaar `body`), if any."""
    inp = hints.get("input")
    if isinstance(inp, dict) and inp.get("body") is not None and hints.get("source") == "bazaar":
        return inp["body"]
    return None


def build_record(res: Resource, origin: Origin, options: list[PaymentOption], generated_at: str) -> CatalogRecord:
    hints = res.hints or {}
    accepts = [accept_record(o, hints) for o in sorted(options, key=lambda o: o.position)]
    provider = res.service_name or origin.title or origin.host
    description = res.description or next((a.description for a in accepts if a.description), None)
    prices = [a.price_usd for a in accepts if a.price_usd is not None]
    return CatalogRecord(
        slug=res.slug,
        title=f"{provider} · {readable_path(res.url)}",
        url=res.url,
        method=res.method,
        category=classify(description, urlsplit(res.url).path.replace("/", " "), " ".join(res.tags or []), res.service_name),
        summary=description or f"Paid {res.method} endpoint {urlsplit(res.url).path} on {origin.host}.",
        example_request_body=example_body(hints),
        accepts=accepts,
        origin=OriginRef(slug=origin.slug, host=origin.host, title=origin.title, description=origin.description,
                         url=origin.url, favicon=origin.favicon),
        status=res.status or "unknown",
        x402_version=res.x402_version,
        networks=sorted({a.network_caip2 for a in accepts if a.network_caip2}),
        price_usd=min(prices) if prices else None,
        first_seen=_iso(res.first_seen) or "",
        last_seen=_iso(res.last_seen),
        last_probed_at=_iso(res.last_probed_at),
        last_paid_at=_iso(res.last_paid_at),
        findings=res.findings or [],
        sources=[SourceRef(**s) for s in res.sources or []],
        tags=list(res.tags or []),
        generated_at=generated_at,
    )


def build_records(engine: Engine, slug: str | None = None) -> list[CatalogRecord]:
    """Every resource that has ever answered a usable 402 (or just the one with `slug`), as catalog
    records sorted by slug. `generated_at` is the newest probe time in the whole catalog."""
    with Session(engine) as session:
        generated = session.exec(select(func.max(Resource.last_probed_at))).one()
        query = select(Resource).where(Resource.last_paid_at.is_not(None))
        if slug is not None:
            query = query.where(Resource.slug == slug)
        resources = session.exec(query).all()
        origin_query, option_query = select(Origin), select(PaymentOption)
        if slug is not None:  # one record: read only its rows (a whole build reads every row once)
            origin_query = origin_query.where(Origin.id.in_({r.origin_id for r in resources}))
            option_query = option_query.where(PaymentOption.resource_id.in_([r.id for r in resources]))
        origins = {o.id: o for o in session.exec(origin_query).all()}
        options: dict[int, list[PaymentOption]] = {}
        for opt in session.exec(option_query).all():
            options.setdefault(opt.resource_id, []).append(opt)
    generated_at = _iso(generated) or _iso(datetime(1970, 1, 1, tzinfo=UTC))
    records = [build_record(r, origins[r.origin_id], options.get(r.id, []), generated_at) for r in resources]
    return sorted(records, key=lambda r: r.slug)


def find_record(engine: Engine, slug: str) -> CatalogRecord | None:
    """One record by slug, or None."""
    found = build_records(engine, slug)
    return found[0] if found else None
