"""A resource's payment options as the catalog publishes them: each accept with human amounts and
USD (only for registered stablecoins), the primary accept a price comparison uses, and the terms
sources declared for a resource no live 402 has confirmed yet. Pure: rows and dicts in, records out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from index.catalog.record import AcceptRecord, Hints
from index.protocol.networks import atomic_to_decimal, format_decimal, lookup_asset, lookup_network
from index.store.models import PaymentOption, Resource
from index.untrusted import iso_z

DECLARED_KINDS = ("openapi", "well_known", "facilitator", "llms_txt", "docs", "seed")  # whose declared terms win


def accept_record(opt: Any, hints: dict[str, Any]) -> AcceptRecord:
    """One payment option (a PaymentOption row, or a declared accept dict) with human amounts, USD
    only for registered stablecoins."""
    get = opt.get if isinstance(opt, dict) else (lambda k, d=None: getattr(opt, k, d))
    caip2, atomic = get("network_caip2"), get("amount_atomic")
    net = lookup_network(caip2)
    asset = lookup_asset(caip2, get("asset"))
    amount = price_usd = None
    if asset is not None and atomic is not None:
        human = atomic_to_decimal(int(atomic), asset.decimals)
        amount = format_decimal(human)
        price_usd = float(human) if asset.usd_pegged else None
    verified_at = get("verified_at")
    return AcceptRecord(
        scheme=get("scheme"), network=get("network"), network_caip2=caip2,
        network_name=net.name if net else None, testnet=net.testnet if net else None,
        pay_to=get("pay_to"), asset=get("asset"), asset_symbol=asset.symbol if asset else None,
        asset_decimals=asset.decimals if asset else None, max_amount_required_atomic=atomic,
        amount=amount, price_usd=price_usd, max_timeout_seconds=get("max_timeout_seconds"),
        mime_type=get("mime_type"), description=get("description"), verified=bool(get("verified", False)),
        verified_at=iso_z(verified_at) if isinstance(verified_at, datetime) else verified_at,
        hints=Hints(input=hints.get("input"), output=hints.get("output"), source=hints.get("source"),
                    input_schema=hints.get("input_schema") if isinstance(hints.get("input_schema"), dict) else None),
    )


def declared_terms(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sources' declared dicts, the most specific kind first."""
    rank = {k: i for i, k in enumerate(DECLARED_KINDS)}
    ordered = sorted((s for s in sources if isinstance(s.get("declared"), dict)),
                     key=lambda s: (rank.get(str(s.get("kind")), len(rank)), str(s.get("url"))))
    return [s["declared"] for s in ordered]


def declared_accepts(declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The accepts of the first declared dict that has any."""
    for d in declared:
        accepts = [a for a in d.get("accepts") or [] if isinstance(a, dict)]
        if accepts:
            return accepts
    return []


def primary_accept(accepts: list[AcceptRecord]) -> AcceptRecord | None:
    """The accept a price comparison uses: the cheapest in USD, else the first with known decimals."""
    priced = [a for a in accepts if a.price_usd is not None and a.max_amount_required_atomic is not None]
    if priced:
        return min(priced, key=lambda a: (a.price_usd, a.network_caip2 or ""))
    return next((a for a in accepts if a.asset_decimals is not None and a.max_amount_required_atomic is not None), None)


def resource_accepts(res: Resource, options: list[PaymentOption],
                     declared: list[dict[str, Any]]) -> tuple[list[AcceptRecord], str]:
    """A resource's accepts, and where its terms come from: its latest usable 402 once it answered one,
    else what a source declared."""
    if res.last_paid_at is not None:
        return [accept_record(o, res.hints or {}) for o in sorted(options, key=lambda o: o.position)], "probe"
    sources = res.sources or []
    kind = next((s.get("kind") for s in sources if (s.get("declared") or {}).get("accepts")), "source")
    return [accept_record(a, {}) for a in declared_accepts(declared)], f"declared:{kind}"
