"""The challenge parser on golden fixtures, plus the edge cases it must never crash on."""

from __future__ import annotations

import base64
import json
import socket
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from crawler.discovery import Discovered
from crawler.discovery.openapi import parse_openapi
from crawler.discovery.wellknown import parse_well_known
from index.catalog.owner import origin_owner
from index.protocol.declared import compare_declared
from index.catalog.docs_hints import choose_hints
from index.findings import CODES, Severity, finding, table
from index.probe.budget import ListingWalk, capped_finding
from index.store.write import _storable_probe
from index.protocol.challenge import challenge_from_object, icon_url_ok, parse_challenge
from index.protocol.models import Challenge
from index.protocol.networks import is_address, is_burn_address
from index.protocol.normalize import MAX_DESCRIPTION
from index.protocol.wire import MAX_HEADER_BYTES, decode_header_json, encode_header_json
from index.untrusted import clean_text
from tests.support.challenge_cases import CASES_DIR, load_response, parse_case, summarize

CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())

BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
SOLANA = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
SOL_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
SOL_PAY_TO = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
SOL_FEE_PAYER = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"


def accept2(**fields: Any) -> dict[str, Any]:
    """A complete, valid v2 accept on Base; keyword arguments replace fields (None removes one)."""
    out: dict[str, Any] = {"scheme": "exact", "network": "eip155:8453", "asset": BASE_USDC, "amount": "1000",
                           "payTo": PAY_TO, "maxTimeoutSeconds": 300, "extra": {"name": "USD Coin", "version": "2"}}
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


def challenge2(accepts: list[Any] | None = None, **fields: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"x402Version": 2, "resource": {"url": "https://api.example.com/x", "description": "X",
                                                          "mimeType": "application/json"},
                           "accepts": [accept2()] if accepts is None else accepts,
                           "extensions": {"bazaar": {"info": {"input": {"type": "http", "method": "GET"}},
                                                     "schema": {"type": "object"}}}}
    out.update(fields)
    return {k: v for k, v in out.items() if v is not None}


def via_header(obj: dict[str, Any], probed_url: str | None = None) -> Challenge:
    return parse_challenge(402, {"payment-required": encode_header_json(obj)}, b"{}", probed_url=probed_url)


def codes(ch: Challenge) -> set[str]:
    return {f["code"] for f in ch.findings}


# ---------------------------------------------------------------------------------------------
# golden fixtures


@pytest.mark.parametrize("case", CASES)
def test_golden_challenge(case: str) -> None:
    expected = json.loads((CASES_DIR / case / "expected.json").read_text())
    assert summarize(parse_case(CASES_DIR / case)) == expected


def test_there_are_golden_cases_for_both_versions() -> None:
    versions = {json.loads((CASES_DIR / c / "expected.json").read_text())["x402_version"] for c in CASES}
    assert {1, 2} <= versions


def test_there_are_at_least_twenty_hostile_fixtures() -> None:
    clean = {"html_paywall_no_challenge", "v1_legacy_camelcase", "v1_legacy_snake_case", "v1_solana",
             "v2_sdk_get_two_networks", "v2_sdk_post_body_hints", "bazaar_mcp_tool", "bazaar_mcp_toolname",
             "v1_snake_case_post_aliases", "facilitator_mixed_item_v2_v1_fields", "v1_not_discoverable"}
    assert len(set(CASES) - clean) >= 20


def test_every_fixture_parses_fast() -> None:
    for case in CASES:
        status, headers, body = load_response(CASES_DIR / case)
        start = time.perf_counter()
        parse_challenge(status, headers, body)
        assert time.perf_counter() - start < 2.0, case


# ---------------------------------------------------------------------------------------------
# one trigger per finding code (the coverage test below checks that none is missing)

V1_BODY = {"x402Version": 1, "accepts": [{"scheme": "exact", "network": "base", "maxAmountRequired": "1000",
                                          "resource": "https://api.example.com/x", "description": "X",
                                          "mimeType": "application/json", "payTo": PAY_TO, "maxTimeoutSeconds": 60,
                                          "asset": BASE_USDC, "extra": {"name": "USD Coin", "version": "2"}}]}
VALID_HEADER = encode_header_json(challenge2())

LIVE = [{"amount_atomic": "100000", "network_caip2": "eip155:8453", "asset": BASE_USDC, "pay_to": PAY_TO}]

