"""The catalog record's rules, as pure functions: schema vs the seed records, pricing sanity, trust
tiers and risk notes, health windows, terms history, example requests, wording, categories, JSON-LD."""

from __future__ import annotations

from tests.support import FIXTURES, ROOT
import json
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.catalog import describe
from index.catalog import pricing
from index.catalog.categories import categories, classify_fields, scores
from index.catalog.examples import example_request
from index.catalog.health import Sample, percentile, terms_changes, window_figures
from index.catalog.record import CatalogRecord, json_schema
from index.catalog.trust import RISKS, TIERS, Facts, risk_notes, tier
from tests.support.records import sample_record

SEEDS = FIXTURES / "seeds"  # copies of shared/seeds/000, 002
SEED_RECORDS = ["000_9688302c16a5225f.json", "002_9cf7cbdf6637921d.json"]
END = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# ---------------------------------------------------------------------------------------------
# the published schema


@pytest.mark.parametrize("name", SEED_RECORDS)
def test_seed_records_validate_against_our_schema(name: str) -> None:
    path = SEEDS / name
    if not path.exists():
        pytest.skip(f"seed records live in the workspace's shared/seeds ({path} not found)")
    seed = json.loads(path.read_text())
    errors = sorted(_validator().iter_errors(seed), key=str)
    assert errors == [], [e.message for e in errors]
    # and the model reads them (our superset keeps their names and meanings)
    assert set(seed) <= set(CatalogRecord.model_fields)


def test_schema_rejects_what_a_record_cannot_be() -> None:
    good = sample_record().model_dump(mode="json")
    validator = _validator()
    assert list(validator.iter_errors(good)) == []
    for broken in ({**good, "trust_tier": "trusted"}, {**good, "unknown_field": 1},
                   {k: v for k, v in good.items() if k != "accepts"},
                   {**good, "pricing_sanity": {"flag": "weird", "ratio": 1, "median_category_atomic": 1}}):
        assert list(validator.iter_errors(broken)), broken


def test_schema_carries_its_version() -> None:
    schema = json_schema()
    assert schema["x-schema-version"] == sample_record().schema_version
    assert schema["$schema"].endswith("2020-12/schema")


# ---------------------------------------------------------------------------------------------
# pricing


def test_pricing_flags_mirror_the_seeds() -> None:
    peers = [100, 20_000, 1_000_000]  # the other AI resources of the demo fleet
    assert pricing.sanity(1, 6, peers).flag == "cheap_outlier"  # seed 002: 1 atomic unit
    normal = pricing.sanity(10_000, 6, peers)
    assert (normal.flag, normal.ratio, normal.median_atomic) == ("normal", 0.5, 20_000)
    assert pricing.sanity(10**16, 6, peers).flag == "expensive_outlier"
    assert pricing.decimal_suspect(10**16, 6, Decimal(10**10))
    assert pricing.decimal_suspect(10_000, 6, Decimal("0.01")) == []
    assert pricing.sanity(10_000, 6, [1, 2]).flag == "unknown"  # too few peers
    assert pricing.sanity(10_000, None, peers).flag == "unknown"  # unknown decimals
    assert pricing.sanity(None, 6, peers).flag == "unknown"


def test_decimal_suspect_reasons() -> None:
    assert pricing.decimal_suspect(10, 6, Decimal("0.00001"), ["amount_not_atomic"])
    assert pricing.decimal_suspect(200_000_000, 6, Decimal(200))  # $200 a call
    assert pricing.decimal_suspect(10_000, 18, None)  # dust on an 18-decimal token
    assert pricing.decimal_suspect(10**16, 18, None) == []  # 0.01 of an 18-decimal token


def test_review_required_rules() -> None:
    assert pricing.review_required("expensive_outlier", False, False)
    assert pricing.review_required("normal", True, False)
    assert pricing.review_required("normal", False, True)
    assert not pricing.review_required("cheap_outlier", False, False)  # as seed 002


