"""Catalog records for tests of what consumes records (site, query): a hand-made one, and the demo
fleet's golden ones."""

from __future__ import annotations

import json
import re
from typing import Any

from index.catalog.jsonld import json_ld
from index.catalog.record import AcceptRecord, BuyInstructions, CatalogRecord, Conformance, OriginRef, PricingSanity
from tests.support import FIXTURES


def sample_record(slug: str = "a-example-x", title: str = "A · X", url: str = "https://a.example/x",
                  summary: str = "Does X", **overrides: Any) -> CatalogRecord:
    fields: dict[str, Any] = dict(
        slug=slug, title=title, url=url, method="GET", category="data", summary=summary,
        seo={"title": f"{title} | x402", "description": summary}, use_cases=["Use X"], ideal_buyer="Agents.",
        example_prompt=None, example_request_body=None, risk_notes=[],
        pricing_sanity=PricingSanity(flag="unknown", ratio=None, median_category_atomic=None),
        pricing_review_required=False, pricing_decimal_suspect=False, trust_tier="conformant",
        accepts=[AcceptRecord(scheme="exact", network="base", network_caip2="eip155:8453", network_name="Base",
                              testnet=False, pay_to="0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
                              asset="0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", asset_symbol="USDC", asset_decimals=6,
                              max_amount_required_atomic="10000", amount="0.01", price_usd=0.01)],
        origin=OriginRef(slug="a-example", host="a.example", url="https://a.example", title=title),
        json_ld=json_ld(slug=slug, name=title, description=summary, url=url, category="data", page=f"/r/{slug}.html",
                        origin_page="/o/a-example.html", origin_url="https://a.example", origin_name=title,
                        status="paid", offer=None, buy_target=f"/r/{slug}.html#test-buy"),
        test_buy=BuyInstructions(command=f"x402-index test-buy {slug}", pay_command=f"x402-index test-buy {slug} --pay",
                                 page=f"/r/{slug}.html#test-buy"),
        conformance=Conformance(grade="A"),
        status="paid", x402_version=2, networks=["eip155:8453"], price_usd=0.01,
        first_seen="2026-11-20T10:00:00Z", last_seen="2026-11-20T10:00:00Z", last_probed_at="2026-11-20T10:00:00Z",
        generated_at="2026-11-20T10:00:00Z",
    )
    fields.update(overrides)
    return CatalogRecord(**fields)


def golden_records() -> list[CatalogRecord]:
    """The fleet's golden records (tests/fixtures/records/fleet.json), their placeholders filled:
    latencies made numbers, {host} made host."""
    text = (FIXTURES / "records" / "fleet.json").read_text()
    text = re.sub(r"\{([a-z][a-z0-9_-]*)\}", r"\1", text.replace('"<ms>"', "12.5"))
    return [CatalogRecord.model_validate(r) for r in json.loads(text).values()]
