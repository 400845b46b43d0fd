"""The set-based `index.store.write.record_probes` writes exactly the rows the per-probe ORM version wrote
(tests/support/reference_store.py): same ids, same values, for hand-picked and generated batches."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.schedule import changes
from index.store import engine as store_engine, write as store
from tests.support import reference_store

USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
Writer = Callable[..., dict[str, int]]


def _accept(amount: str = "1000", asset: str = "0xA", network: str = "eip155:84532") -> dict[str, Any]:
    return {"scheme": "exact", "network": network, "network_caip2": network, "amount_atomic": amount, "asset": asset,
            "pay_to": "0xB", "max_timeout_seconds": 300, "mime_type": None, "description": None, "extra": {"name": "USDC"}}


def _probe(url: str, outcome: str, minute: int, amount: str = "1000", method: str = "GET", asset: str = "0xA",
           accepts: list[dict[str, Any]] | None = None, **plan: Any) -> dict[str, Any]:
    challenge = None
    if outcome == "paid":
        challenge = {
            "x402_version": 2, "source": "header", "error": None,
            "resource": {"url": url, "description": f"d {url}", "mime_type": "application/json", "service_name": None,
                         "tags": ["t"], "icon_url": None},
            "accepts": accepts if accepts is not None else [_accept(amount, asset), _accept("5", "0xC", "eip155:8453")],
            "extensions": {}, "hints": {"source": "bazaar", "input": {"q": 1}}, "findings": [{"code": "f", "where": "w"}],
        }
    return {
        "kind": "probe", "url": url, "method": method, "observed_at": f"2026-01-01T00:{minute:02d}:00+00:00",
        "outcome": outcome, "http_status": 402 if outcome == "paid" else None, "latency_ms": 1.5,
        "error_code": None if outcome == "paid" else "TimeoutError", "headers": {"a": "b"}, "body": "{}",
        "challenge": challenge, "sources": [{"kind": "seed", "url": f"s{minute % 2}"}], **plan,
    }


DECLARED = {"kind": "openapi", "url": "https://b.example/openapi.json", "declared": {"price_usd": "5.00"}}

BATCHES = [
    [_probe("https://a.example/r/1", "paid", 1), _probe("https://a.example/r/2", "paid", 2),
     _probe("https://b.example/x", "timeout", 3), _probe("https://a.example/r/1", "paid", 4, amount="2000")],
    [_probe("https://a.example/r/1", "timeout", 5), _probe("https://a.example/r/2", "paid", 6),
     _probe("https://b.example/x", "paid", 7), _probe("https://c.example/", "paid", 8, method="POST"),
     {**_probe("https://b.example/x", "paid", 12, asset=USDC_BASE_SEPOLIA), "sources": [DECLARED]},
     _probe("https://a.example/r/2", "paid", 9, amount="3000"),
     _probe("https://d.example/p", "method_not_allowed", 10, resource_method="POST", final=False, attempt=0,
            robots="not_consulted:listed_endpoint"),
     _probe("https://d.example/p", "paid", 11, method="POST", resource_method="POST", final=True, attempt=1,
            final_url="https://d.example/p2")],
    [_probe("https://b.example/x", "server_error", 13), _probe("https://e.example:8443/a?b=1", "paid", 14, accepts=[]),
     _probe("HTTPS://E.example:8443/a?b=1", "not_found", 15), _probe("https://a.example/r/1", "paid", 16, amount="2000"),
     # terms change and change back within one batch: the verification was lost on the way
     _probe("https://a.example/r/2", "paid", 17, amount="7000"), _probe("https://a.example/r/2", "paid", 18, amount="3000")],
]


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table, rows in id order (payment options by resource and position: they are replaced, and
    the per-probe version replaced them once per paid attempt, so their ids differ)."""
    with sqlite3.connect(path) as conn:
        out = {table: list(conn.execute(f"SELECT * FROM {table} ORDER BY id"))  # noqa: S608 - our table names
               for table in ("origins", "resources", "observations")}
        columns = [row[1] for row in conn.execute("PRAGMA table_info(payment_options)") if row[1] != "id"]
        out["payment_options"] = list(conn.execute(
            f"SELECT {', '.join(columns)} FROM payment_options ORDER BY resource_id, position"))  # noqa: S608
    return out


