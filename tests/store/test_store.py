"""The store on a real SQLite file: append-only observations, current state, last good options kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, func, select

from index.catalog.build import build_records
from index.store.models import Observation, PaymentOption, Resource
from index.store.engine import init_db
from index.store.write import record_probes
from index.protocol.challenge import parse_challenge
from tests.support.challenge_cases import CASES_DIR, load_response


def _paid_probe(url: str, case: str = "v2_sdk_get_two_networks", method: str = "GET", at: str = "2026-11-20T10:00:00+00:00") -> dict[str, Any]:
    challenge = parse_challenge(*load_response(CASES_DIR / case))
    return {"url": url, "method": method, "observed_at": at, "outcome": "paid", "http_status": 402,
            "latency_ms": 3.0, "challenge": challenge.model_dump(mode="json"),
            "sources": [{"kind": "seed", "url": "test"}]}


def test_paid_then_failed_probe_keeps_last_good_options(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    url = "https://weather.example/v1/forecast?city=Lisbon"
    counts = record_probes(engine, [_paid_probe(url)])
    assert counts == {"observations": 1, "new_resources": 1}
    record_probes(engine, [{"url": url, "method": "GET", "observed_at": "2026-11-20T11:00:00+00:00",
                            "outcome": "timeout", "error_code": "TimeoutError"}])
    with Session(engine) as s:
        res = s.exec(select(Resource)).one()
        assert res.status == "timeout"
        assert res.last_seen.isoformat().startswith("2026-11-20T10:00")  # a timeout is not an answer
        opts = s.exec(select(PaymentOption).order_by(PaymentOption.position)).all()
        assert [(o.network_caip2, o.amount_atomic) for o in opts] == [("eip155:84532", "1000"), ("eip155:8453", "1000")]
        assert s.exec(select(func.count()).select_from(Observation)).one() == 2
    [record] = build_records(engine)
    assert record.status == "timeout" and record.price_usd == 0.001
    assert record.networks == ["eip155:8453", "eip155:84532"]


def test_get_and_post_of_one_url_are_two_resources_with_distinct_slugs(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    url = "https://api.example/v1/chat/completions"
    record_probes(engine, [_paid_probe(url, "v2_sdk_post_body_hints", "POST"), _paid_probe(url, "v2_sdk_post_body_hints", "GET")])
    slugs = sorted(r.slug for r in build_records(engine))
    assert len(slugs) == 2 and len(set(slugs)) == 2
    assert "api-example-v1-chat-completions" in slugs


def test_a_batch_is_one_transaction(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    good = _paid_probe("https://a.example/x")
    bad = {"url": "https://a.example/y", "method": "GET", "outcome": "not-an-outcome"}
    try:
        record_probes(engine, [good, bad])
    except ValueError:
        pass
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Resource)).one() == 0
        assert s.exec(select(func.count()).select_from(Observation)).one() == 0


def test_sources_accumulate(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    url = "https://a.example/x"
    p1 = _paid_probe(url)
    p2 = _paid_probe(url, at="2026-11-21T10:00:00+00:00")
    p2["sources"] = [{"kind": "facilitator", "url": "https://fac.example/discovery/resources"}]
    record_probes(engine, [p1])
    record_probes(engine, [p2])
    [record] = build_records(engine)
    assert [s.kind for s in record.sources] == ["facilitator", "seed"]
