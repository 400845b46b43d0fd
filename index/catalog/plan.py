"""The catalog in slices: what a build knows of the whole catalog before any record is made.

A record needs little of the others: whether a query-string sibling folds it away, and its category
peers' prices for the pricing sanity. `plan_catalog` finds exactly that, a chunk of resources at a
time: the records' ids and slugs in slug order, each one's pricing check, and the variant URLs of
folded siblings. Then any slice of the catalog is made on its own (index.catalog.build.make_records),
in any process and in any order, and a whole catalog need never be in memory at once: the site build
makes and renders it a slice at a time, each slice in a forked worker (index.catalog.build.StoreRecords).

The pricing key of a resource (its category, primary atomic price and decimals) is found here with
the same words the record's draft uses (`description_of`, `category_of`, `atomic_of`).
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from index.catalog import pricing
from index.catalog.accepts import declared_terms, primary_accept, resource_accepts
from index.catalog.categories import classify_fields
from index.catalog.owner import OwnerView
from index.catalog.reads import aware, in_catalog, iso, origins_and_options, owners
from index.catalog.record import AcceptRecord
from index.catalog.variants import fold_query_variants, terms_of
from index.forked import Forked
from index.store.engine import chunks, in_this_process
from index.store.models import Origin, PaymentOption, Resource

def description_of(res: Resource, accepts: list[AcceptRecord]) -> str | None:
    """The resource's own description, else its first accept's."""
    return res.description or next((a.description for a in accepts if a.description), None)


def category_of(res: Resource, origin: Origin, accepts: list[AcceptRecord], path: str, description: str | None) -> str:
    return classify_fields(
        tags=" ".join([*(res.tags or []), res.service_name or ""]), path=path.replace("/", " "),
        description=" ".join(filter(None, [description, *(a.description for a in accepts)])),
        context=" ".join(filter(None, [origin.title, origin.description])),
    )


def atomic_of(primary: AcceptRecord | None) -> int | None:
    return int(primary.max_amount_required_atomic) if primary and primary.max_amount_required_atomic else None


def pricing_key(res: Resource, origin: Origin, options: list[PaymentOption],
                owner: OwnerView | None = None) -> tuple[str, int | None, int | None]:
    """(category, primary atomic price, its decimals) as the record's draft finds them, without the rest
    of a record: what one record's pricing sanity needs of every other resource."""
    accepts, _ = resource_accepts(res, options, declared_terms(res.sources or []))
    primary = primary_accept(accepts)
    owned = owner.words(res.url, res.method).get("category") if owner else None
    return (owned or category_of(res, origin, accepts, urlsplit(res.url).path, description_of(res, accepts)),
            atomic_of(primary), primary.asset_decimals if primary else None)


@dataclass
class CatalogPlan:
    """The whole catalog, as much as one slice of it needs: ids and slugs in slug order, and per record
    its pricing check among its category's peers; the URL of a folded query-string sibling by id."""

    window_end: datetime  # the newest probe in the store: the build's only clock
    generated_at: str
    site_url: str
    ids: list[int] = field(default_factory=list)
    slugs: list[str] = field(default_factory=list)
    checks: list[pricing.Sanity] = field(default_factory=list)
    variant_urls: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)


PARALLEL_MIN = 4000  # resources below this are planned in this process


class _Reader:
    """What the plan keeps of one chunk of resource ids; run here or in a forked worker (with
    connections of its own: index.store.engine.in_this_process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = in_this_process(engine)

    def read(self, chunk: list[int]) -> tuple[list[tuple[int, str, tuple[str, int | None, int | None]]],
                                              list[tuple[int, str, str, Any]]]:
        """([(id, slug, pricing key)] of the chunk's catalog resources, [(id, url, method, terms)] of
        those that answered a usable 402: what folding compares), ids ascending."""
        listed, paid = [], []
        with Session(in_this_process(self.engine)) as session:
            resources = [r for r in session.exec(select(Resource).where(Resource.id.in_(chunk))  # type: ignore[union-attr]
                                                 .order_by(Resource.id)).all() if in_catalog(r)]
            origins, options = origins_and_options(session, resources)
            views = owners(session, origins)
            for r in resources:
                own = options.get(r.id, [])
                listed.append((r.id, r.slug, pricing_key(r, origins[r.origin_id], own, views.get(r.origin_id))))
                if r.last_paid_at is not None:
                    paid.append((r.id, r.url, r.method, terms_of(own)))
        return listed, paid


def plan_catalog(engine: Engine, site_url: str = "", workers: int = 1) -> CatalogPlan:
    """The plan of every catalog resource in the store (`in_catalog`, not folded into a sibling), read
    a chunk of resources at a time (index.store.engine.chunks), in `workers` forked processes for a
    large store: what it keeps is a few small values per resource."""
    with Session(engine) as session:
        newest = aware(session.exec(select(func.max(Resource.last_probed_at))).one())
        all_ids = sorted(session.exec(select(Resource.id)).all())
    window_end = newest or datetime(1970, 1, 1, tzinfo=UTC)
    tasks, reader = list(chunks(all_ids)), _Reader(engine)
    listed: list[tuple[int, str, tuple[str, int | None, int | None]]] = []
    paid: list[tuple[int, str, str, Any]] = []
    if (workers > 1 and len(all_ids) >= PARALLEL_MIN and not in_memory(engine)
            and "fork" in multiprocessing.get_all_start_methods()):
        with Forked(reader.read, tasks, workers) as results:
            parts = list(results)
    else:
        parts = [reader.read(task) for task in tasks]
    for chunk_listed, chunk_paid in parts:  # chunks in id order: folding keeps the oldest of siblings
        listed += chunk_listed
        paid += chunk_paid
    folded, variant_urls = fold_query_variants(paid)
    kept = sorted((entry for entry in listed if entry[0] not in folded), key=lambda e: e[1])
    return CatalogPlan(window_end=window_end, generated_at=iso(window_end) or "", site_url=site_url,
                       ids=[e[0] for e in kept], slugs=[e[1] for e in kept],
                       checks=pricing.catalog_sanity([e[2] for e in kept]), variant_urls=variant_urls)


def in_memory(engine: Engine) -> bool:
    """An in-memory SQLite database: no other connection (or process) can open it."""
    return engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:")
