"""Issue 20, rules we publish: two PAYMENT-REQUIRED headers that disagree, an amount no one could
mean to pay (2^256 − 1 USDC), and a look-alike name ("Сoinbase Оfficial"). Each is tested the way it
failed: hostile origin 2 serves it, a real crawl parses and stores it (SQLite and PostgreSQL), the
build makes its catalog record, and its page shows it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from index.demo.hostile2 import LOOK_ALIKE, MAX_UINT256, OTHER_PAY_TO, PAY_TO, HostileServers
from tests.conftest import FAST, run_cli

PATHS = ("/two-challenges", "/max-amount", "/look-alike")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    with HostileServers() as urls:
        yield urls


def _crawl_and_build(db_url: str, origin: str, work: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]], Path]:
    seeds = [a for path in PATHS for a in ("--seed", f"GET {origin}{path}")]
    run_cli("crawl", "--db", db_url, "--allow-host", "127.0.0.1", "--quiet", *seeds, *FAST,
            "-s", "DOWNLOAD_TIMEOUT=5", cwd=work)
    out = work / "public"
    run_cli("build", "--db", db_url, "--out", str(out), "--quiet", cwd=work)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT r.url, r.slug, o.outcome, o.raw_headers, o.findings FROM observations o "
                                     "JOIN resources r ON r.id = o.resource_id WHERE o.final")).fetchall()
    finally:
        engine.dispose()
    stored = {r.url.removeprefix(origin): {"slug": r.slug, "outcome": r.outcome, "headers": _json(r.raw_headers),
                                           "codes": {f["code"] for f in _json(r.findings) or []}} for r in rows}
    records = {path: json.loads(run_cli("show", stored[path]["slug"], "--db", db_url, cwd=work).stdout)
               for path in PATHS}
    return stored, records, out


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_parse_store_record_and_page(db_url: str, servers: dict[str, str], tmp_path: Path) -> None:
    stored, records, out = _crawl_and_build(db_url, servers["origin"], tmp_path)

    # two headers that disagree: both kept with the observation, an error finding, never conformant
    two = stored["/two-challenges"]
    assert two["outcome"] == "paid" and "header_ambiguous" in two["codes"]
    values = two["headers"]["payment-required"]
    assert isinstance(values, list) and len(values) == 2 and values[0] != values[1]
    record = records["/two-challenges"]
    assert record["trust_tier"] == "live" and record["conformance"]["grade"] == "C"
    [found] = [f for f in record["conformance"]["findings"] if f["code"] == "header_ambiguous"]
    assert "1000000000" in found["detail"] and OTHER_PAY_TO in found["detail"] and PAY_TO in found["detail"]
    assert "terms_ambiguous" in {n["code"] for n in record["risks"]}

    # 2^256 − 1 USDC: an error finding, never conformant, a risk note for the buyer
    huge = stored["/max-amount"]
    assert huge["outcome"] == "paid" and "amount_implausible" in huge["codes"]
    record = records["/max-amount"]
    assert record["accepts"][0]["max_amount_required_atomic"] == str(MAX_UINT256)
    assert record["trust_tier"] == "live" and "amount_implausible" in {n["code"] for n in record["risks"]}

    # the look-alike: a warning (so it alone does not cost `conformant`: the control for the two
    # above, on the same origin), and the page marks the Cyrillic letters with a badge
    alike = stored["/look-alike"]
    assert alike["outcome"] == "paid" and "text_mixed_script" in alike["codes"]
    record = records["/look-alike"]
    assert record["summary"].startswith(LOOK_ALIKE)
    assert record["trust_tier"] == "conformant"
    assert "look_alike_text" in {n["code"] for n in record["risks"]}
    page = (out / "r" / f"{record['slug']}.html").read_text()
    assert '<mark class="confusable" title="U+0421 Cyrillic">\u0421</mark>oinbase' in page
    assert '<mark class="confusable" title="U+041E Cyrillic">\u041e</mark>fficial' in page
    assert ">mixed scripts</span>" in page
    for path in ("/two-challenges", "/max-amount"):  # plain Latin text: nothing marked
        assert "confusable" not in (out / "r" / f"{records[path]['slug']}.html").read_text()
