"""What an origin page (o/<slug>.html) and its JSON twin (o/<slug>.json) say about one origin, made
from its resources' summaries: its links (homepage and the discovery documents its resources were
found in), the payTo addresses with the networks they receive on, aggregate health, networks, price
range and every resource. Pure: plain data in, plain data out."""

from __future__ import annotations

from typing import Any

from index.catalog.record import UPTIME_MIN_PROBES, CatalogRecord

# source kinds that are documents of the origin itself, with how a page names them, in display order
LINK_KINDS = {"well_known": "/.well-known/x402", "openapi": "OpenAPI", "llms_txt": "llms.txt", "docs": "docs"}


def facts_of(rec: CatalogRecord) -> dict[str, Any]:
    """The part of one record an origin page needs, kept in the build's summaries (marshal-able):
    [address, network] per accept, and [kind, url] of its sources."""
    return {
        "pay_to": sorted({(a.pay_to, a.network_caip2 or a.network or "") for a in rec.accepts if a.pay_to}),
        "links": sorted({(s.kind, s.url) for s in rec.sources if s.kind and s.url}),
    }


def origin_summary(members: list[dict[str, Any]], generated_at: str | None) -> dict[str, Any]:
    """Everything the origin page and its twin show, from the summaries of its resources."""
    origin = members[0]["origin"]
    entries = [m["entry"] for m in members]
    host_prefix = origin["url"].rstrip("/") + "/"
    links = [{"kind": "homepage", "label": "homepage", "url": origin["url"]}]
    seen = {origin["url"]}
    found = {(kind, url) for m in members for kind, url in m.get("facts", {}).get("links", [])}
    for kind, label in LINK_KINDS.items():
        for url in sorted(u for k, u in found if k == kind and u.startswith(host_prefix) and u not in seen):
            seen.add(url)
            links.append({"kind": kind, "label": label, "url": url})
    listed = sorted({u for k, u in found if k == "facilitator"})
    receivers: dict[str, set[str]] = {}
    for m in members:
        for address, network in m.get("facts", {}).get("pay_to", []):
            receivers.setdefault(address, set()).update([network] if network else [])
    pay_to = [{"address": a, "networks": sorted(n)} for a, n in sorted(receivers.items())]
    prices = [e["price_usd"] for e in entries if e["price_usd"] is not None]
    probes = sum(e.get("probes_7d", 0) for e in entries)
    up = sum(e.get("up_7d", 0) for e in entries)
    status: dict[str, int] = {}
    for e in entries:
        status[e["status"]] = status.get(e["status"], 0) + 1
    checked = [e["last_probed_at"] for e in entries if e.get("last_probed_at")]
    return {
        "origin": origin,
        "generated_at": generated_at,
        "links": links,
        "listed_by": listed,
        "pay_to": pay_to,
        "networks": sorted({n for e in entries for n in e["networks"]}),
        "categories": sorted({e["category"] for e in entries}),
        "price_usd": {"min": min(prices), "max": max(prices)} if prices else {"min": None, "max": None},
        "health": {
            "resources": len(entries),
            "usable": status.get("paid", 0),
            "by_status": dict(sorted(status.items())),
            "probes_7d": probes,
            "up_7d": up,
            "uptime_7d_pct": round(up / probes * 100, 2) if probes >= UPTIME_MIN_PROBES else None,
            "last_checked": max(checked) if checked else None,
        },
        "resources": entries,
    }