prices = st.integers(min_value=0, max_value=10**30)


@given(low=prices, high=prices, peers=st.lists(st.integers(min_value=0, max_value=10**20), max_size=12))
def test_ratio_and_flag_are_monotone_in_price(low: int, high: int, peers: list[int]) -> None:
    low, high = sorted((low, high))
    a, b = pricing.sanity(low, 6, peers), pricing.sanity(high, 6, peers)
    assert a.flag == "unknown" or b.flag != "unknown"
    if a.ratio is not None and b.ratio is not None:
        assert a.ratio <= b.ratio
        order = {"cheap_outlier": 0, "normal": 1, "expensive_outlier": 2}
        assert order[a.flag] <= order[b.flag]


@given(group=st.lists(st.integers(min_value=0, max_value=10**30), max_size=12),
       decimals=st.one_of(st.none(), st.integers(0, 30)))
def test_group_sanity_is_sanity_against_every_other_member(group: list[int], decimals: int | None) -> None:
    # one sort for a whole category (finish_records) must equal a sort of the others for each member
    expected = [pricing.sanity(p, decimals, group[:i] + group[i + 1:]) for i, p in enumerate(group)]
    assert pricing.group_sanity(group, decimals) == expected


@given(keys=st.lists(st.tuples(st.sampled_from(["ai", "data"]), st.one_of(st.none(), st.integers(0, 10**9)),
                                st.one_of(st.none(), st.sampled_from([0, 6, 18]))), max_size=14))
def test_catalog_sanity_compares_each_price_with_its_category_and_decimals(keys: list[tuple[str, int | None, int | None]]) -> None:
    def naive(i: int) -> pricing.Sanity:
        category, atomic, decimals = keys[i]
        peers = [a for j, (c, a, d) in enumerate(keys) if j != i and c == category and d == decimals
                 and a is not None and d is not None]
        return pricing.sanity(atomic, decimals, peers)

    assert pricing.catalog_sanity(keys) == [naive(i) for i in range(len(keys))]


@given(values=st.lists(st.integers(min_value=-10**20, max_value=10**20), min_size=2, max_size=15), data=st.data())
def test_median_without_one_item(values: list[int], data: st.DataObject) -> None:
    ordered = sorted(values)
    k = data.draw(st.integers(0, len(ordered) - 1))
    assert pricing.median_without(ordered, k) == statistics.median(ordered[:k] + ordered[k + 1:])


@given(price=st.one_of(st.none(), prices), decimals=st.one_of(st.none(), st.integers(0, 30)),
       peers=st.lists(st.integers(min_value=0, max_value=10**30), max_size=5))
def test_pricing_never_crashes(price: int | None, decimals: int | None, peers: list[int]) -> None:
    result = pricing.sanity(price, decimals, peers)
    assert result.flag in ("normal", "cheap_outlier", "expensive_outlier", "unknown")
    pricing.decimal_suspect(price, decimals, None)


# ---------------------------------------------------------------------------------------------
# trust tiers and risk notes


def facts(**kw: object) -> Facts:
    base = dict(status="paid", ever_paid=True, last_paid_at=END, window_end=END, url="https://a.example/x",
                verified=False, origin_identified=True, error_findings=0, networks_testnet=[False],
                pay_tos=["0xabc"])
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def test_tiers_follow_the_published_rules_in_order() -> None:
    assert tier(facts())[0] == "conformant"
    assert tier(facts(verified=True))[0] == "verified"
    assert tier(facts(error_findings=2))[0] == "live"
    assert tier(facts(origin_identified=False))[0] == "live"
    assert tier(facts(status="timeout"))[0] == "unreachable"
    assert tier(facts(status="timeout", verified=True))[0] == "unreachable"
    assert tier(facts(last_paid_at=END - timedelta(days=8), status="timeout"))[0] == "stale"
    assert tier(facts(ever_paid=False, last_paid_at=None, status="unprobeable"))[0] == "indexed_external"
    assert set(TIERS) == {"verified", "conformant", "live", "indexed_external", "unreachable", "stale"}
    reasons = tier(facts(error_findings=1, origin_identified=False))[1]
    assert any("conformance error" in r for r in reasons) and any("origin" in r for r in reasons)


