"""Records built from a real SQLite store written through the crawler's write path: tiers that
depend on history (stale, unreachable, indexed_external), price changes, verified accepts, and
byte-identical rebuilds."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from index.catalog.build import build_records
from index.store.models import PaymentOption
from index.store.engine import init_db
from index.store.write import record_probes
from index.protocol.challenge import parse_challenge
from tests.support.challenge_cases import CASES_DIR, load_response

URL = "https://weather.example/v1/forecast?city=Lisbon"


def _challenge(amount: str | None = None, pay_to: str | None = None) -> dict[str, Any]:
    challenge = parse_challenge(*load_response(CASES_DIR / "v2_sdk_get_two_networks")).model_dump(mode="json")
    out = copy.deepcopy(challenge)
    for acc in out["accepts"]:
        if amount is not None:
            acc["amount_atomic"] = amount
        if pay_to is not None:
            acc["pay_to"] = pay_to
    return out


def _probe(at: str, outcome: str = "paid", challenge: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    probe: dict[str, Any] = {"url": URL, "method": "GET", "observed_at": at, "outcome": outcome,
                             "http_status": 402 if outcome == "paid" else None, "latency_ms": 12.0,
                             "sources": [{"kind": "seed", "url": "test"}]}
    if outcome == "paid":
        probe["challenge"] = challenge or _challenge()
    probe.update(extra)
    return probe


@pytest.fixture
def engine(db_url: str) -> Any:
    return init_db(db_url)


def test_a_price_change_is_history_a_risk_and_asks_for_review(engine: Any) -> None:
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00")])
    record_probes(engine, [_probe("2026-11-21T10:00:00+00:00", challenge=_challenge(amount="5000"))])
    [record] = build_records(engine)
    assert [(c.field, c.at) for c in record.terms_changes] == [("price", "2026-11-21T10:00:00Z")]
    assert "price_changed" in [n.code for n in record.risks]
    assert record.pricing_review_required
    assert record.price_usd == 0.005
    windows = {w.window: w for w in record.health.windows}
    assert (windows["24h"].samples, windows["7d"].samples, windows["7d"].uptime_pct) == (1, 2, 100.0)


def test_pay_to_change_is_an_error_risk(engine: Any) -> None:
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00")])
    record_probes(engine, [_probe("2026-11-20T11:00:00+00:00", challenge=_challenge(pay_to="0x" + "1" * 40))])
    [record] = build_records(engine)
    note = next(n for n in record.risks if n.code == "pay_to_changed")
    assert note.severity == "error" and "0x1111" in (note.detail or "")


def test_down_then_stale(engine: Any) -> None:
    record_probes(engine, [_probe("2026-11-01T10:00:00+00:00")])
    record_probes(engine, [_probe("2026-11-02T10:00:00+00:00", outcome="timeout", error_code="timeout")])
    [record] = build_records(engine)
    assert record.trust_tier == "unreachable" and record.status == "timeout"
    assert record.accepts, "a failed probe keeps the last good terms"
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00", outcome="timeout", error_code="timeout")])
    [record] = build_records(engine)
    assert record.trust_tier == "stale"
    assert "stale" in [n.code for n in record.risks]
    w30 = next(w for w in record.health.windows if w.window == "30d")
    assert (w30.samples, w30.up, w30.uptime_pct) == (3, 1, 33.33)
    w24 = next(w for w in record.health.windows if w.window == "24h")
    assert w24.uptime_pct == 0.0 and w24.p50_latency_ms is None


def test_listed_but_never_confirmed_is_indexed_external_with_declared_terms(engine: Any) -> None:
    live = _challenge()
    declared = {"type": "http", "x402_version": 2, "accepts": live["accepts"]}
    source = {"kind": "facilitator", "url": "https://fac.example/discovery/resources", "declared": declared}
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00", outcome="unprobeable", http_status=400, sources=[source])])
    [record] = build_records(engine)
    assert record.trust_tier == "indexed_external"
    assert record.terms_source == "declared:facilitator"
    assert [a.max_amount_required_atomic for a in record.accepts] == ["1000", "1000"]
    assert record.conformance.grade is None and record.x402_version is None
    assert record.risks[0].code == "terms_declared_only"
    # a resource that never answered and that nobody listed with terms is not in the catalog
    record_probes(engine, [{"url": "https://other.example/x", "method": "GET", "observed_at": "2026-11-20T10:00:00+00:00",
                            "outcome": "timeout", "sources": [{"kind": "seed", "url": "test"}]}])
    assert [r.slug for r in build_records(engine)] == [record.slug]


def test_a_verified_accept_makes_the_tier_verified_until_its_terms_change(engine: Any) -> None:
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00")])
    with Session(engine) as s:
        opt = s.exec(select(PaymentOption).where(PaymentOption.position == 0)).one()
        opt.verified, opt.verified_at = True, opt.updated_at
        s.add(opt)
        s.commit()
    [record] = build_records(engine)
    assert record.trust_tier == "verified" and record.accepts[0].verified and record.last_verified
    assert "never_verified" not in [n.code for n in record.risks]
    record_probes(engine, [_probe("2026-11-20T11:00:00+00:00", challenge=_challenge(amount="2000"))])
    [record] = build_records(engine)
    assert record.trust_tier == "live" and not any(a.verified for a in record.accepts)  # no origin pages here


def test_two_builds_of_one_database_are_byte_identical(engine: Any) -> None:
    record_probes(engine, [_probe("2026-11-20T10:00:00+00:00"), _probe("2026-11-20T10:00:00+00:00", outcome="timeout")])
    first = [json.dumps(r.model_dump(mode="json"), sort_keys=True) for r in build_records(engine)]
    second = [json.dumps(r.model_dump(mode="json"), sort_keys=True) for r in build_records(engine)]
    assert first == second


def test_records_are_the_same_when_id_lists_are_read_in_small_chunks(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """build_records reads rows by IN lists of ids in chunks (one list of 100k ids would pass the
    bind-parameter limits); chunks of 2 must give the very records one chunk gives."""
    from index.store import engine as store

    hosts = ["a", "b", "c", "d", "e"]
    for i, host in enumerate(hosts):
        url = f"https://{host}.example/v1/forecast?city=Lisbon"
        record_probes(engine, [_probe("2026-11-20T10:00:00+00:00", url=url),
                               _probe("2026-11-21T10:00:00+00:00", url=url, challenge=_challenge(amount=str(5000 + i))),
                               _probe("2026-11-21T12:00:00+00:00", url=url, outcome="timeout")])
    def widest_statement(chunk: int) -> tuple[list[str], int]:
        """The records, and the most parameters any one statement carried, with IN lists of `chunk` ids."""
        monkeypatch.setattr(store, "_IN_CHUNK", chunk)
        widest = [0]

        def count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
            widest.append(len(parameters) if isinstance(parameters, (list, tuple, dict)) else 0)

        event.listen(engine, "before_cursor_execute", count)
        try:
            return [r.model_dump_json() for r in build_records(engine)], max(widest)
        finally:
            event.remove(engine, "before_cursor_execute", count)

    whole, wide = widest_statement(500)
    small, narrow = widest_statement(2)
    assert small == whole
    assert wide - narrow == len(hosts) - 2  # the widest statement carries 2 ids instead of all five
    assert len(whole) == len(hosts) and all(json.loads(r)["terms_changes"] for r in whole)
