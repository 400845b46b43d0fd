"""The build pipeline's site made a slice at a time from the store (index.catalog.build.StoreRecords),
in forked workers that each open their own connections, is the site the records in memory make: every
file byte for byte, on SQLite and on PostgreSQL; and the plan finds every record's pricing peers as
the whole catalog's records do."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from index.catalog import pricing
from index.catalog.build import StoreRecords, build_records
from index.protocol.challenge import parse_challenge
from index.site.build import build_site
from index.site.parallel import ranges
from index.store.engine import init_db
from index.store.write import record_probes
from tests.support.challenge_cases import CASES_DIR, load_response

STATE = {".build-state", ".build-summaries"}  # carry a random build id


def _probes(at: str, k: int) -> list[dict[str, Any]]:
    """40 resources on 4 hosts, a spread of prices (peers for the pricing sanity), a query-string
    sibling with the same terms (folded), a timeout every 7th probe."""
    base = parse_challenge(*load_response(CASES_DIR / "v2_sdk_get_two_networks")).model_dump(mode="json")
    out = []
    for i in range(40):
        url = f"https://h{i % 4}.example/v1/tool{i}"
        challenge = copy.deepcopy(base)
        for acc in challenge["accepts"]:
            acc["amount_atomic"] = str(1000 * (1 + i % 9) + (5000 if k and i % 10 == 3 else 0))
        timeout = (i + k) % 7 == 0
        out.append({"url": url, "method": "GET", "observed_at": at, "outcome": "timeout" if timeout else "paid",
                    "http_status": None if timeout else 402, "latency_ms": 10.0 + i + k,
                    "sources": [{"kind": "seed", "url": "test"}], **({} if timeout else {"challenge": challenge})})
    sibling = copy.deepcopy(out[1])
    sibling["url"] += "?city=Lisbon"
    out.append(sibling)
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in STATE}


@pytest.fixture
def engine(db_url: str) -> Any:
    engine = init_db(db_url)
    for k, at in enumerate(["2026-11-20T10:00:00+00:00", "2026-11-21T10:00:00+00:00", "2026-11-22T10:00:00+00:00"]):
        record_probes(engine, _probes(at, k))
    return engine


def test_a_streamed_build_in_forked_workers_is_the_in_memory_build(engine: Any, tmp_path: Path) -> None:
    records = build_records(engine, site_url="https://x402.example")
    source = StoreRecords(engine, site_url="https://x402.example")
    assert source.slugs == [r.slug for r in records] and len(source) == 40  # the sibling is folded
    assert source.generated_at == records[0].generated_at == "2026-11-22T10:00:00Z"
    assert len(ranges(len(source), 2 * 8)) > 2  # several slices in each of two workers
    listed = build_site(records, tmp_path / "a", "https://x402.example", workers=1)
    streamed = build_site(source, tmp_path / "b", "https://x402.example", workers=2, parallel_min=1)
    assert listed["resources"] == streamed["resources"] == 40
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    again = build_site(StoreRecords(engine, site_url="https://x402.example"), tmp_path / "b",
                       "https://x402.example", workers=2, parallel_min=1)
    assert (again["written"], again["rendered"]) == (0, 0)


def test_the_plan_gives_each_record_the_check_the_whole_catalog_gives_it(engine: Any) -> None:
    records = build_records(engine)
    plan = StoreRecords(engine).plan
    keys = [(r.category, int(r.accepts[0].max_amount_required_atomic), r.pricing_sanity.decimals) for r in records]
    whole = pricing.catalog_sanity(keys)
    assert [(c.flag, c.ratio, c.peers) for c in plan.checks] == [(c.flag, c.ratio, c.peers) for c in whole]
    assert [(r.pricing_sanity.flag, r.pricing_sanity.ratio, r.pricing_sanity.peers) for r in records] == \
        [(c.flag, c.ratio, c.peers) for c in whole]
    assert {c.flag for c in whole} - {"unknown"}  # the store gives real peers, not only unknowns


def test_the_plan_read_in_forked_workers_is_the_plan_read_here(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from index.catalog import plan as planning
    from index.store import engine as store

    here = planning.plan_catalog(engine, workers=1)
    monkeypatch.setattr(planning, "PARALLEL_MIN", 1)
    monkeypatch.setattr(store, "_IN_CHUNK", 3)  # many chunks, in two workers
    forked = planning.plan_catalog(engine, workers=2)
    assert forked == here and len(here) == 40