def _stranger_proof() -> str:
    """A real EIP-191 signature of the origin, by a key that is not the payTo's."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    signed = Account.from_key("0x" + "01" * 32).sign_message(encode_defunct(text="https://a.example"))
    return "0x" + signed.signature.hex().removeprefix("0x")


TRIGGERS: dict[str, Callable[[], Any]] = {
    "no_challenge": lambda: parse_challenge(402, {}, b"<html>pay</html>"),
    "header_too_large": lambda: parse_challenge(402, {"payment-required": "A" * (MAX_HEADER_BYTES + 4)}, b""),
    "header_invalid_base64": lambda: parse_challenge(402, {"payment-required": "eyJh*IjoxfQ=="}, b""),
    "header_invalid_json": lambda: parse_challenge(402, {"payment-required": base64.b64encode(b"[1, 2").decode()}, b""),
    "body_invalid_json": lambda: parse_challenge(402, {}, b'{"x402Version": 1,'),
    "invalid_encoding": lambda: parse_challenge(402, {}, b'{"x402Version": 1, "accepts": ["\xff"]}'),
    "v2_in_body_only": lambda: parse_challenge(402, {}, json.dumps(challenge2()).encode()),
    "header_body_conflict": lambda: parse_challenge(402, {"payment-required": VALID_HEADER},
                                                    json.dumps(challenge2([accept2(amount="5")])).encode()),
    "version_unsupported": lambda: via_header(challenge2(x402Version=3)),
    "v1_only": lambda: parse_challenge(402, {}, json.dumps(V1_BODY).encode()),
    "header_base64_lenient": lambda: parse_challenge(402, {"payment-required": VALID_HEADER.rstrip("=") + "\n"}, b""),
    "version_fields_mixed": lambda: via_header(challenge2([accept2(amount=None, maxAmountRequired="1000")])),
    "accepts_empty": lambda: via_header(challenge2([])),
    "accepts_too_many": lambda: via_header(challenge2([accept2(amount=str(i + 1)) for i in range(25)])),
    "accept_not_object": lambda: via_header(challenge2([accept2(), "exact"])),
    "missing_field": lambda: via_header(challenge2([accept2(payTo=None)])),
    "amount_not_atomic": lambda: via_header(challenge2([accept2(amount="0.01")])),
    "amount_not_string": lambda: via_header(challenge2([accept2(amount=1000)])),
    "amount_zero": lambda: via_header(challenge2([accept2(amount="0")])),
    "network_unknown": lambda: via_header(challenge2([accept2(network="eip155:999999")])),
    "network_not_caip2": lambda: via_header(challenge2([accept2(network="base")])),
    "asset_unknown": lambda: via_header(challenge2([accept2(asset="0x" + "12" * 20)])),
    "timeout_invalid": lambda: via_header(challenge2([accept2(maxTimeoutSeconds="60")])),
    "scheme_unknown": lambda: via_header(challenge2([accept2(scheme="subscription")])),
    "asset_not_address": lambda: via_header(challenge2([accept2(asset="USDC")])),
    "pay_to_invalid": lambda: via_header(challenge2([accept2(payTo="0xabc")])),
    "pay_to_zero": lambda: via_header(challenge2([accept2(payTo="0x" + "0" * 40)])),
    "evm_extra_missing": lambda: via_header(challenge2([accept2(extra=None)])),
    "evm_extra_mismatch": lambda: via_header(challenge2([accept2(extra={"name": "USDC", "version": "2"})])),
    "svm_fee_payer_missing": lambda: via_header(challenge2([accept2(network=SOLANA, asset=SOL_MINT, payTo=SOL_PAY_TO,
                                                                    extra={})])),
    "accepts_duplicate": lambda: via_header(challenge2([accept2(), accept2()])),
    "testnet_only": lambda: via_header(challenge2([accept2(network="eip155:84532", asset=SEPOLIA_USDC,
                                                           extra={"name": "USDC", "version": "2"})])),
    "resource_missing": lambda: via_header(challenge2(resource={"description": "X"})),
    "description_missing": lambda: via_header(challenge2(resource={"url": "https://api.example.com/x"})),
    "text_truncated": lambda: via_header(challenge2(resource={"url": "https://api.example.com/x", "description": "d" * 3000})),
    "resource_url_mismatch": lambda: via_header(challenge2(), probed_url="https://api.example.com/y"),
    "resource_insecure": lambda: via_header(challenge2(resource={"url": "http://api.example.com/x"}),
                                            probed_url="https://api.example.com/x"),
    "description_too_long": lambda: via_header(challenge2(resource={"url": "https://a.example/x", "description": "d" * 501})),
    "mime_type_missing": lambda: via_header(challenge2(resource={"url": "https://a.example/x", "description": "X"})),
    "service_metadata_invalid": lambda: via_header(challenge2(resource={"url": "https://a.example/x", "tags": ["t"] * 6})),
    "bazaar_invalid": lambda: via_header(challenge2(extensions={"bazaar": {"info": {"input": {"type": "http"}},
                                                                           "schema": {"required": ["output"]}}})),
    "no_input_schema": lambda: via_header(challenge2(extensions={})),
    "route_template_invalid": lambda: via_header(challenge2(extensions={"bazaar": {
        "info": {"input": {"type": "http", "method": "GET"}}, "schema": {}, "routeTemplate": "/a/%2e%2e/b"}})),
    "hints_too_large": lambda: parse_challenge(402, {}, json.dumps(challenge2(extensions={"bazaar": {
        "info": {"input": {"type": "http", "method": "POST", "bodyType": "json", "body": {"blob": "b" * 70_000}}},
        "schema": {}}})).encode()),
    # catalog-time: docs hints beside a server's declared schema that types a field otherwise
    "docs_hints_disagree": lambda: Discovered(findings=choose_hints(
        {"source": "bazaar", "input": {"type": "http", "method": "POST"},
         "input_schema": {"properties": {"body": {"properties": {"n": {"type": "string"}}}}}}, [],
        {"source": "docs", "input": {"type": "http"},
         "input_schema": {"properties": {"body": {"properties": {"n": {"type": "boolean"}}}}}})[1]),
    # discovery-time codes: produced by the discovery parsers and the declared-vs-live comparison
    "cross_origin_entry": lambda: parse_well_known({"resources": ["https://b.example/x"]}, "https://a.example/.well-known/x402"),
    "discovery_doc_invalid": lambda: parse_openapi(b"{not json", "https://a.example/openapi.json"),
    "declared_price_mismatch": lambda: Discovered(findings=compare_declared({"price_usd": "0.01"}, LIVE)),
    "declared_terms_mismatch": lambda: Discovered(findings=compare_declared(
        {"accepts": [{"network_caip2": "eip155:8453", "pay_to": "0x1111111111111111111111111111111111111111"}]}, LIVE)),
    # discovery budgets (index.probe.budget), as the probe spider applies them
    "discovery_capped": lambda: Discovered(findings=[capped_finding(
        "well_known", parse_well_known({"resources": list(range(1001))}, "https://a.example/.well-known/x402").info,
        0, 0, "https://a.example/.well-known/x402", 200)]),
    "discovery_repeated": lambda: Discovered(findings=[f for f in (
        _walk.read([{"url": "https://a.example/x"}], "https://f.example/p", True) for _walk in [ListingWalk(10)] * 2) if f]),
    # store-time codes (tests/store/test_store_hostile.py writes them on SQLite and PostgreSQL)
    "text_unstorable": lambda: Discovered(findings=_storable_probe({"url": "https://a.example/", "body": "\x00"})["findings"]),
    "store_failed": lambda: Discovered(findings=_stored_findings({"url": "https://a.example/", "outcome": "timeout",
                                                                  "attempt": 2**70})),
    # owner codes: ownership proofs checked against the origin's payTo (index.catalog.owner, tests/protocol/test_ownership.py)
    "ownership_proof_invalid": lambda: origin_owner("https://a.example", [{"kind": "well_known", "info": {
        "ownership_proofs": [_stranger_proof()]}}], [PAY_TO]),
    "ownership_proof_malformed": lambda: origin_owner("https://a.example", [{"kind": "well_known", "info": {
        "ownership_proofs": [PAY_TO]}}], [PAY_TO]),
}


def _stored_findings(probe: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the observation `record_probes` writes for `probe`, in an in-memory SQLite."""
    from sqlalchemy import create_engine, text
    from sqlmodel import SQLModel

    from index.store.write import record_probes

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    record_probes(engine, [probe])
    with engine.connect() as conn:
        return json.loads(conn.execute(text("SELECT findings FROM observations")).scalar_one())


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_each_finding_has_a_trigger(code: str) -> None:
    assert code in codes(TRIGGERS[code]())


