"""Test-buy state in the catalog database: the catalog entry a test-buy binds to, the `test_buys`
rows (written before a payment leaves, completed after), the daily budget, and the `verified` flag
a success sets on the payment option it proved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from index.store.models import PaymentOption, Resource, TestBuy
from index.store.engine import session_scope
from index.testbuy.policy import BUDGET_WINDOW_HOURS, SPENT_OUTCOMES, Selection
from index.urls import canonical_url


@dataclass
class CatalogEntry:
    """What the catalog says about the resource a test-buy targets."""

    resource_id: int
    slug: str
    url: str
    method: str
    status: str | None
    resource_url: str | None
    options: list[dict[str, Any]] = field(default_factory=list)  # PaymentOption rows as dicts, by position
    hints: dict[str, Any] = field(default_factory=dict)  # how to call it (index.protocol.hints), for the request body


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def find_entry(engine: Engine, target: str, method: str | None = None) -> CatalogEntry | None:
    """The catalog entry for a slug or a URL (and method, when a URL has several); None if absent."""
    with Session(engine) as session:
        query = select(Resource)
        if _is_url(target):
            query = query.where(Resource.url == canonical_url(target))
            if method:
                query = query.where(Resource.method == method.upper())
        else:
            query = query.where(Resource.slug == target)
        found = session.exec(query).all()
        if len(found) > 1:
            methods = ", ".join(sorted(r.method for r in found))
            raise ValueError(f"{target} is in the catalog under several methods ({methods}); pass --method")
        if not found:
            return None
        res = found[0]
        options = session.exec(select(PaymentOption).where(PaymentOption.resource_id == res.id)).all()
    entry = CatalogEntry(
        resource_id=res.id or 0, slug=res.slug, url=res.url, method=res.method, status=res.status,
        resource_url=res.resource_url, options=[o.model_dump() for o in sorted(options, key=lambda o: o.position)],
        hints=dict(res.hints or {}),
    )
    return entry


def spent_usd(engine: Engine, now: datetime | None = None) -> Decimal:
    """USD that left this machine in test-buys over the last BUDGET_WINDOW_HOURS (sent payments of
    every outcome: a rejected or unreconciled one may still be settled)."""
    since = (now or datetime.now(UTC)) - timedelta(hours=BUDGET_WINDOW_HOURS)
    with Session(engine) as session:
        rows = session.exec(select(TestBuy.amount_usd).where(
            TestBuy.dry_run.is_(False), TestBuy.outcome.in_([o.value for o in SPENT_OUTCOMES]),  # type: ignore[union-attr]
            TestBuy.started_at >= since)).all()
    return sum((Decimal(str(v)) for v in rows if v is not None), Decimal(0))


def record(engine: Engine, **values: Any) -> int:
    """Insert one test_buys row; returns its id."""
    with session_scope(engine) as session:
        row = TestBuy(**values)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def update(engine: Engine, row_id: int, **values: Any) -> None:
    with session_scope(engine) as session:
        row = session.get(TestBuy, row_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
        session.add(row)


def selection_fields(sel: Selection) -> dict[str, Any]:
    return {"x402_version": sel.version, "option_position": sel.position, "scheme": sel.scheme, "network": sel.caip2,
            "asset": sel.asset, "amount_atomic": str(sel.amount_atomic), "amount_usd": float(sel.usd), "pay_to": sel.pay_to}


def mark_verified(engine: Engine, resource_id: int, sel: Selection, at: datetime) -> int | None:
    """Set `verified` on the catalog's payment option with exactly the terms paid; its position, or
    None when the catalog holds no such option (the terms changed since the crawl)."""
    with session_scope(engine) as session:
        for opt in session.exec(select(PaymentOption).where(PaymentOption.resource_id == resource_id)).all():
            if (opt.scheme, opt.network_caip2, (opt.asset or "").lower(), (opt.pay_to or "").lower(), opt.amount_atomic) == \
                    (sel.scheme, sel.caip2, sel.asset.lower(), sel.pay_to.lower(), str(sel.amount_atomic)):
                opt.verified = True
                opt.verified_at = at
                session.add(opt)
                return opt.position
    return None


def recent(engine: Engine, limit: int = 20) -> list[TestBuy]:
    with Session(engine) as session:
        return list(session.exec(select(TestBuy).order_by(TestBuy.id.desc()).limit(limit)).all())  # type: ignore[union-attr]
