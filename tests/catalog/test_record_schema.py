"""The published record schema means what its descriptions say: each bad value, set field by field on a
real record (a seed's and one of ours), is refused, while both seed records validate as they are."""

from __future__ import annotations

from tests.support import FIXTURES
import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from index.catalog.record import json_schema

SEEDS = ["000_9688302c16a5225f.json", "002_9cf7cbdf6637921d.json"]


def _validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _ours() -> dict[str, Any]:
    """A record our build wrote (the fleet's golden chat record, its placeholders filled in)."""
    text = (FIXTURES / "records" / "fleet.json").read_text()
    text = text.replace('"<ms>"', "12.5").replace('"<time>"', '"2026-12-07T00:00:00Z"')
    text = re.sub(r"\{([a-z][a-z0-9_-]*)\}", r"\1", text)  # {ai} → ai
    record = json.loads(text)["ai-v1-chat-completions"]
    return json.loads(json.dumps(record).replace("http://ai/", "http://127.0.0.1:8080/"))


def _records() -> list[tuple[str, dict[str, Any]]]:
    return [*((name, json.loads((FIXTURES / "seeds" / name).read_text())) for name in SEEDS), ("ours", _ours())]


@pytest.mark.parametrize("name", [*SEEDS, "ours"])
def test_the_records_validate_as_they_are(name: str) -> None:
    record = dict(_records())[name]
    assert sorted(e.message for e in _validator().iter_errors(record)) == []


SOLANA = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
EVM = "0x30de99fc313c68b735c8850795a5351d7a0d1afd"

# (where, bad value): every one must be refused
MUTATIONS: list[tuple[tuple[Any, ...], Any]] = [
    (("accepts", 0, "max_amount_required_atomic"), "0.01"),
    (("accepts", 0, "max_amount_required_atomic"), "1e6"),
    (("accepts", 0, "max_amount_required_atomic"), "-10000"),
    (("accepts", 0, "max_amount_required_atomic"), 10000),
    (("accepts", 0, "network"), "base mainnet"),
    (("accepts", 0, "network"), "BASE"),
    (("accepts", 0, "pay_to"), "0x123"),
    (("accepts", 0, "pay_to"), SOLANA),  # a Solana address on an EVM network
    (("accepts", 0, "asset"), "USDC"),
    (("generated_at",), "yesterday"),
    (("generated_at",), "2026-04-24"),
    (("url",), "ftp://a.example/x"),
    (("url",), "javascript:alert(1)"),
    (("url",), "not a url"),
    (("slug",), "Bad Slug"),
    (("slug",), "a/../b"),
    (("slug",), "-leading-dash"),
    (("origin", "url"), "javascript:alert(1)"),
    (("risk_notes",), [{"code": "down", "severity": "warning", "message": "down"}]),
    (("risk_notes",), "Initiates outbound payment."),
    (("trust_tier",), "trusted"),
    (("pricing_sanity", "flag"), "weird"),
]
OURS_ONLY: list[tuple[tuple[Any, ...], Any]] = [
    (("networks",), ["Base"]),
    (("networks",), ["eip155"]),
    (("accepts", 0, "network_caip2"), "eip155"),
    (("last_seen",), "2026-13-40"),
    (("first_seen",), "12/07/2026"),
    (("origin", "slug"), "a.b"),
    (("example_request", "url"), "file:///etc/passwd"),
    (("accepts", 0, "verified_at"), "now"),
    (("health", "window_end"), "soon"),
]


def _set(record: dict[str, Any], where: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    target: Any = out
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return out


@pytest.mark.parametrize(("where", "value"), MUTATIONS + OURS_ONLY, ids=lambda v: repr(v)[:40])
def test_each_bad_value_is_refused(where: tuple[Any, ...], value: Any) -> None:
    validator = _validator()
    targets = _records() if (where, value) in MUTATIONS else [("ours", _ours())]
    for name, record in targets:
        assert list(validator.iter_errors(record)) == [], name
        broken = _set(record, where, value)
        assert list(validator.iter_errors(broken)), (name, where, value)


def test_address_families_follow_the_network() -> None:
    validator = _validator()
    seed = dict(_records())[SEEDS[1]]
    solana = _set(_set(seed, ("accepts", 0, "network"), "solana"), ("accepts", 0, "pay_to"), SOLANA)
    solana = _set(solana, ("accepts", 0, "asset"), "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
    assert list(validator.iter_errors(solana)) == []
    assert list(validator.iter_errors(_set(solana, ("accepts", 0, "pay_to"), EVM)))  # EVM address on Solana
    caip = _set(_set(seed, ("accepts", 0, "network"), "eip155:8453"), ("accepts", 0, "pay_to"), SOLANA)
    assert list(validator.iter_errors(caip))
    other = _set(_set(seed, ("accepts", 0, "network"), "stellar:pubnet"), ("accepts", 0, "pay_to"), "GABC")
    assert list(validator.iter_errors(other)) == []  # a family we hold no pattern for is not judged