def test_every_code_is_produced_by_some_input() -> None:
    produced = set(TRIGGERS)
    for case in CASES:
        produced |= set(json.loads((CASES_DIR / case / "expected.json").read_text())["finding_codes"])
    assert set(CODES) - produced == set()
    assert produced - set(CODES) == set()


def test_findings_table_lists_every_code_once_with_its_group() -> None:
    rows = table()
    assert [r["code"] for r in rows] == list(CODES)
    assert all(r["group"] and r["message"] and "\n" not in r["message"] for r in rows)
    assert {r["severity"] for r in rows} <= {str(s) for s in Severity}
    assert finding("pay_to_zero", "accepts[0]", "0x0")["severity"] == "error"


def test_the_first_twenty_four_codes_keep_their_names() -> None:
    original = {"no_challenge", "header_too_large", "header_invalid_base64", "header_invalid_json", "body_invalid_json",
                "invalid_encoding", "v2_in_body_only", "header_body_conflict", "version_unsupported", "v1_only",
                "accepts_empty", "accepts_too_many", "accept_not_object", "missing_field", "amount_not_atomic",
                "amount_not_string", "amount_zero", "network_unknown", "network_not_caip2", "asset_unknown",
                "timeout_invalid", "resource_missing", "description_missing", "text_truncated"}
    assert original <= set(CODES)