def _verify_first_options(path: Path) -> None:
    """A test-buy verified the first option of every resource (some of their terms change later)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE payment_options SET verified = 1, verified_at = '2026-01-01 00:30:00' WHERE position = 0")


def _run(writer: Writer, path: Path, batches: list[list[dict[str, Any]]], run_id: bool) -> tuple[list[Any], dict[str, Any]]:
    engine = store_engine.init_db(f"sqlite:///{path}")
    crawl_run = changes.begin_run(engine, "full") if run_id else None
    results: list[Any] = []
    try:
        for i, batch in enumerate(batches):
            if i:  # between batches, so that the last one shows what carried over
                _verify_first_options(path)
            try:
                results.append(writer(engine, [dict(p) for p in batch], crawl_run))
            except (ValueError, KeyError, RuntimeError) as exc:
                results.append(type(exc).__name__)
    finally:
        engine.dispose()
        store_engine._ENGINES.pop(f"sqlite:///{path}", None)
    return results, _dump(path)


def assert_same_rows(batches: list[list[dict[str, Any]]], run_id: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = _run(store.record_probes, Path(tmp) / "set_based.db", batches, run_id)
        reference = _run(reference_store.record_probes, Path(tmp) / "per_probe.db", batches, run_id)
    assert ours[0] == reference[0]
    for table, rows in reference[1].items():
        assert ours[1][table] == rows, table


def test_hand_picked_batches_write_the_same_rows() -> None:
    assert_same_rows(BATCHES, run_id=True)


def test_one_batch_at_a_time_and_all_in_one_batch() -> None:
    assert_same_rows([[p] for batch in BATCHES for p in batch])
    assert_same_rows([[p for batch in BATCHES for p in batch]])


def test_a_bad_probe_fails_the_batch_before_anything_is_written() -> None:
    bad = {"url": "https://a.example/y", "method": "GET", "outcome": "not-an-outcome"}
    assert_same_rows([BATCHES[0], [*BATCHES[1], bad], BATCHES[2]])
    assert_same_rows([BATCHES[0], [*BATCHES[1], {"outcome": "paid"}]])


def test_an_empty_batch_writes_nothing() -> None:
    assert_same_rows([[], BATCHES[0], []])


# ---------------------------------------------------------------------------------------------
# generated batches

URLS = ["https://a.example/r/1", "https://a.example/r/2", "https://A.example:443/r/1", "https://b.example/x",
        "http://c.example:8080/p?q=1", "https://d.example/"]
OUTCOMES = ["paid", "paid", "paid", "timeout", "not_found", "method_not_allowed", "free", "server_error",
            "unreachable", "paid_invalid", "blocked"]
SOURCES = [{"kind": "seed", "url": "s0"}, {"kind": "facilitator", "url": "https://fac.example/list"},
           {"kind": "openapi", "url": "https://a.example/openapi.json", "declared": {"price_usd": "0.001"}},
           {"kind": "openapi", "url": "https://a.example/openapi.json", "declared": {"price_usd": "2"}},
           {"kind": "registry", "url": "https://reg.example", "declared": {"accepts": [{"network": "eip155:8453"}]}}]
accepts = st.lists(st.builds(_accept, amount=st.sampled_from(["1000", "1000", "2000"]),
                             asset=st.sampled_from(["0xA", "0xA", USDC_BASE_SEPOLIA])), max_size=3)


@st.composite
def probes(draw: st.DrawFn) -> dict[str, Any]:
    minute = draw(st.integers(min_value=0, max_value=59))
    method = draw(st.sampled_from(["GET", "POST", "get"]))
    plan: dict[str, Any] = {}
    if draw(st.booleans()):
        plan["resource_method"] = draw(st.sampled_from(["GET", "POST"]))
    if draw(st.booleans()):
        plan["final"] = draw(st.booleans())
        plan["attempt"] = draw(st.integers(min_value=0, max_value=3))
    probe = _probe(draw(st.sampled_from(URLS)), draw(st.sampled_from(OUTCOMES)), minute, method=method,
                   accepts=draw(accepts), **plan)
    probe["sources"] = draw(st.lists(st.sampled_from(SOURCES), max_size=2))
    if draw(st.booleans()):
        probe["challenge"] = None  # e.g. paid_invalid, or a paid probe whose challenge was not kept
    return probe


@pytest.mark.slow  # 60 pairs of SQLite files: make test runs it, make test-fast does not
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=st.lists(st.lists(probes(), max_size=8), min_size=1, max_size=4))
def test_generated_batches_write_the_same_rows(batches: list[list[dict[str, Any]]]) -> None:
    assert_same_rows(batches)


@pytest.mark.parametrize("chunk", [1, 2, 3, 500])
def test_batches_larger_than_one_in_list(chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_engine, "_IN_CHUNK", chunk)
    batch = [_probe(f"https://h{i % 4}.example/r/{i % 9}", "paid" if i % 3 else "timeout", i) for i in range(20)]
    assert_same_rows([batch, batch[::-1], BATCHES[1]])
