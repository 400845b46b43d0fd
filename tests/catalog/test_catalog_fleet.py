"""Catalog records of the demo fleet (one real crawl, shared with test_fleet_e2e): golden records,
the published schema, `show`, byte-identical rebuilds, and pricing sanity on the fleet's AI prices.

Golden records live in tests/fixtures/records/fleet.json with the fleet's ports, times and latencies
replaced by placeholders. After an intended change, rewrite them with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/catalog/test_catalog_fleet.py
and review the diff.
"""

from __future__ import annotations

from tests.support import FIXTURES
import json
import os
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from index.catalog.build import build_records, find_record
from index.catalog.record import SCHEMA_ID
from index.store.engine import init_db
from tests.conftest import run_cli

GOLDEN = FIXTURES / "records" / "fleet.json"
SEED_FIELDS = ("generated_at", "slug", "title", "url", "category", "summary", "seo", "use_cases", "ideal_buyer",
               "example_prompt", "example_request_body", "risk_notes", "pricing_sanity", "pricing_review_required",
               "pricing_decimal_suspect", "trust_tier", "accepts", "origin", "json_ld", "axon_deep_link")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def _placeholders(fleet: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, base in [*fleet["origins"].items(), ("facilitator", fleet["facilitator"])]:
        hostport = base.split("://", 1)[1]
        pairs.append((hostport, "{" + name + "}"))
        pairs.append((hostport.replace(".", "-").replace(":", "-"), "{" + name + "}"))
    return pairs


def normalize(value: Any, pairs: list[tuple[str, str]]) -> Any:
    """Ports, times and latencies out; what is left must be the same on every crawl of the fleet."""
    text = json.dumps(value, sort_keys=True)
    for old, new in pairs:
        text = text.replace(old, new)
    text = _TIME.sub("<time>", text)
    out = json.loads(text)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: ("<ms>" if k.endswith("latency_ms") and v is not None else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            items = [walk(v) for v in node]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if node and isinstance(node[0], dict) and "kind" in node[0] and "url" in node[0] else items
        return node

    return walk(out)


@pytest.fixture(scope="module")
def records(crawled_fleet: dict[str, Any]) -> list[dict[str, Any]]:
    lines = (crawled_fleet["out"] / "catalog.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_golden_records(records: list[dict[str, Any]], fleet: dict[str, Any]) -> None:
    pairs = _placeholders(fleet)
    got = {normalize(r["slug"], pairs): normalize(r, pairs) for r in records}
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(got) == sorted(expected)
    for slug in expected:
        assert got[slug] == expected[slug], slug


def test_every_record_validates_against_the_published_schema(records: list[dict[str, Any]], crawled_fleet: dict[str, Any]) -> None:
    schema = json.loads((crawled_fleet["out"] / SCHEMA_ID).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert len(records) >= 12
    for record in records:
        errors = [e.message for e in validator.iter_errors(record)]
        assert errors == [], (record["slug"], errors)


def test_show_fills_every_seed_field_or_says_why_not(records: list[dict[str, Any]], crawled_fleet: dict[str, Any]) -> None:
    for slug in [r["slug"] for r in records]:
        shown = json.loads(run_cli("show", slug, "--db", crawled_fleet["db"], cwd=crawled_fleet["work"]).stdout)
        for field in SEED_FIELDS:
            assert shown[field] is not None or field in shown["null_reasons"], (slug, field)
        for field in ("status", "first_seen", "x402_version", "networks", "conformance", "health", "sources"):
            assert shown[field] is not None or field in shown["null_reasons"], (slug, field)
        assert {w["window"] for w in shown["health"]["windows"]} == {"24h", "7d", "30d"}
        break  # one subprocess is enough for the CLI; the loop below checks the rest in process
    engine = init_db(crawled_fleet["db"])
    for record in build_records(engine):
        data = record.model_dump(mode="json")
        for field in SEED_FIELDS:
            assert data[field] is not None or field in data["null_reasons"], (record.slug, field)


def test_one_record_by_slug_equals_its_record_in_the_whole_catalog(crawled_fleet: dict[str, Any]) -> None:
    # `show` builds one record and reads only the other resources' categories and prices for its
    # pricing sanity: the same record as a whole build gives, peers included
    engine = init_db(crawled_fleet["db"])
    records = build_records(engine)
    assert any(r.pricing_sanity.ratio is not None for r in records)  # some records do have peers
    for record in records:
        assert find_record(engine, record.slug) == record, record.slug
    assert find_record(engine, "no-such-slug") is None


def test_rebuilding_from_the_same_database_is_byte_identical(crawled_fleet: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "again"
    run_cli("build", "--db", crawled_fleet["db"], "--out", str(out), "--quiet", cwd=crawled_fleet["work"])
    for name in ("catalog.jsonl", "index.json", SCHEMA_ID):
        assert (out / name).read_bytes() == (crawled_fleet["out"] / name).read_bytes(), name
    twins = sorted(p.name for p in (out / "r").glob("*.json"))
    assert twins and all((out / "r" / n).read_bytes() == (crawled_fleet["out"] / "r" / n).read_bytes() for n in twins)


def _with_chat_amount(crawled_fleet: dict[str, Any], tmp_path: Path, amount: int) -> dict[str, Any]:
    """The fleet's streaming chat completions (seed 002's RunGate twin) at another price."""
    db = tmp_path / f"c{amount}.db"
    shutil.copy(crawled_fleet["db_path"], db)
    con = sqlite3.connect(db)
    (rid,) = con.execute("SELECT id FROM resources WHERE url LIKE '%/v1/chat/completions'").fetchone()
    con.execute("UPDATE payment_options SET amount_atomic = ? WHERE resource_id = ?", (str(amount), rid))
    con.commit()
    con.close()
    return next(r.model_dump(mode="json") for r in build_records(init_db(f"sqlite:///{db}"))
                if r.url.endswith("/v1/chat/completions"))


def test_pricing_sanity_on_the_fleets_ai_category(records: list[dict[str, Any]], crawled_fleet: dict[str, Any], tmp_path: Path) -> None:
    chat = next(r for r in records if r["url"].endswith("/v1/chat/completions"))
    assert chat["accepts"][0]["max_amount_required_atomic"] == "1"  # as seed 002
    assert chat["category"] == "ai" and chat["pricing_sanity"]["flag"] == "cheap_outlier"
    assert not chat["pricing_review_required"] and not chat["pricing_decimal_suspect"]

    normal = _with_chat_amount(crawled_fleet, tmp_path, 10_000)
    assert normal["pricing_sanity"]["flag"] == "normal"
    assert not normal["pricing_decimal_suspect"]

    suspect = _with_chat_amount(crawled_fleet, tmp_path, 10**16)
    assert suspect["pricing_decimal_suspect"] and suspect["pricing_review_required"]
    assert suspect["pricing_sanity"]["flag"] == "expensive_outlier"
    assert "pricing_decimal_suspect" in [n["code"] for n in suspect["risks"]]


def test_json_ld_of_every_record_matches_its_fields(records: list[dict[str, Any]]) -> None:
    for r in records:
        ld = r["json_ld"]
        assert ld["identifier"] == r["slug"] and ld["name"] == r["title"] and ld["url"].endswith(f"r/{r['slug']}.html")
        assert ld["potentialAction"]["target"] == r["test_buy"]["page"]
        assert r["axon_deep_link"] is None and r["null_reasons"]["axon_deep_link"]  # no link of ours starts a buy
        if r["price_usd"] is not None:
            assert ld["offers"]["priceSpecification"]["unitText"] == "call"
            assert ld["offers"]["priceCurrency"] == "USDC"


def test_every_time_in_a_record_is_utc_with_a_z(crawled_fleet: dict[str, Any]) -> None:
    """One format for every time a record carries, the sources' first and last seen included."""
    text = (crawled_fleet["out"] / "catalog.jsonl").read_text()
    assert "+00:00" not in text
    stamps = [s[k] for line in text.splitlines() for s in json.loads(line)["sources"] for k in ("first_seen", "last_seen") if s.get(k)]
    assert stamps and all(t.endswith("Z") for t in stamps)


def test_example_requests_of_the_fleet_answer_402_unpaid(records: list[dict[str, Any]]) -> None:
    """What a resource page promises of its copyable example request: sent unpaid, it gets the 402.
    The picky search endpoint refuses the SDK's empty example body with 422; the body built from its
    schema passes."""
    import httpx

    checked = 0
    for r in records:
        ex = r["example_request"]
        if not ex or r["status"] != "paid":
            continue
        body = None if ex["body"] is None else json.dumps(ex["body"]).encode()
        answer = httpx.request(ex["method"], ex["url"], content=body, timeout=5,
                               headers={"Content-Type": ex["content_type"]} if ex["content_type"] else {})
        assert answer.status_code == 402, (r["slug"], answer.status_code, answer.text[:200])
        checked += 1
    assert checked >= 10 and any(r["example_request"]["url"].endswith("/v1/search") for r in records)