# ---------------------------------------------------------------------------------------------
# transport: header, body, base64


def test_header_wins_and_conflict_is_flagged() -> None:
    status, headers, body = load_response(CASES_DIR / "v2_sdk_get_two_networks")
    header_obj = decode_header_json(headers["payment-required"])
    other = json.loads(json.dumps(header_obj))
    other["accepts"][0]["amount"] = "999999"
    ch = parse_challenge(402, headers, json.dumps(other).encode())
    assert ch.source == "header"
    assert ch.accepts[0].amount_atomic == "1000"
    assert "header_body_conflict" in codes(ch)


def test_v1_body_saying_the_same_as_the_v2_header_is_no_conflict() -> None:
    body = json.loads(json.dumps(V1_BODY))
    header = challenge2([accept2()])
    body["accepts"][0]["payTo"] = PAY_TO.lower()
    ch = parse_challenge(402, {"payment-required": encode_header_json(header)}, json.dumps(body).encode())
    assert "header_body_conflict" not in codes(ch)


def test_header_names_are_case_insensitive() -> None:
    obj = {"x402Version": 2, "resource": {"url": "https://a.example/x"}, "accepts": [accept2(amount="10")]}
    ch = parse_challenge(402, {"Payment-Required": encode_header_json(obj)}, b"")
    assert ch.usable and ch.accepts[0].amount_atomic == "10"


@pytest.mark.parametrize("mangle", [
    lambda v: " " + v + " ",
    lambda v: "\r\n".join(v[i:i + 16] for i in range(0, len(v), 16)),
    lambda v: v.rstrip("="),
    lambda v: v.rstrip("=") + "===",
    lambda v: v[:10] + "\t" + v[10:].rstrip("="),
])
def test_lenient_base64_decodes_and_is_flagged(mangle: Callable[[str], str]) -> None:
    value = encode_header_json({"x402Version": 2, "error": "e??"})  # ends in "=="
    assert value.endswith("=")
    findings: list[dict[str, Any]] = []
    assert decode_header_json(mangle(value), findings) == {"x402Version": 2, "error": "e??"}
    assert [f["code"] for f in findings] == ["header_base64_lenient"]


def test_strict_base64_is_not_flagged() -> None:
    findings: list[dict[str, Any]] = []
    decode_header_json(encode_header_json({"a": 1}), findings)
    assert findings == []


@pytest.mark.parametrize("value", ["eyJh*IjoxfQ==", "eyJh-IjoxfQ", "eyJh_IjoxfQ", "eyJ=hIjoxfQ==", "e", "é" * 8, "===="])
def test_characters_outside_the_alphabet_stay_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="header_invalid_base64"):
        decode_header_json(value)


def test_header_with_raw_non_ascii_bytes_is_invalid_base64() -> None:
    ch = parse_challenge(402, {b"payment-required": b"eyJh\xffIjoxfQ=="}, b"{}")
    assert codes(ch) == {"header_invalid_base64"}


def test_broken_header_falls_back_to_a_body_challenge() -> None:
    ch = parse_challenge(402, {"payment-required": "not*base64"}, json.dumps(V1_BODY).encode())
    assert ch.source == "body" and ch.usable
    assert {"header_invalid_base64", "v1_only"} <= codes(ch)


