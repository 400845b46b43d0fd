"""The fleet's seller origin crawled and built end to end: a verified owner whose words replace ours,
and L402 / MPP endpoints catalogued as `other_protocol`, with their price."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import FAST, run_cli


@pytest.fixture(scope="module")
def owner_build(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("owner")
    db = f"sqlite:///{work / 'catalog.db'}"
    seeds = [arg for s in fleet["owner"]["seeds"] for arg in ("--seed", s)]
    run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", *seeds, *FAST, cwd=work)
    run_cli("build", "--db", db, "--out", str(work / "public"), "--quiet", cwd=work)
    records = [json.loads(line) for line in (work / "public" / "catalog.jsonl").read_text().splitlines()]
    return {"work": work, "db": db, "out": work / "public",
            "records": {(r["url"], r["method"]): r for r in records}}


def _record(build: dict[str, Any], url: str) -> dict[str, Any]:
    return build["records"][(url, "GET")]


def test_verified_owner_on_every_record(owner_build: dict[str, Any], fleet: dict[str, Any]) -> None:
    owner = fleet["owner"]
    for res in owner["resources"]:
        record = _record(owner_build, res["url"])
        assert record["owner_verified"] is True, res["url"]
        assert record["owner"]["label"] == "from the owner"
        assert record["owner"]["proof_source"] == "well_known"
        assert sorted(record["owner"]["addresses"]) == sorted([owner["pay_to"], owner["solana_pay_to"]])
        assert record["owner"]["checked_at"]
        assert record["origin"]["title"] == owner["name"]
        assert record["origin"]["description"] == owner["description"]
        assert record["category"] == owner["category"]
        assert record["title"].startswith(owner["name"] + " · ")
        assert "title" not in record["derived_fields"] and "category" not in record["derived_fields"]


def test_owner_description_replaces_only_a_derived_summary(owner_build: dict[str, Any], fleet: dict[str, Any]) -> None:
    for res in fleet["owner"]["resources"]:
        if res["protocol"] != "x402":
            continue
        record = _record(owner_build, res["url"])
        if res["description_402"]:
            assert record["summary"] == res["description_402"]  # the live 402's own words stay
            assert "summary" not in record["owner_fields"]
        else:
            assert record["summary"] == res["description_owner"]
            assert "summary" in record["owner_fields"] and "summary" not in record["derived_fields"]
        assert record["status"] == "paid" and record["protocol"] == "x402"
        assert any("owner verified" in reason for reason in record["trust_reasons"])


def test_l402_and_mpp_endpoints_are_other_protocol(owner_build: dict[str, Any], fleet: dict[str, Any]) -> None:
    owner = fleet["owner"]
    by_protocol = {r["protocol"]: _record(owner_build, r["url"]) for r in owner["resources"] if r["protocol"] != "x402"}
    l402, mpp = by_protocol["l402"], by_protocol["mpp"]
    assert l402["status"] == "other_protocol" and l402["protocol"] == "l402"
    assert l402["other_protocol"]["price"] == {"amount": owner["l402_price_sat"], "unit": "sat", "source": "invoice",
                                               "decimal": None}
    assert mpp["status"] == "other_protocol" and mpp["protocol"] == "mpp"
    assert mpp["other_protocol"]["price"]["decimal"] == "0.25"
    for record in (l402, mpp):
        assert record["trust_tier"] == "live"
        assert record["conformance"]["grade"] is None  # not graded as a broken x402 endpoint
        assert [n["code"] for n in record["risks"]][0] == "other_protocol"
        assert "terms_declared_only" not in [n["code"] for n in record["risks"]]
    index = json.loads((owner_build["out"] / "index.json").read_text())
    entries = index["resources"] if isinstance(index, dict) else index
    protocols = {e["url"]: e["protocol"] for e in entries}
    assert protocols[l402["url"]] == "l402" and protocols[mpp["url"]] == "mpp"
    assert all(e["owner_verified"] for e in entries)


def test_pages_show_the_owner_and_the_protocol(owner_build: dict[str, Any], fleet: dict[str, Any]) -> None:
    owner = fleet["owner"]
    paid = next(r for r in owner["resources"] if r["protocol"] == "x402")
    page = (owner_build["out"] / "r" / f"{_record(owner_build, paid['url'])['slug']}.html").read_text()
    assert "Owner verified" in page and "from the owner" in page
    l402 = next(r for r in owner["resources"] if r["protocol"] == "l402")
    page = (owner_build["out"] / "r" / f"{_record(owner_build, l402['url'])['slug']}.html").read_text()
    assert "L402" in page and "10 sat" in page