def test_risk_notes_are_coded_and_worded() -> None:
    change = {"at": "2026-11-21T00:00:00Z", "field": "price", "before": ["eip155:8453 0xa 100"], "after": ["eip155:8453 0xa 200"]}
    pay = {"at": "2026-11-01T00:00:00Z", "field": "pay_to", "before": ["0x1"], "after": ["0x2"]}
    notes = risk_notes(facts(url="http://a.example/x", networks_testnet=[True], pay_tos=["0x1", "0x2"],
                             changes=[change, pay], unknown_assets=1, error_findings=1, auth_notes=["Use an API key"],
                             decimal_suspect=["too big"]))
    codes = [n["code"] for n in notes]
    assert codes == ["testnet_only", "insecure_http", "pay_to_differs", "price_changed", "pay_to_changed",
                     "asset_not_stablecoin", "conformance_errors", "pricing_decimal_suspect", "never_verified",
                     "other_auth_path"]
    assert all(n["message"] == RISKS[n["code"]][1] and n["severity"] == RISKS[n["code"]][0] for n in notes)
    assert "100" in notes[3]["detail"] and "200" in notes[3]["detail"]
    assert [n["code"] for n in risk_notes(facts(verified=True))] == []
    old_change = {**change, "at": "2026-11-01T00:00:00Z"}
    assert "price_changed" not in [n["code"] for n in risk_notes(facts(changes=[old_change]))]
    assert [n["code"] for n in risk_notes(facts(ever_paid=False, last_paid_at=None))][0] == "terms_declared_only"
    assert [n["code"] for n in risk_notes(facts(status="timeout"))][0] == "down"


# ---------------------------------------------------------------------------------------------
# health and history


def test_health_windows() -> None:
    samples = [
        Sample(END - timedelta(hours=1), "paid", 10.0),
        Sample(END - timedelta(hours=2), "timeout", None),
        Sample(END - timedelta(days=2), "paid", 30.0),
        Sample(END - timedelta(days=3), "blocked", None),  # our own refusal: not a sample
        Sample(END - timedelta(days=20), "paid", 50.0),
        Sample(END - timedelta(days=40), "paid", 70.0),  # outside every window
    ]
    w = {row["window"]: row for row in window_figures(samples, END)}
    assert (w["24h"]["samples"], w["24h"]["up"], w["24h"]["uptime_pct"], w["24h"]["p50_latency_ms"]) == (2, 1, 50.0, 10.0)
    assert (w["7d"]["samples"], w["7d"]["up"], w["7d"]["p50_latency_ms"], w["7d"]["p95_latency_ms"]) == (3, 2, 10.0, 30.0)
    assert (w["30d"]["samples"], w["30d"]["uptime_pct"]) == (4, 75.0)
    empty = window_figures([], END)
    assert all(row["uptime_pct"] is None and row["reason"] == "no probe in this window" for row in empty)
    down = window_figures([Sample(END, "timeout", None)], END)
    assert down[0]["uptime_pct"] == 0.0 and down[0]["p50_latency_ms"] is None and "latency" in down[0]["reason"]


def test_percentile_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0


def test_terms_changes() -> None:
    a = {"network_caip2": "eip155:8453", "asset": "0xa", "amount_atomic": "100", "pay_to": "0x1"}
    rows = terms_changes([(END - timedelta(days=2), [a]), (END - timedelta(days=1), [a]),
                          (END, [{**a, "amount_atomic": "200", "pay_to": "0x2"}])])
    assert [(r["field"], r["before"], r["after"]) for r in rows] == [
        ("price", ["eip155:8453 0xa 100"], ["eip155:8453 0xa 200"]), ("pay_to", ["0x1"], ["0x2"])]
    assert terms_changes([]) == []