def test_oversized_header_is_refused_before_decoding() -> None:
    big = base64.b64encode(b"{" + b" " * MAX_HEADER_BYTES + b"}").decode()
    ch = parse_challenge(402, {"payment-required": big}, b"")
    assert [f["code"] for f in ch.findings] == ["header_too_large"]


def test_deep_json_in_a_header_under_the_size_cap_is_refused() -> None:
    value = base64.b64encode(b"[" * 40_000).decode()
    assert len(value) < MAX_HEADER_BYTES
    assert codes(parse_challenge(402, {"payment-required": value}, b"")) == {"header_invalid_json"}


def test_a_5000_digit_json_number_makes_the_body_invalid_json() -> None:
    body = b'{"x402Version":1,"accepts":[{"maxAmountRequired":' + b"9" * 5000 + b"}]}"
    ch = parse_challenge(402, {}, body)
    assert {"body_invalid_json", "no_challenge"} == codes(ch)


@pytest.mark.parametrize("body", [
    b"[" * 200_000, b"\xff\xfe{not utf8", b'{"x402Version": 1, "accepts": "nope"}', b"null", b"[]",
    b'{"x402Version": 1, "accepts": [1, "two", null]}',
])
def test_hostile_bodies_give_findings_not_exceptions(body: bytes) -> None:
    ch = parse_challenge(402, {}, body)
    assert not ch.usable
    assert ch.findings


# ---------------------------------------------------------------------------------------------
# accepts


@pytest.mark.parametrize("amount, code", [
    ("0.01", "amount_not_atomic"), ("-5", "amount_not_atomic"), ("1e6", "amount_not_atomic"),
    ("NaN", "amount_not_atomic"), ("9" * 79, "amount_not_atomic"), (1.5, "amount_not_atomic"),
    (True, "amount_not_atomic"), (-3, "amount_not_atomic"), (1e30, "amount_not_atomic"), ("9" * 5000, "amount_not_atomic"),
    ([1], "amount_not_atomic"), ("", "amount_not_atomic"), (" 5", "amount_not_atomic"), ("٣", "amount_not_atomic"),
    (1000, "amount_not_string"), ("0", "amount_zero"),
])
def test_amounts_are_never_coerced(amount: object, code: str) -> None:
    body = {"x402Version": 1, "accepts": [{"scheme": "exact", "network": "base", "maxAmountRequired": amount,
                                           "asset": BASE_USDC, "payTo": "0xabc"}]}
    ch = parse_challenge(402, {}, json.dumps(body).encode())
    assert code in codes(ch)
    if code == "amount_not_atomic":
        assert ch.accepts[0].amount_atomic is None and not ch.usable
        assert ch.accepts[0].amount_raw is not None and len(ch.accepts[0].amount_raw) <= 80


def test_amount_keeps_78_digits_and_drops_leading_zeros() -> None:
    ch = via_header(challenge2([accept2(amount="0" + "9" * 77)]))
    assert ch.accepts[0].amount_atomic == "9" * 77


def test_amount_is_read_from_either_name_whatever_the_version() -> None:
    v2_with_v1_name = via_header(challenge2([accept2(amount=None, maxAmountRequired="7")]))
    assert v2_with_v1_name.accepts[0].amount_atomic == "7"
    assert "missing_field" not in codes(v2_with_v1_name)
    v1 = json.loads(json.dumps(V1_BODY))
    v1["accepts"][0] = {**v1["accepts"][0], "amount": "8"}
    del v1["accepts"][0]["maxAmountRequired"]
    ch = parse_challenge(402, {}, json.dumps(v1).encode())
    assert ch.accepts[0].amount_atomic == "8"
    assert "version_fields_mixed" in codes(ch)


def _missing(ch: Challenge) -> set[str]:
    return {f["detail"] for f in ch.findings if f["code"] == "missing_field"}


def test_required_fields_depend_on_the_version() -> None:
    assert _missing(via_header(challenge2([{"extra": {}}]))) == {
        "scheme", "network", "amount", "asset", "payTo", "maxTimeoutSeconds"}
    v1 = parse_challenge(402, {}, json.dumps({"x402Version": 1, "accepts": [{}]}).encode())
    assert _missing(v1) == {"scheme", "network", "maxAmountRequired", "resource", "payTo", "asset", "maxTimeoutSeconds"}


