"""Normalize: database rows → CatalogRecord. Reads the store, never the network.

Every value on a record comes from an observation, a page we fetched, a source's listing (marked as
such) or our registries; the rules are in docs/methodology.md and the pure modules this one calls:
accepts (payment options), describe (words), examples (example request), pricing (sanity), health
(windows, terms history), trust (tier, risk notes), jsonld. The only clock is the newest probe time
in the database, so two builds of one database are byte-identical.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from index.catalog import describe
from index.catalog import pricing
from index.catalog.accepts import declared_accepts, declared_terms, primary_accept, resource_accepts
from index.catalog.categories import classify_fields
from index.catalog.docs_hints import choose_hints, docs_hints, input_fields, openapi_description, output_keys, whole_body
from index.catalog.docs_match import docs_for
from index.catalog.owner import PROOF_KINDS, OwnerView, origin_owner
from index.catalog.examples import example_request
from index.untrusted import iso_z
from index.catalog.health import HISTORY_SPAN, Sample, terms_changes, window_figures
from index.catalog.jsonld import site_link
from index.store.models import DocPage, Observation, Origin, PaymentOption, Resource, ResourceChange
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
from index.store.engine import chunks
from index.catalog.variants import fold_query_variants, terms_of
from index.catalog.finish import Draft as _Draft
from index.catalog.finish import finish_record, finish_records
from index.catalog.trust import Facts

DOC_KINDS = ("docs", "homepage", "parent_homepage")  # pages docs_for reads, best first


def _iso(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


def _iso_text(value: Any) -> Any:
    """A time stored as ISO text (the sources' first/last seen), written as every time of a record is."""
    if not isinstance(value, str):
        return value
    try:
        return _iso(datetime.fromisoformat(value))
    except ValueError:
        return value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _description(res: Resource, accepts: list[AcceptRecord]) -> str | None:
    """The resource's own description, else its first accept's."""
    return res.description or next((a.description for a in accepts if a.description), None)


def _category(res: Resource, origin: Origin, accepts: list[AcceptRecord], path: str, description: str | None) -> str:
    return classify_fields(
        tags=" ".join([*(res.tags or []), res.service_name or ""]), path=path.replace("/", " "),
        description=" ".join(filter(None, [description, *(a.description for a in accepts)])),
        context=" ".join(filter(None, [origin.title, origin.description])),
    )


def _pricing_key(res: Resource, origin: Origin, options: list[PaymentOption],
                 owner: OwnerView | None = None) -> tuple[str, int | None, int | None]:
    """(category, primary atomic price, its decimals) as `_draft` finds them, without the rest of a
    record: what one record's pricing sanity needs of every other resource (`find_record`)."""
    accepts, _ = resource_accepts(res, options, declared_terms(res.sources or []))
    description = _description(res, accepts)
    primary = primary_accept(accepts)
    owned = owner.words(res.url, res.method).get("category") if owner else None
    return (owned or _category(res, origin, accepts, urlsplit(res.url).path, description), _atomic(primary),
            primary.asset_decimals if primary else None)


def _atomic(primary: AcceptRecord | None) -> int | None:
    return int(primary.max_amount_required_atomic) if primary and primary.max_amount_required_atomic else None


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
    description = _description(res, accepts)
    words = owner.words(res.url, res.method) if owner else {}  # a verified owner's text wins over ours
    provider = describe.provider_name(words.get("name") or res.service_name, origin.title, origin.host)
    category = words.get("category") or _category(res, origin, accepts, path, description)
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
    atomic = _atomic(primary)
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


def _in_catalog(res: Resource) -> bool:
    """Resources that ever answered a usable 402, those a source listed with terms, and those whose
    latest 402 spoke another payment protocol (L402, MPP)."""
    return (res.last_paid_at is not None or res.status == "other_protocol"
            or bool(declared_accepts(declared_terms(res.sources or []))))


def build_records(engine: Engine, slug: str | None = None, site_url: str = "") -> list[CatalogRecord]:
    """Every catalog resource (or just the one with `slug`) as records sorted by slug. A whole catalog
    is built inside `index.gcpolicy.no_collections()`, which the build pipeline (index.publish) holds."""
    with Session(engine) as session:
        newest = _aware(session.exec(select(func.max(Resource.last_probed_at))).one())
        window_end = newest or datetime(1970, 1, 1, tzinfo=UTC)
        query = select(Resource)
        if slug is not None:
            query = query.where(Resource.slug == slug)
        resources = [r for r in session.exec(query).all() if _in_catalog(r)]
        variants = []  # one record's query-string variants, which decide whether it is folded (index.catalog.variants)
        if slug is not None and resources:
            base = resources[0].url.split("?", 1)[0]
            variants = [r for r in session.exec(select(Resource).where(Resource.url.startswith(base))).all()  # type: ignore[attr-defined]
                        if r.id != resources[0].id and _in_catalog(r)]
        origins, options = _origins_and_options(session, resources + variants)
        folded, variant_urls = fold_query_variants(
            (r.id, r.url, r.method, terms_of(options.get(r.id, []))) for r in sorted(resources + variants, key=lambda r: r.id)
            if r.last_paid_at is not None)
        resources = [r for r in resources if r.id not in folded]
        ids = sorted(r.id for r in resources)
        extracts: dict[int, list[dict[str, Any]]] = {}
        rank = {k: i for i, k in enumerate(DOC_KINDS)}
        pages = _by_ids(session, origins, lambda c: select(DocPage).where(DocPage.origin_id.in_(c), DocPage.kind.in_(DOC_KINDS)))  # type: ignore[attr-defined]
        for page in sorted(pages, key=lambda p: (rank[p.kind], p.url)):
            if page.extracted:
                extracts.setdefault(page.origin_id, []).append(page.extracted)
        samples: dict[int, list[Sample]] = {}
        history: dict[int, list[tuple[datetime, list[dict[str, Any]]]]] = {}
        since = window_end - HISTORY_SPAN
        # ids ascending, each chunk ordered by resource then time: every resource's rows stay in time order.
        # Of a parsed challenge only its accepts (the terms history) are read, extracted by the database:
        # decoding whole challenges was half of this function's time and most of its memory.
        rows = _by_ids(session, ids, lambda c: select(Observation.resource_id, Observation.observed_at, Observation.outcome,
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
        for change in _by_ids(session, ids, lambda c: select(ResourceChange).where(
                ResourceChange.kind.in_(STATUS_KINDS), ResourceChange.at > since,  # type: ignore[attr-defined]
                ResourceChange.resource_id.in_(c)).order_by(ResourceChange.at, ResourceChange.id)):  # type: ignore[attr-defined]
            status_changes.setdefault(change.resource_id, []).append(
                {"at": _iso(change.at), "kind": change.kind,
                 "before": change.before if isinstance(change.before, str) else None,
                 "after": change.after if isinstance(change.after, str) else None})
        owners = _owners(session, origins)
        others = _other_protocols(session, [r.id for r in resources if r.status == "other_protocol"])
    generated_at = _iso(window_end) or ""
    drafts = [_draft(r, origins[r.origin_id], options.get(r.id, []), extracts.get(r.origin_id, []),
                     samples.get(r.id, []), history.get(r.id, []), window_end, generated_at, site_url,
                     status_changes.get(r.id), owners.get(r.origin_id), others.get(r.id), variant_urls.get(r.id))
              for r in resources]
    if slug is not None:  # one record: its peers need only every other resource's category and price
        if not drafts:
            return []
        with Session(engine) as session:
            others = [r for r in session.exec(select(Resource).where(Resource.slug != slug)).all() if _in_catalog(r)]
            origins, options = _origins_and_options(session, others)
            owners = _owners(session, origins)
        d = drafts[0]
        keys = [_pricing_key(r, origins[r.origin_id], options.get(r.id, []), owners.get(r.origin_id)) for r in others]
        keys.append((d.fields["category"], d.primary_atomic, d.primary_decimals))
        return [finish_record(d, pricing.catalog_sanity(keys)[-1])]
    return sorted(finish_records(drafts), key=lambda r: r.slug)


def _by_ids(session: Session, values: Iterable[Any], make: Any) -> Iterator[Any]:
    """Rows of `make(chunk)` for every chunk of `values`, in chunk order (one IN list of 100k ids would
    pass the databases' bind-parameter limits), fetched a chunk at a time: the caller keeps what it
    needs of 800k observation rows, not the rows."""
    for chunk in chunks(sorted(set(values))):
        yield from session.exec(make(chunk)).all()


def _origins_and_options(session: Session, resources: list[Resource]) -> tuple[dict[int, Origin], dict[int, list[PaymentOption]]]:
    """The origins of `resources` by id, and their payment options by resource id."""
    origins = {o.id: o for o in _by_ids(session, (r.origin_id for r in resources),
                                        lambda c: select(Origin).where(Origin.id.in_(c)))}  # type: ignore[union-attr]
    options: dict[int, list[PaymentOption]] = {}
    for opt in _by_ids(session, (r.id for r in resources),
                       lambda c: select(PaymentOption).where(PaymentOption.resource_id.in_(c))):  # type: ignore[attr-defined]
        options.setdefault(opt.resource_id, []).append(opt)
    return origins, options  # type: ignore[return-value]


def _owners(session: Session, origins: dict[int, Origin]) -> dict[int, OwnerView]:
    """Each origin's owner (index.catalog.owner): its well-known and OpenAPI documents' proofs, checked
    against the payTo addresses of every live 402 of the origin, and its owner metadata."""
    pages: dict[int, list[dict[str, Any]]] = {}
    for page in _by_ids(session, origins, lambda c: select(DocPage).where(
            DocPage.origin_id.in_(c), DocPage.kind.in_(PROOF_KINDS), DocPage.status == 200)):  # type: ignore[attr-defined]
        info = (page.extracted or {}).get("info")
        if isinstance(info, dict):
            pages.setdefault(page.origin_id, []).append({"kind": page.kind, "url": page.url,
                                                          "fetched_at": _iso(page.fetched_at), "info": info})
    pay_to: dict[int, list[str]] = {}
    for origin_id, address in _by_ids(session, pages, lambda c: select(Resource.origin_id, PaymentOption.pay_to)
                                      .join(PaymentOption, PaymentOption.resource_id == Resource.id)  # type: ignore[arg-type]
                                      .where(Resource.origin_id.in_(c), Resource.last_paid_at.is_not(None))  # type: ignore[attr-defined,union-attr]
                                      .order_by(Resource.origin_id, PaymentOption.pay_to)):
        if address:
            pay_to.setdefault(origin_id, []).append(address)
    owners = {oid: origin_owner(origins[oid].url, found, sorted(set(pay_to.get(oid, []))))
              for oid, found in pages.items() if oid in origins}
    return {oid: view for oid, view in owners.items() if view is not None}


def _other_protocols(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the latest final observation of each resource in another payment protocol said
    (its parsed.other_protocol, index.protocol.other402)."""
    out: dict[int, dict[str, Any]] = {}
    for rid, parsed in _by_ids(session, ids, lambda c: select(Observation.resource_id, Observation.parsed)
                               .where(Observation.final.is_(True), Observation.outcome == "other_protocol",  # type: ignore[attr-defined]
                                      Observation.resource_id.in_(c))  # type: ignore[attr-defined]
                               .order_by(Observation.resource_id, Observation.observed_at, Observation.id)):
        other = (parsed or {}).get("other_protocol") if isinstance(parsed, dict) else None
        if isinstance(other, dict) and other.get("protocol") in ("l402", "mpp"):
            out[rid] = other
    return out


def find_record(engine: Engine, slug: str, site_url: str = "") -> CatalogRecord | None:
    """One record by slug, or None."""
    found = build_records(engine, slug, site_url)
    return found[0] if found else None
