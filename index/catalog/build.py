"""Normalize: database rows → CatalogRecord. Reads the store, never the network.

Every value on a record comes from an observation, a page we fetched, a source's listing (marked as
such) or our registries; the rules are in docs/methodology.md and the pure modules this one calls:
accepts (payment options), describe (words), examples (example request), pricing (sanity), health
(windows, terms history), trust (tier, risk notes), jsonld. The only clock is the newest probe time
in the database, so two builds of one database are byte-identical.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from index.catalog import describe
from index.catalog import pricing
from index.catalog.accepts import declared_terms, primary_accept, resource_accepts
from index.catalog.docs_hints import choose_hints, docs_hints, input_fields, openapi_description, output_keys, whole_body
from index.catalog.docs_match import docs_for
from index.catalog.owner import OwnerView
from index.catalog.examples import example_request
from index.catalog.health import HISTORY_SPAN, Sample, terms_changes, window_figures
from index.catalog.jsonld import site_link
from index.store.engine import in_this_process
from index.store.models import DocPage, Observation, Origin, PaymentOption, Resource, ResourceChange
from index.catalog.plan import CatalogPlan, atomic_of, category_of, description_of, in_memory, plan_catalog
from index.catalog.reads import aware as _aware, by_ids, in_catalog, iso as _iso, origins_and_options, other_protocols, owners
from index.protocol.scripts import mixed_script_findings
from index.catalog.record import (
    AcceptRecord,
    BuyInstructions,
    CatalogRecord,
    Conformance,
    ExampleRequest,
    Health,
    OriginRef,
    OtherProtocol,
    SourceRef,
)
from index.catalog.finish import Draft as _Draft
from index.catalog.finish import finish_record
from index.catalog.trust import Facts

DOC_KINDS = ("docs", "homepage", "parent_homepage")  # pages docs_for reads, best first


def _iso_text(value: Any) -> Any:
    """A time stored as ISO text (the sources' first/last seen), written as every time of a record is."""
    if not isinstance(value, str):
        return value
    try:
        return _iso(datetime.fromisoformat(value))
    except ValueError:
        return value


STATUS_KINDS = ("went_down", "recovered", "removed", "retired")


def _draft(res: Resource, origin: Origin, options: list[PaymentOption], extracts: list[dict[str, Any]],
           samples: list[Sample], history: list[tuple[datetime, list[dict[str, Any]]]],
           window_end: datetime, generated_at: str, site_url: str,
           status_changes: list[dict[str, Any]] | None = None, owner: OwnerView | None = None,
           other: dict[str, Any] | None = None, variant_url: str | None = None) -> _Draft:
    sources = res.sources or []
    declared = declared_terms(sources)
    ever_paid = res.last_paid_at is not None
    path = urlsplit(res.url).path
    docs = docs_for(extracts, path, res.method) if extracts else {}
    hints, hint_findings = choose_hints(res.hints, declared, docs_hints(docs, res.method) if docs else None)
    accepts, terms_source = resource_accepts(res, options, declared, hints)
    description = description_of(res, accepts)
    words = owner.words(res.url, res.method) if owner else {}  # a verified owner's text wins over ours
    provider = describe.provider_name(words.get("name") or res.service_name, origin.title, origin.host)
    category = words.get("category") or category_of(res, origin, accepts, path, description)
    summary, summary_source = describe.summary(
        [(description, "challenge"), (words.get("resource_description"), "owner"), (docs.get("description"), "docs"),
         (openapi_description(sources), "openapi"), (words.get("description") or origin.description, "origin")],
        res.method, res.url, origin.host)
    owner_fields = [name for name, key in (("title", "name"), ("category", "category"), ("origin.title", "name"),
                                           ("origin.description", "description")) if words.get(key)]
    if summary_source == "owner":
        owner_fields.append("summary")
    docs_body = docs.get("example_body") if whole_body(docs.get("example_body"), docs.get("fields")) else None
    example = example_request(res.url, res.method, hints, docs_body, declared)
    if variant_url and example.url == res.url:  # a query-string variant with the same terms was folded into this one
        example = replace(example, url=variant_url, source=example.source or "probe", null_reason=example.null_reason)
    primary = primary_accept(accepts)
    prices = [a.price_usd for a in accepts if a.price_usd is not None]
    price_usd = min(prices) if prices else None
    network_names = sorted({a.network_name or a.network or "" for a in accepts} - {""})
    price_text = describe.price_phrase(
        primary.price_usd if primary else None, primary.amount if primary else None,
        primary.asset_symbol if primary else None,
        primary.max_amount_required_atomic if primary else (accepts[0].max_amount_required_atomic if accepts else None))
    seo = describe.seo(provider, res.url, summary, price_text, network_names)
    title = describe.title(provider, res.url)
    page_path = f"r/{res.slug}.html"
    page = site_link(site_url, page_path)
    crawl_cmd, buy_cmd, pay_cmd = describe.test_buy_commands(
        res.url, res.method, [(a.network_caip2 or a.network, a.testnet) for a in accepts])
    buy = BuyInstructions(command=buy_cmd, pay_command=pay_cmd, crawl_command=crawl_cmd, page=f"{page}#test-buy")
    findings = [f for f in (res.findings or []) if isinstance(f, dict)] if ever_paid else []
    if hints.get("input"):  # the record describes its input after all (docs, OpenAPI): not "not agent-callable"
        findings = [f for f in findings if f.get("code") != "no_input_schema"]
    findings += hint_findings
    findings += owner.findings if owner else []  # proofs that did not verify: errors of every resource of the origin
    findings += mixed_script_findings({"origin.title": words.get("name") or origin.title,
                                       "origin.description": words.get("description") or origin.description})
    errors = sum(1 for f in findings if f.get("severity") == "error")
    warnings = sum(1 for f in findings if f.get("severity") == "warning")
    verified_at = [a.verified_at for a in accepts if a.verified and a.verified_at]
    windows = window_figures(samples, window_end)
    changes = terms_changes(history)
    auth_notes = [n["text"] for n in docs.get("notes") or [] if n.get("kind") == "auth_alternative" and n.get("text")]
    usd = Decimal(str(primary.price_usd)) if primary and primary.price_usd is not None else None
    atomic = atomic_of(primary)
    offer = None
    if primary is not None and primary.amount is not None:
        offer = {"price": primary.amount, "currency": primary.asset_symbol or primary.asset,
                 "network": primary.network, "asset": primary.asset}

    facts = Facts(
        status=res.status or "unknown", ever_paid=ever_paid, last_paid_at=_aware(res.last_paid_at),
        window_end=window_end, url=res.url, verified=bool(verified_at) and res.status == "paid",
        origin_identified=bool(origin.title or origin.description or words), error_findings=errors,
        owner_verified=bool(owner and owner.verified), other_protocol=(other or {}).get("protocol"),
        networks_testnet=[a.testnet for a in accepts],
        pay_tos=[(a.network_caip2 or a.network, a.pay_to) for a in accepts if a.pay_to],
        unknown_assets=sum(1 for a in accepts if a.asset_symbol is None), changes=changes, auth_notes=auth_notes,
        findings=findings,
    )
    null_reasons: dict[str, str] = {}
    if example.body is None and example.null_reason:
        null_reasons["example_request_body"] = example.null_reason
    if price_usd is None:
        null_reasons["price_usd"] = ("no accept is in a USD stablecoin we know" if accepts else "no accepts")
    if res.x402_version is None:
        null_reasons["x402_version"] = "never answered a usable 402"
    if not verified_at:
        null_reasons["last_verified"] = "no successful test-buy of a current accept"
    if res.last_seen is None:
        null_reasons["last_seen"] = "the server never answered our probe"
    for name in ("title", "description", "favicon"):
        if getattr(origin, name) is None:
            null_reasons[f"origin.{name}"] = f"the origin's pages gave no {name}"
    prompt = describe.example_prompt(res.url, example.url, example.body)
    if prompt is None:
        null_reasons["example_prompt"] = ("no example request to phrase a prompt from" if example.body is None
                                          and example.url == res.url else
                                          "the example holds no user message or value a person would write")
    known = {"description": summary if summary_source != "template" else None, "input_fields": input_fields(hints),
             "output_keys": output_keys(hints), "price": price_text, "networks": network_names,
             "asset": primary.asset_symbol if primary else None}
    cases, buyer = describe.use_cases(res.url, known), describe.ideal_buyer(res.url, provider, known)
    null_reasons.update(describe.copy_null_reasons(cases, buyer))
    fields = dict(
        generated_at=generated_at, slug=res.slug, title=title, url=res.url, category=category, summary=summary,
        seo=seo, use_cases=cases, ideal_buyer=buyer, example_prompt=prompt, summary_source=summary_source,
        example_request_body=example.body, accepts=accepts,
        origin=OriginRef(slug=origin.slug, host=origin.host, title=words.get("name") or origin.title,
                         description=words.get("description") or origin.description, url=origin.url, favicon=origin.favicon),
        axon_deep_link=None, method=res.method, tags=list(res.tags or []),
        example_request=ExampleRequest(method=example.method, url=example.url, content_type=example.content_type,
                                       body=example.body, source=example.source, placeholder=example.placeholder),
        test_buy=buy, status=res.status or "unknown", terms_source=terms_source, x402_version=res.x402_version,
        networks=sorted({a.network_caip2 for a in accepts if a.network_caip2}), price_usd=price_usd,
        first_seen=_iso(res.first_seen), last_seen=_iso(res.last_seen), last_probed_at=_iso(res.last_probed_at),
        last_paid_at=_iso(res.last_paid_at), last_verified=max(verified_at) if verified_at else None,
        conformance=Conformance(grade=None if not ever_paid else ("C" if errors else "B" if warnings else "A"),
                                errors=errors, warnings=warnings, findings=findings),
        health=Health(window_end=generated_at, windows=windows), terms_changes=changes,
        status_changes=status_changes or [], retired_at=_iso(res.retired_at),
        sources=[SourceRef(**{**s, "first_seen": _iso_text(s.get("first_seen")), "last_seen": _iso_text(s.get("last_seen"))})
                 for s in sources],
        null_reasons=null_reasons,
        owner_verified=bool(owner and owner.verified), owner=owner.block if owner else None, owner_fields=owner_fields,
        protocol=(other or {}).get("protocol") or "x402",
        other_protocol=OtherProtocol(**other) if other else None,
        derived_fields=sorted([*(f for f in ("category", "title") if f not in owner_fields),
                               "seo", "use_cases", "ideal_buyer", "example_prompt",
                               "pricing_sanity", "trust_tier", "risk_notes", "risks", "json_ld",
                               *(["summary"] if summary_source not in ("challenge", "owner") else []),
                               *(["accepts.hints"] if hints.get("source") == "docs" or hints.get("output_source") else []),
                               *(["example_request_body"] if example.source in ("schema", "docs") else [])]),
        json_ld_parts=dict(slug=res.slug, name=title, description=seo["description"], url=res.url, category=category,
                           page=page, origin_page=site_link(site_url, f"o/{origin.slug}.html"), origin_url=origin.url,
                           origin_name=provider, status=res.status or "unknown", offer=offer,
                           buy_target=buy.page),
    )
    return _Draft(fields, facts, atomic, primary.asset_decimals if primary else None, usd,
                  [str(f.get("code")) for f in findings])


def make_records(engine: Engine, plan: CatalogPlan, lo: int, hi: int) -> list[CatalogRecord]:
    """Records lo..hi of the planned catalog (index.catalog.plan), in slug order: each made from its
    own rows, its origin's pages and owner, and what the plan knows of the rest of the catalog."""
    ids = plan.ids[lo:hi]
    window_end, since = plan.window_end, plan.window_end - HISTORY_SPAN
    with Session(engine) as session:
        found = {r.id: r for r in by_ids(session, ids, lambda c: select(Resource).where(Resource.id.in_(c)))}  # type: ignore[union-attr]
        resources = [found[i] for i in ids]
        origins, options = origins_and_options(session, resources)
        extracts: dict[int, list[dict[str, Any]]] = {}
        rank = {k: i for i, k in enumerate(DOC_KINDS)}
        pages = by_ids(session, origins, lambda c: select(DocPage).where(DocPage.origin_id.in_(c), DocPage.kind.in_(DOC_KINDS)))  # type: ignore[attr-defined]
        for page in sorted(pages, key=lambda p: (rank[p.kind], p.url)):
            if page.extracted:
                extracts.setdefault(page.origin_id, []).append(page.extracted)
        samples: dict[int, list[Sample]] = {}
        history: dict[int, list[tuple[datetime, list[dict[str, Any]]]]] = {}
        # ids ascending, each chunk ordered by resource then time: every resource's rows stay in time order.
        # Of a parsed challenge only its accepts (the terms history) are read, extracted by the database:
        # decoding whole challenges was half of this function's time and most of its memory.
        rows = by_ids(session, ids, lambda c: select(Observation.resource_id, Observation.observed_at, Observation.outcome,
                                                     Observation.latency_ms, Observation.parsed["accepts"])
                      .where(Observation.final.is_(True), Observation.observed_at > since, Observation.resource_id.in_(c))  # type: ignore[attr-defined]
                      .order_by(Observation.resource_id, Observation.observed_at, Observation.id))
        for rid, at, outcome, latency, accepts in rows:
            at = _aware(at)
            samples.setdefault(rid, []).append(Sample(at, outcome, latency))
            if outcome == "paid" and isinstance(accepts, list):
                past = history.setdefault(rid, [])
                if not past or past[-1][1] != accepts:  # terms_changes compares neighbours: a repeat adds nothing
                    past.append((at, accepts))
        status_changes: dict[int, list[dict[str, Any]]] = {}
        for change in by_ids(session, ids, lambda c: select(ResourceChange).where(
                ResourceChange.kind.in_(STATUS_KINDS), ResourceChange.at > since,  # type: ignore[attr-defined]
                ResourceChange.resource_id.in_(c)).order_by(ResourceChange.at, ResourceChange.id)):  # type: ignore[attr-defined]
            status_changes.setdefault(change.resource_id, []).append(
                {"at": _iso(change.at), "kind": change.kind,
                 "before": change.before if isinstance(change.before, str) else None,
                 "after": change.after if isinstance(change.after, str) else None})
        views = owners(session, origins)
        others = other_protocols(session, [r.id for r in resources if r.status == "other_protocol"])
    return [finish_record(_draft(r, origins[r.origin_id], options.get(r.id, []), extracts.get(r.origin_id, []),
                                 samples.get(r.id, []), history.get(r.id, []), window_end, plan.generated_at,
                                 plan.site_url, status_changes.get(r.id), views.get(r.origin_id), others.get(r.id),
                                 plan.variant_urls.get(r.id)), check)
            for r, check in zip(resources, plan.checks[lo:hi], strict=True)]


def build_records(engine: Engine, slug: str | None = None, site_url: str = "") -> list[CatalogRecord]:
    """Every catalog resource (or just the one with `slug`) as records sorted by slug. A whole catalog
    held at once is for small stores and tests: the build pipeline streams it (`StoreRecords`)."""
    plan = plan_catalog(engine, site_url)
    if slug is None:
        return make_records(engine, plan, 0, len(plan))
    try:
        k = plan.slugs.index(slug)
    except ValueError:  # not in the catalog, or folded into a query-string sibling
        return []
    return make_records(engine, plan, k, k + 1)


def find_record(engine: Engine, slug: str, site_url: str = "") -> CatalogRecord | None:
    """One record by slug, or None."""
    found = build_records(engine, slug, site_url)
    return found[0] if found else None


class StoreRecords:
    """The catalog of a store as the site build reads it (index.site.parallel.RecordSource): its length,
    slugs and build time up front (the plan), and any slice of records made on demand. Each process
    reads through connections of its own: a forked render worker drops the pooled ones it inherited
    (SQLAlchemy's advice for fork) before its first slice. An in-memory SQLite database cannot be
    opened by a second connection: its records are made once, here, and sliced."""

    def __init__(self, engine: Engine, site_url: str = "", workers: int | None = None) -> None:
        self.engine = engine
        self.plan = plan_catalog(engine, site_url, workers if workers is not None else (os.cpu_count() or 1))
        self.slugs = self.plan.slugs
        self.generated_at: str | None = self.plan.generated_at if self.plan.ids else None
        self._made: list[CatalogRecord] | None = None
        if in_memory(engine):
            self._made = make_records(engine, self.plan, 0, len(self.plan))

    def __len__(self) -> int:
        return len(self.plan)

    def slice(self, lo: int, hi: int) -> list[CatalogRecord]:
        """Records lo..hi of the catalog in slug order."""
        if self._made is not None:
            return self._made[lo:hi]
        return make_records(in_this_process(self.engine), self.plan, lo, hi)