def test_v1_resource_description_and_mime_type_come_from_the_accept() -> None:
    ch = parse_challenge(402, {}, json.dumps(V1_BODY).encode())
    assert (ch.resource.url, ch.resource.description, ch.resource.mime_type) == (
        "https://api.example.com/x", "X", "application/json")
    assert ch.accepts[0].resource_url == "https://api.example.com/x"


def test_v2_resource_falls_back_to_the_accepts() -> None:
    obj = challenge2([accept2(resource="https://api.example.com/a", description="From accept", mimeType="text/csv")],
                     resource=None)
    ch = via_header(obj)
    assert (ch.resource.url, ch.resource.description, ch.resource.mime_type) == (
        "https://api.example.com/a", "From accept", "text/csv")


def test_discovery_item_fields_at_the_top_level_are_read() -> None:
    item = {"resource": "https://api.example.com/a", "type": "http", "x402Version": 2, "description": "Item",
            "mimeType": "application/json", "serviceName": "Example", "tags": ["data"], "iconUrl": "https://example.com/i.png",
            "accepts": [accept2(amount=None, maxAmountRequired="5")]}
    ch = challenge_from_object(item, "discovery")
    assert (ch.resource.url, ch.resource.description, ch.resource.service_name, ch.resource.tags, ch.resource.icon_url) == (
        "https://api.example.com/a", "Item", "Example", ["data"], "https://example.com/i.png")
    assert ch.accepts[0].amount_atomic == "5"


def test_unknown_asset_is_kept_and_flagged() -> None:
    other = "0x" + "ab" * 20
    ch = via_header(challenge2([accept2(asset=other)]))
    assert ch.accepts[0].asset == other and ch.usable
    assert "asset_unknown" in codes(ch)


@pytest.mark.parametrize("namespace, value, expected", [
    ("eip155", PAY_TO, True), ("eip155", PAY_TO.lower(), True), ("eip155", "0xabc", False), ("eip155", "USDC", False),
    ("eip155", "0x" + "g" * 40, False), ("solana", SOL_MINT, True), ("solana", "0OIl" + "1" * 30, False),
    ("solana", "1" * 31, False), ("solana", PAY_TO, False), ("stellar", "anything", None), (None, "x", None),
    ("eip155", None, False),
])
def test_address_formats(namespace: str | None, value: Any, expected: bool | None) -> None:
    assert is_address(namespace, value) is expected


@pytest.mark.parametrize("value", ["0x" + "0" * 40, "0x000000000000000000000000000000000000dEaD",
                                   "0x000000000000000000000000000000000000DEAD", "1" * 32,
                                   "1nc1nerator11111111111111111111111111111111"])
def test_burn_addresses(value: str) -> None:
    assert is_burn_address(value)
    assert not is_burn_address(PAY_TO)


def test_unpayable_accepts_are_not_usable() -> None:
    assert via_header(challenge2([accept2()])).usable
    for bad in (accept2(payTo="0x" + "0" * 40), accept2(payTo="0xabc"), accept2(asset="USDC"), accept2(asset=None),
                accept2(network=SOLANA, asset=SOL_MINT, payTo=SOL_PAY_TO, extra={})):
        assert not via_header(challenge2([bad])).usable, bad
    solana = accept2(network=SOLANA, asset=SOL_MINT, payTo=SOL_PAY_TO, extra={"feePayer": SOL_FEE_PAYER})
    ch = via_header(challenge2([solana]))
    assert ch.usable and not codes(ch) & {"svm_fee_payer_missing", "evm_extra_missing"}


def test_unknown_namespaces_are_not_judged() -> None:
    ch = via_header(challenge2([accept2(network="stellar:pubnet", asset="USD", payTo="GABC", extra={})]))
    assert not codes(ch) & {"asset_not_address", "pay_to_invalid", "evm_extra_missing", "svm_fee_payer_missing"}


def test_evm_extra_is_not_required_for_permit2_or_other_schemes() -> None:
    permit2 = via_header(challenge2([accept2(extra={"assetTransferMethod": "permit2"})]))
    upto = via_header(challenge2([accept2(scheme="upto", extra={})]))
    assert "evm_extra_missing" not in codes(permit2) | codes(upto)
    assert "scheme_unknown" not in codes(upto)


def test_known_schemes_are_not_flagged() -> None:
    for scheme in ("exact", "upto", "batch-settlement"):
        assert "scheme_unknown" not in codes(via_header(challenge2([accept2(scheme=scheme, extra={})])))


