"""What the catalog reads of the store, a chunk of resource ids at a time: the resources that belong
in it, their origins and payment options, the origins' owners, and what another payment protocol's 402
said. Shared by the plan of the whole catalog (index.catalog.plan) and the making of its records
(index.catalog.build)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from index.catalog.accepts import declared_accepts, declared_terms
from index.catalog.owner import PROOF_KINDS, OwnerView, origin_owner
from index.store.engine import chunks
from index.store.models import DocPage, Observation, Origin, PaymentOption, Resource
from index.untrusted import iso_z


def iso(value: datetime | None) -> str | None:
    return iso_z(value) if value is not None else None


def aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def in_catalog(res: Resource) -> bool:
    """Resources that ever answered a usable 402, those a source listed with terms, and those whose
    latest 402 spoke another payment protocol (L402, MPP)."""
    return (res.last_paid_at is not None or res.status == "other_protocol"
            or bool(declared_accepts(declared_terms(res.sources or []))))


def by_ids(session: Session, values: Iterable[Any], make: Any) -> Iterator[Any]:
    """Rows of `make(chunk)` for every chunk of `values`, in chunk order (one IN list of 100k ids would
    pass the databases' bind-parameter limits), fetched a chunk at a time: the caller keeps what it
    needs of 800k observation rows, not the rows."""
    for chunk in chunks(sorted(set(values))):
        yield from session.exec(make(chunk)).all()


def origins_and_options(session: Session, resources: list[Resource]) -> tuple[dict[int, Origin], dict[int, list[PaymentOption]]]:
    """The origins of `resources` by id, and their payment options by resource id."""
    origins = {o.id: o for o in by_ids(session, (r.origin_id for r in resources),
                                        lambda c: select(Origin).where(Origin.id.in_(c)))}  # type: ignore[union-attr]
    options: dict[int, list[PaymentOption]] = {}
    for opt in by_ids(session, (r.id for r in resources),
                       lambda c: select(PaymentOption).where(PaymentOption.resource_id.in_(c))):  # type: ignore[attr-defined]
        options.setdefault(opt.resource_id, []).append(opt)
    return origins, options  # type: ignore[return-value]


def owners(session: Session, origins: dict[int, Origin]) -> dict[int, OwnerView]:
    """Each origin's owner (index.catalog.owner): its well-known and OpenAPI documents' proofs, checked
    against the payTo addresses of every live 402 of the origin, and its owner metadata."""
    pages: dict[int, list[dict[str, Any]]] = {}
    for page in by_ids(session, origins, lambda c: select(DocPage).where(
            DocPage.origin_id.in_(c), DocPage.kind.in_(PROOF_KINDS), DocPage.status == 200)):  # type: ignore[attr-defined]
        info = (page.extracted or {}).get("info")
        if isinstance(info, dict):
            pages.setdefault(page.origin_id, []).append({"kind": page.kind, "url": page.url,
                                                          "fetched_at": iso(page.fetched_at), "info": info})
    pay_to: dict[int, list[str]] = {}
    for origin_id, address in by_ids(session, pages, lambda c: select(Resource.origin_id, PaymentOption.pay_to)
                                      .join(PaymentOption, PaymentOption.resource_id == Resource.id)  # type: ignore[arg-type]
                                      .where(Resource.origin_id.in_(c), Resource.last_paid_at.is_not(None))  # type: ignore[attr-defined,union-attr]
                                      .order_by(Resource.origin_id, PaymentOption.pay_to)):
        if address:
            pay_to.setdefault(origin_id, []).append(address)
    views = {oid: origin_owner(origins[oid].url, found, sorted(set(pay_to.get(oid, []))))
             for oid, found in pages.items() if oid in origins}
    return {oid: view for oid, view in views.items() if view is not None}


def other_protocols(session: Session, ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the latest final observation of each resource in another payment protocol said
    (its parsed.other_protocol, index.protocol.other402)."""
    out: dict[int, dict[str, Any]] = {}
    for rid, parsed in by_ids(session, ids, lambda c: select(Observation.resource_id, Observation.parsed)
                               .where(Observation.final.is_(True), Observation.outcome == "other_protocol",  # type: ignore[attr-defined]
                                      Observation.resource_id.in_(c))  # type: ignore[attr-defined]
                               .order_by(Observation.resource_id, Observation.observed_at, Observation.id)):
        other = (parsed or {}).get("other_protocol") if isinstance(parsed, dict) else None
        if isinstance(other, dict) and other.get("protocol") in ("l402", "mpp"):
            out[rid] = other
    return out