# ---------------------------------------------------------------------------------------------
# example requests and wording


BAZAAR = {"source": "bazaar", "input": {"type": "http", "method": "POST", "body": {"prompt": "Write a haiku about rain"}},
          "input_schema": {"properties": {"body": {"type": "object", "required": ["prompt"],
                                                   "properties": {"prompt": {"type": "string"}}}}}}
V1 = {"source": "outputSchema", "input": {"type": "http", "method": "POST", "body": {"prompt": "the text to complete"}},
      "input_schema": {"properties": {"body": {"type": "object", "required": ["prompt"],
                                               "properties": {"prompt": {"type": "string"}}}}}}


def test_example_request_order_of_trust() -> None:
    url = "https://a.example/v1/complete"
    assert example_request(url, "POST", BAZAAR, {"prompt": "docs"}, []).source == "bazaar"
    docs = example_request(url, "POST", V1, {"prompt": "from the docs"}, [])
    assert (docs.source, docs.body) == ("docs", {"prompt": "from the docs"})
    declared = example_request(url, "POST", V1, None, [{"example_body": {"prompt": "openapi"}}])
    assert (declared.source, declared.body) == ("openapi", {"prompt": "openapi"})
    built = example_request(url, "POST", V1, None, [])
    assert built.source == "schema" and set(built.body) == {"prompt"}  # a v1 description is not an example value
    assert built.body["prompt"] != "the text to complete"
    nothing = example_request(url, "POST", {}, None, [])
    assert nothing.body is None and nothing.null_reason
    # the SDK's body: {} beside a schema is no example (a validating server refuses it): the schema's is used,
    # also when a discovery source repeats the same hints
    empty = {**BAZAAR, "input": {"type": "http", "method": "POST", "body": {}}}
    for declared_sources in ([], [{"hints": empty}]):
        built = example_request(url, "POST", empty, None, declared_sources)
        assert built.source == "schema" and set(built.body) == {"prompt"}
    assert example_request(url, "POST", {"source": "bazaar", "input": {"type": "http", "body": {}}}, None, []).body == {}
    get = example_request("https://a.example/v1/forecast", "GET",
                          {"source": "bazaar", "input": {"type": "http", "method": "GET", "queryParams": {"city": "Lisbon"}}}, None, [])
    assert get.url == "https://a.example/v1/forecast?city=Lisbon" and get.body is None and "GET" in get.null_reason


def test_wording_is_deterministic_and_bounded() -> None:
    assert describe.readable_path("https://a.example/v1/chat/completions") == "Chat completions"
    assert describe.readable_path("https://a.example/") == "Root"
    assert describe.provider_name(None, "Skycast Weather — forecasts for agents", "a.example") == "Skycast Weather"
    assert describe.provider_name(None, None, "a.example") == "a.example"
    seo = describe.seo("RunGate", "https://api.rungate.ai/v1/chat/completions", "Chat completions", "$0.000001 per call", ["Base"])
    assert seo == {"title": "Chat completions API | RunGate | x402",
                   "description": "Chat completions. x402: $0.000001 per call on Base."}
    long = describe.seo("P", "https://a.example/x", "word " * 100, "$1 per call", ["Base"])
    assert len(long["description"]) <= describe.MAX_SEO_DESCRIPTION and long["description"].endswith("on Base.")
    assert describe.example_prompt("https://a.example/v1/chat", "https://a.example/v1/chat",
                                   {"messages": [{"role": "user", "content": "Explain x402 to me"}]}) == "Explain x402 to me"
    assert describe.example_prompt("https://a.example/v1/forecast", "https://a.example/v1/forecast?city=Lisbon",
                                   None) == "Get forecast for city Lisbon."
    assert describe.example_prompt("https://a.example/x", "https://a.example/x", None) is None
    known = {"input_fields": ["model", "messages"], "output_keys": ["choices"], "price": "$0.01 per call",
             "asset": "USDC", "networks": ["Base"]}
    cases = describe.use_cases("https://a.example/v1/chat/completions", known)
    assert cases == ["Call chat completions from an agent with `model` and `messages`",
                     "Use the `choices` of its JSON answer in the next step of a plan",
                     "Pay $0.01 per call in USDC on Base over x402"]
    assert describe.use_cases("https://a.example/v1/chat/completions", {"price": "$0.01 per call", "asset": "USDC"}) == []
    assert describe.ideal_buyer("https://a.example/v1/forecast", "A", {}) is None
    assert "{" not in (describe.ideal_buyer("https://a.example/v1/forecast", "A", known) or "{")