def test_duplicates_are_compared_normalized_and_reported_once_per_group() -> None:
    ch = via_header(challenge2([accept2(), accept2(payTo=PAY_TO.lower()), accept2(), accept2(amount="2")]))
    dups = [f for f in ch.findings if f["code"] == "accepts_duplicate"]
    assert len(dups) == 1 and dups[0]["where"] == "accepts[0]" and "accepts[1], accepts[2]" in dups[0]["detail"]


def test_testnet_only_needs_every_usable_accept_on_a_testnet() -> None:
    sepolia = accept2(network="eip155:84532", asset=SEPOLIA_USDC, extra={"name": "USDC", "version": "2"})
    assert "testnet_only" in codes(via_header(challenge2([sepolia])))
    assert "testnet_only" not in codes(via_header(challenge2([sepolia, accept2()])))
    assert "testnet_only" not in codes(via_header(challenge2([accept2(amount="0.5")])))


def test_too_many_accepts_are_capped() -> None:
    acc = {"scheme": "exact", "network": "base", "maxAmountRequired": "1", "asset": "0x1", "payTo": "0x2"}
    ch = parse_challenge(402, {}, json.dumps({"x402Version": 1, "accepts": [acc] * 500}).encode())
    assert len(ch.accepts) == 20
    assert "accepts_too_many" in codes(ch)


# ---------------------------------------------------------------------------------------------
# resource


@pytest.mark.parametrize("resource_url, probed_url, expected", [
    ("https://api.example.com/x?city=SF", "https://api.example.com/x", set()),
    ("https://API.example.com:443/x/", "https://api.example.com/x?b=2&a=1", set()),
    ("/x?city=SF", "https://api.example.com/x", set()),
    ("https://api.example.com/x%20y", "https://api.example.com/x y", set()),
    ("http://api.example.com/x", "https://api.example.com/x", {"resource_insecure"}),
    ("https://api.example.com/x", "http://api.example.com/x", set()),
    ("https://other.example.com/x", "https://api.example.com/x", {"resource_url_mismatch"}),
    ("https://api.example.com/y", "https://api.example.com/x", {"resource_url_mismatch"}),
    ("https://api.example.com:8443/x", "https://api.example.com/x", {"resource_url_mismatch"}),
    ("javascript:alert(1)", "https://api.example.com/x", {"resource_url_mismatch"}),
    ("http://[::1", "https://api.example.com/x", {"resource_url_mismatch"}),
])
def test_resource_url_against_probed_url(resource_url: str, probed_url: str, expected: set[str]) -> None:
    ch = via_header(challenge2(resource={"url": resource_url, "description": "X", "mimeType": "a/b"}), probed_url=probed_url)
    assert codes(ch) & {"resource_url_mismatch", "resource_insecure"} == expected


def test_no_probed_url_means_no_url_comparison() -> None:
    assert not codes(via_header(challenge2(resource={"url": "http://elsewhere.example/", "description": "X"}))) & {
        "resource_url_mismatch", "resource_insecure"}


def test_description_over_500_chars_is_flagged_but_kept() -> None:
    ch = via_header(challenge2(resource={"url": "https://a.example/x", "description": "d" * 600}))
    assert "description_too_long" in codes(ch) and ch.resource.description == "d" * 600


def test_megabyte_description_is_cleaned_and_truncated() -> None:
    ch = parse_case(CASES_DIR / "description_1mb_bidi_controls")
    text = ch.resource.description
    assert text is not None and len(text) <= MAX_DESCRIPTION and text.startswith("Stock Quote")
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def test_script_tags_are_kept_as_text() -> None:
    ch = parse_case(CASES_DIR / "description_script_tag")
    assert ch.resource.description == "</script><script>alert(1)</script> <!--<script> \"><img src=x onerror=alert(1)>"
    assert ch.resource.service_name == "</script>"


def test_service_metadata_within_limits_is_kept() -> None:
    res = {"url": "https://a.example/x", "serviceName": "Demo Weather", "tags": ["weather", "x" * 32],
           "iconUrl": "https://cdn.example.com/icon.png"}
    ch = via_header(challenge2(resource=res))
    assert (ch.resource.service_name, ch.resource.tags, ch.resource.icon_url) == (
        "Demo Weather", ["weather", "x" * 32], "https://cdn.example.com/icon.png")
    assert "service_metadata_invalid" not in codes(ch)


