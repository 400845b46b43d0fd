"""The challenge parser on golden fixtures, plus the edge cases it must never crash on."""

from __future__ import annotations

import base64
import json

import pytest

from index.x402 import MAX_HEADER_BYTES, clean_text, decode_header_json, encode_header_json, parse_challenge
from tests.challenge_cases import CASES_DIR, load_response, summarize

CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_golden_challenge(case: str) -> None:
    status, headers, body = load_response(CASES_DIR / case)
    expected = json.loads((CASES_DIR / case / "expected.json").read_text())
    assert summarize(parse_challenge(status, headers, body)) == expected


def test_there_are_golden_cases_for_both_versions() -> None:
    versions = {json.loads((CASES_DIR / c / "expected.json").read_text())["x402_version"] for c in CASES}
    assert {1, 2} <= versions


def test_header_wins_and_conflict_is_flagged() -> None:
    status, headers, body = load_response(CASES_DIR / "v2_sdk_get_two_networks")
    header_obj = decode_header_json(headers["payment-required"])
    other = json.loads(json.dumps(header_obj))
    other["accepts"][0]["amount"] = "999999"
    ch = parse_challenge(402, headers, json.dumps(other).encode())
    assert ch.source == "header"
    assert ch.accepts[0].amount_atomic == "1000"
    assert "header_body_conflict" in {f["code"] for f in ch.findings}


def test_header_names_are_case_insensitive() -> None:
    obj = {"x402Version": 2, "resource": {"url": "https://a.example/x"}, "accepts": [
        {"scheme": "exact", "network": "eip155:8453", "amount": "10", "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
         "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60}]}
    ch = parse_challenge(402, {"Payment-Required": encode_header_json(obj)}, b"")
    assert ch.usable and ch.accepts[0].amount_atomic == "10"


@pytest.mark.parametrize("amount, code", [
    ("0.01", "amount_not_atomic"), ("-5", "amount_not_atomic"), ("1e6", "amount_not_atomic"),
    ("NaN", "amount_not_atomic"), ("9" * 79, "amount_not_atomic"), (1.5, "amount_not_atomic"),
    (True, "amount_not_atomic"), (1000, "amount_not_string"), ("0", "amount_zero"),
])
def test_amounts_are_never_coerced(amount: object, code: str) -> None:
    body = {"x402Version": 1, "accepts": [{"scheme": "exact", "network": "base", "maxAmountRequired": amount,
                                           "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "payTo": "0xabc"}]}
    ch = parse_challenge(402, {}, json.dumps(body).encode())
    assert code in {f["code"] for f in ch.findings}
    if code == "amount_not_atomic":
        assert ch.accepts[0].amount_atomic is None and not ch.usable


@pytest.mark.parametrize("body", [
    b"[" * 200_000, b"\xff\xfe{not utf8", b'{"x402Version": 1, "accepts": "nope"}', b"null", b"[]",
    b'{"x402Version": 1, "accepts": [1, "two", null]}',
])
def test_hostile_bodies_give_findings_not_exceptions(body: bytes) -> None:
    ch = parse_challenge(402, {}, body)
    assert not ch.usable
    assert ch.findings


def test_oversized_header_is_refused_before_decoding() -> None:
    big = base64.b64encode(b"{" + b" " * MAX_HEADER_BYTES + b"}").decode()
    ch = parse_challenge(402, {"payment-required": big}, b"")
    assert [f["code"] for f in ch.findings] == ["header_too_large"]


def test_too_many_accepts_are_capped() -> None:
    acc = {"scheme": "exact", "network": "base", "maxAmountRequired": "1", "asset": "0x1", "payTo": "0x2"}
    ch = parse_challenge(402, {}, json.dumps({"x402Version": 1, "accepts": [acc] * 500}).encode())
    assert len(ch.accepts) == 20
    assert "accepts_too_many" in {f["code"] for f in ch.findings}


def test_clean_text_strips_controls_and_bidi_and_truncates() -> None:
    findings: list = []
    assert clean_text("ab\u202ecd\x00e", 100) == "abcde"
    assert clean_text("x" * 50, 10, findings, "f") == "x" * 10
    assert findings[0]["code"] == "text_truncated"
    assert clean_text(42, 10) is None