def test_every_category_has_phrasing() -> None:
    for cat in categories():
        assert cat.use_cases and cat.buyer, cat.name
        for template in (*cat.use_cases, cat.buyer):
            template.format(thing="x", provider="y")


def test_classifier_scores_fields_by_weight() -> None:
    assert classify_fields(path="v1 chat completions") == "ai"
    assert classify_fields(path="api wallet risk", description="Risk score for a wallet") == "crypto"
    assert classify_fields(description="Weather forecast", context="AI company") == "weather"
    assert classify_fields(path="post only") == "other"  # "post" is not a social keyword
    assert classify_fields() == "other"
    assert scores(tags="news", description="latest news headlines") == {"media": 3 + 2 + 2}
    # ties go to the category listed first
    assert classify_fields(description="weather data") == "weather"


def test_json_ld_shape_of_a_record() -> None:
    ld = sample_record().json_ld
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "WebAPI"
    assert ld["provider"]["@type"] == "Organization" and ld["potentialAction"]["@type"] == "BuyAction"
    assert ld["sameAs"] == "https://a.example/x"


def test_methodology_states_the_rules_the_code_applies() -> None:
    from index.catalog import trust

    doc = (ROOT / "docs" / "methodology.md").read_text()
    for name in TIERS:
        assert f"`{name}`" in doc, name
    for code, (severity, _message) in RISKS.items():
        assert f"| `{code}` | {severity} |" in doc, code
    for phrase in (f"fewer than {pricing.MIN_PEERS} peers", f"below {pricing.CHEAP_RATIO:g}",
                   f"above {pricing.EXPENSIVE_RATIO:g}", f"more than ${pricing.MAX_PLAUSIBLE_USD} a call",
                   f"more than {trust.STALE_AFTER.days} days older", f"in the last {trust.RECENT_CHANGE.days} days",
                   "10^12 atomic units on a 6-decimal asset"):
        assert phrase in doc, phrase


def test_test_buy_commands_work_without_our_database_and_name_the_network() -> None:
    """The page's commands: crawl the URL into a local catalog, then test-buy it by URL on a network it
    is offered on (test-buy pays on Base Sepolia by default and refuses a mainnet without --mainnet)."""
    crawl, dry, pay = describe.test_buy_commands("https://a.example/x?q=1", "GET", [("eip155:84532", True), ("eip155:8453", False)])
    assert crawl == "x402-index crawl --seed 'GET https://a.example/x?q=1'"
    assert dry == "x402-index test-buy 'https://a.example/x?q=1'" and pay == dry + " --pay --key-file ~/.x402-index/wallet.key"
    _, dry, _ = describe.test_buy_commands("https://a.example/it's", "post", [(None, None), ("eip155:8453", False)])
    assert dry == "x402-index test-buy 'https://a.example/it'\"'\"'s' --method POST --network eip155:8453 --mainnet"
    _, dry, _ = describe.test_buy_commands("https://a.example/x", "GET", [("eip155:11155111", True)])
    assert dry.endswith("--network eip155:11155111")
    assert describe.test_buy_commands("https://a.example/x", "GET", [])[1] == "x402-index test-buy https://a.example/x"