@pytest.mark.parametrize("field, value, kept", [
    ("serviceName", "x" * 33, None), ("serviceName", "Café", None), ("serviceName", "a\u202eb", None), ("serviceName", 5, None),
    ("tags", ["a"] * 6, []), ("tags", ["ok", "y" * 33], ["ok"]), ("tags", "weather", []), ("tags", ["ok", 3], ["ok"]),
    ("iconUrl", "http://localhost/i.png", None), ("iconUrl", "https://127.0.0.1/i.png", None),
    ("iconUrl", "https://[::1]/i.png", None), ("iconUrl", "https://2130706433/i.png", None),
    ("iconUrl", "javascript:alert(1)", None), ("iconUrl", "/icon.png", None),
    ("iconUrl", "https://a.example/" + "i" * 2048, None),
    ("iconUrl", "https://x.localhost/i.png", None),
])
def test_service_metadata_over_the_limits_is_dropped_not_cut(field: str, value: Any, kept: Any) -> None:
    res = {"url": "https://a.example/x", field: value}
    ch = via_header(challenge2(resource=res))
    attr = {"serviceName": "service_name", "tags": "tags", "iconUrl": "icon_url"}[field]
    assert getattr(ch.resource, attr) == kept
    assert "service_metadata_invalid" in codes(ch)


def test_icon_url_rule() -> None:
    assert icon_url_ok("https://cdn.example.com/a.png") and icon_url_ok("http://example.org/favicon.ico")
    assert not icon_url_ok("https://0x7f.1/a.png") and not icon_url_ok("ftp://example.com/a.png")


def test_clean_text_strips_controls_and_bidi_and_truncates() -> None:
    findings: list = []
    assert clean_text("ab\u202ecd\x00e", 100) == "abcde"
    assert clean_text("x" * 50, 10, findings, "f") == "x" * 10
    assert findings[0]["code"] == "text_truncated"
    assert clean_text(42, 10) is None


def test_clean_text_on_long_input_matches_a_full_scan() -> None:
    value = "  " + "\u202e\x07" * 5000 + " a\u200fb " * 3000 + "tail"
    full = "".join(c for c in value if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co")).strip()
    assert clean_text(value, 100) == full[:100].rstrip()
    assert clean_text(value, 10**6) == full


# ---------------------------------------------------------------------------------------------
# hints wiring and network safety


def test_hints_come_from_bazaar_first_then_v1_output_schema() -> None:
    assert parse_case(CASES_DIR / "v2_sdk_get_two_networks").hints["input"] == {
        "type": "http", "method": "GET", "queryParams": {"city": "Lisbon"}}
    v1 = parse_case(CASES_DIR / "v1_legacy_snake_case").hints
    assert v1["source"] == "outputSchema" and v1["input"]["queryParams"] == {"topic": "string"}


def test_remote_ref_in_a_bazaar_schema_is_never_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*_: Any, **__: Any) -> None:
        raise AssertionError("the parser tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    ch = parse_case(CASES_DIR / "bazaar_remote_ref")
    bazaar = [f for f in ch.findings if f["code"] == "bazaar_invalid"]
    assert len(bazaar) == 1 and "remote $ref refused" in bazaar[0]["detail"]
    assert "input_schema" not in ch.hints and ch.hints["input"]["method"] == "GET"
    for ref in ("https://schemas.evil.example/x.json", "other.json", "//evil.example/x",
                "https://json-schema.org/draft/2020-12/schema"):
        obj = challenge2(extensions={"bazaar": {"info": {"input": {"type": "http"}},
                                                "schema": {"anyOf": [{"type": "string"}, {"$ref": ref}]}}})
        assert "bazaar_invalid" in codes(via_header(obj)), ref


def test_python_integers_too_big_to_print_are_refused() -> None:
    ch = challenge_from_object({"x402Version": 2, "accepts": [accept2(amount=10**5000, maxTimeoutSeconds=10**5000)]}, "t")
    assert ch.accepts[0].amount_atomic is None and ch.accepts[0].max_timeout_seconds is None
    assert {"amount_not_atomic", "timeout_invalid"} <= codes(ch)


def test_challenge_from_object_takes_anything() -> None:
    for obj in (None, [], "x", 3, {"x402Version": True, "accepts": {"a": 1}, "extensions": [], "resource": 5}):
        ch = challenge_from_object(obj, "test")  # type: ignore[arg-type]
        assert isinstance(ch, Challenge) and not ch.usable
