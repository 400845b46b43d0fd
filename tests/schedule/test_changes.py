"""Crawl runs on a real database (SQLite and PostgreSQL): what changed between states, the schedule
of the next probes, retirement, and a run's change counts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from index.schedule.changes import State, begin_run, diff, finish_run, probed_in_run, unfinished_run
from index.store.models import CrawlRun, Resource, ResourceChange
from index.schedule.rules import DEFAULT_INTERVAL, RETIRE_AFTER_FAILURES
from index.store.engine import init_db
from index.store.write import record_probes
from index.protocol.challenge import parse_challenge
from tests.support.challenge_cases import CASES_DIR, load_response

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def _challenge(amount: str = "1000") -> dict[str, Any]:
    ch = copy.deepcopy(parse_challenge(*load_response(CASES_DIR / "v2_sdk_get_two_networks")).model_dump(mode="json"))
    for acc in ch["accepts"]:
        acc["amount_atomic"] = amount
    return ch


def _probe(path: str, at: datetime, outcome: str = "paid", amount: str = "1000") -> dict[str, Any]:
    probe: dict[str, Any] = {"url": f"https://a.example/{path}", "method": "GET", "observed_at": at.isoformat(),
                             "outcome": outcome, "latency_ms": 5.0, "sources": [{"kind": "seed", "url": "t"}]}
    if outcome == "paid":
        probe["challenge"] = _challenge(amount)
    return probe


def _run(engine: Any, probes: list[dict[str, Any]]) -> dict[str, int]:
    run_id = begin_run(engine, "incremental")
    record_probes(engine, probes, run_id)
    return finish_run(engine, run_id, {"probed": len(probes)})


def test_diff_rules() -> None:
    paid = State("paid", True, ("n a 1",), ("0x1",), False)
    assert diff({}, {1: paid}) == [(1, "added", None, ["n a 1"])]
    assert diff({}, {1: State("timeout", False, (), (), False)}) == []  # never in the catalog
    assert [k for _, k, _, _ in diff({1: paid}, {1: State("paid", True, ("n a 2",), ("0x2",), False)})] == \
        ["price_changed", "pay_to_changed"]
    assert [k for _, k, _, _ in diff({1: paid}, {1: State("not_found", True, ("n a 1",), ("0x1",), False)})] == ["removed"]
    assert [k for _, k, _, _ in diff({1: paid}, {1: State("timeout", True, ("n a 1",), ("0x1",), True)})] == \
        ["went_down", "retired"]
    assert [k for _, k, _, _ in diff({1: State("timeout", True, ("n a 1",), ("0x1",), False)}, {1: paid})] == ["recovered"]


def test_change_report_over_three_runs(db_url: str) -> None:
    engine = init_db(db_url)
    first = _run(engine, [_probe("a", T0), _probe("b", T0), _probe("c", T0)])
    assert first["added"] == 3
    second = _run(engine, [_probe("a", T0 + timedelta(hours=6), amount="2000"),
                           _probe("b", T0 + timedelta(hours=6), outcome="not_found"),
                           _probe("c", T0 + timedelta(hours=6), outcome="timeout")])
    assert {k: v for k, v in second.items() if v} == {"price_changed": 1, "removed": 1, "went_down": 1}
    third = _run(engine, [_probe("c", T0 + timedelta(hours=12))])
    assert {k: v for k, v in third.items() if v} == {"recovered": 1}
    with Session(engine) as s:
        kinds = [c.kind for c in s.exec(select(ResourceChange).order_by(ResourceChange.id)).all()]
        assert kinds == ["added", "added", "added", "price_changed", "removed", "went_down", "recovered"]
        runs = s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()
        assert all(r.finished_at is not None and r.before == {} for r in runs)
        a = s.exec(select(Resource).where(Resource.url == "https://a.example/a")).one()
        assert a.next_probe_at.replace(tzinfo=UTC) == T0 + timedelta(hours=6) + DEFAULT_INTERVAL
    assert unfinished_run(engine) is None


def test_failing_resources_back_off_and_retire_then_come_back(db_url: str) -> None:
    engine = init_db(db_url)
    _run(engine, [_probe("a", T0)])
    at = T0
    for i in range(RETIRE_AFTER_FAILURES):
        at = T0 + timedelta(days=1 + i)
        counts = _run(engine, [_probe("a", at, outcome="timeout")])
    assert counts["retired"] == 1
    with Session(engine) as s:
        res = s.exec(select(Resource)).one()
        assert res.retired_at is not None and res.consecutive_failures == RETIRE_AFTER_FAILURES
        assert res.next_probe_at.replace(tzinfo=UTC) - at == timedelta(days=7)
    back = _run(engine, [_probe("a", at + timedelta(days=1))])
    assert back["recovered"] == 1
    with Session(engine) as s:
        res = s.exec(select(Resource)).one()
        assert res.retired_at is None and res.consecutive_failures == 0


def test_an_unfinished_run_is_found_with_what_it_already_probed(db_url: str) -> None:
    engine = init_db(db_url)
    run_id = begin_run(engine, "full")
    record_probes(engine, [_probe("a", T0)], run_id)
    found = unfinished_run(engine)
    assert found is not None and found.id == run_id
    assert probed_in_run(engine, run_id) == {("https://a.example/a", "GET")}
    assert finish_run(engine, run_id, {})["added"] == 1


def test_due_queue(db_url: str) -> None:
    from index.schedule.due import discovery_due, plan

    engine = init_db(db_url)
    assert discovery_due(engine, T0)
    run_id = begin_run(engine, "full")
    record_probes(engine, [_probe("a", T0), _probe("b", T0, outcome="timeout")], run_id)
    finish_run(engine, run_id, {"discovery": True})
    due, known = plan(engine, T0 + timedelta(hours=1))
    assert due == [] and known == [("https://a.example/a", "GET"), ("https://a.example/b", "GET")]
    # b failed once: due again after one interval; a succeeded: due after one interval too
    due, known = plan(engine, T0 + DEFAULT_INTERVAL)
    assert [c["url"] for c in due] == ["https://a.example/a", "https://a.example/b"]
    assert due[0]["hints"]["source"] == "bazaar"  # the last probe's hints steer the next one
    due, _ = plan(engine, T0 + DEFAULT_INTERVAL, limit=1)
    assert len(due) == 1
    due, known = plan(engine, T0, everything=True, done={("https://a.example/a", "GET")})
    assert [c["url"] for c in due] == ["https://a.example/b"] and known == [("https://a.example/a", "GET")]
    assert not discovery_due(engine, datetime.now(UTC))


def test_change_lines_show_the_first_changes_and_count_the_rest(db_url: str) -> None:
    from index.schedule.runs import change_lines

    engine = init_db(db_url)
    _run(engine, [_probe("a", T0), _probe("b", T0), _probe("c", T0)])
    _run(engine, [_probe("a", T0 + timedelta(hours=6), amount="2000"),
                  _probe("b", T0 + timedelta(hours=6), outcome="not_found")])
    with Session(engine) as s:
        first, second = [r.id for r in s.exec(select(CrawlRun).order_by(CrawlRun.id)).all()]
    assert change_lines(engine, first) == [f"added           GET https://a.example/{p}" for p in "abc"]
    assert change_lines(engine, first, limit=2) == [
        "added           GET https://a.example/a", "added           GET https://a.example/b",
        "… and 1 more (x402-index runs --format json)"]
    assert change_lines(engine, first, limit=3)[-1] == "added           GET https://a.example/c"
    old = "; ".join(f"{net} {asset} 1000" for net, asset in _terms())
    new = old.replace(" 1000", " 2000")
    assert change_lines(engine, second) == [f"price_changed   GET https://a.example/a  {old} → {new}",
                                            "removed         GET https://a.example/b  paid → not_found"]


def _terms() -> list[tuple[str, str]]:
    ch = _challenge()
    return sorted((acc.get("network_caip2") or acc["network"], acc["asset"]) for acc in ch["accepts"])
