"""Compiled bazaar schemas, verdicts and a bazaar extension's hints are cached: the same verdicts and
hints as evaluating each time, within fixed bounds."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.protocol import bazaar_schema, hints
from index.protocol.bazaar_schema import MAX_CACHED_INFO_CHARS, MAX_CACHED_SCHEMAS, MAX_CACHED_SCHEMA_CHARS, MAX_CACHED_VERDICTS, check_bazaar
from index.protocol.hints import MAX_CACHED_BAZAAR_BYTES, MAX_CACHED_BAZAARS, bazaar_hints
from tests.protocol.test_x402_fuzz import schema_like


def clear() -> None:
    bazaar_schema._compiled_schema.cache_clear()
    bazaar_schema._verdict.cache_clear()
    hints._cached_bazaar_hints.cache_clear()


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear()
    yield
    clear()


def uncached(info: Any, schema: Any) -> tuple[str | None, bool]:
    """check_bazaar evaluating afresh (the path of values that are not cached)."""
    key = bazaar_schema.json_key
    bazaar_schema.json_key = lambda *_args: None  # type: ignore[assignment]
    try:
        return check_bazaar(info, schema)
    finally:
        bazaar_schema.json_key = key  # type: ignore[assignment]


def schema_cached_only(info: Any, schema: Any) -> tuple[str | None, bool]:
    """check_bazaar with the schema compiled from the cache, the info evaluated afresh."""
    key = bazaar_schema.json_key
    bazaar_schema.json_key = lambda value, *args: key(value, *args) if value is schema else None  # type: ignore[assignment]
    try:
        return check_bazaar(info, schema)
    finally:
        bazaar_schema.json_key = key  # type: ignore[assignment]


def cached_twice(info: Any, schema: Any) -> tuple[tuple[str | None, bool], tuple[str | None, bool]]:
    """check_bazaar on cold caches, then again on the entries it left."""
    clear()
    return check_bazaar(info, schema), check_bazaar(info, schema)


HOSTILE: list[tuple[Any, Any]] = [
    ({"x": 1}, {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}),  # self-reference: depth budget
    ({"x": 1}, {"$defs": {**{f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2} for i in range(40)},
                          "d40": {"type": "string"}}, "$ref": "#/$defs/d0"}),  # exponential: step budget
    ({}, {"$ref": "https://evil.example/s.json"}),  # remote $ref: refused, never fetched
    ({}, {"$id": "https://s.example/r", "$ref": "https://s.example/r#/$defs/missing"}),  # dangling local ref
    ({}, {"properties": {"a": {"type": "strin"}}}),  # not JSON Schema
    ({"input": {"s": "a" * 40 + "!"}}, {"properties": {"input": {"properties": {"s": {"pattern": "^(a+)+$"}}}}}),
    ({"input": 3}, {"properties": {"input": {"enum": [1], "const": 2}}}),
    ({"input": 3}, {"properties": {"input": {"const": 2, "enum": [1]}}}),  # keyword order: another message
    ("x" * 70_000, {"type": "string"}),  # info too large to validate
]


@pytest.mark.parametrize(("info", "schema"), HOSTILE)
def test_a_cached_schema_gives_the_verdict_of_a_fresh_one(info: Any, schema: Any) -> None:
    first, again = cached_twice(info, schema)
    assert first == again == uncached(info, schema) == schema_cached_only(info, schema)


def test_keyword_order_is_part_of_the_key() -> None:
    info = {"input": 3}
    a = check_bazaar(info, {"properties": {"input": {"enum": [1], "const": 2}}})
    b = check_bazaar(info, {"properties": {"input": {"const": 2, "enum": [1]}}})
    assert a != b and bazaar_schema._compiled_schema.cache_info().currsize == 2


def test_values_that_are_not_plain_json_are_not_cached() -> None:
    for schema in ({"enum": (1, 2)}, {"properties": {1: {"type": "string"}}}, {"const": {1, 2}}):
        assert bazaar_schema.json_key(schema, 100, 10, 1000) is None
        assert check_bazaar({}, schema) == uncached({}, schema)
    assert bazaar_schema._compiled_schema.cache_info().currsize == 0
    schema = {"properties": {"a": {"type": "array"}}}
    for info in ({"a": (1, 2)}, {1: "x"}):
        assert check_bazaar(info, schema) == uncached(info, schema)
    assert bazaar_schema._verdict.cache_info().currsize == 0


def test_the_caches_are_bounded_in_entries_and_in_size() -> None:
    for i in range(MAX_CACHED_SCHEMAS + 50):
        check_bazaar({"n": i}, {"properties": {"n": {"const": i}}})
    info = bazaar_schema._compiled_schema.cache_info()
    assert info.maxsize == MAX_CACHED_SCHEMAS and info.currsize == MAX_CACHED_SCHEMAS
    schema = {"properties": {"n": {"type": "integer"}}}
    for i in range(MAX_CACHED_VERDICTS + 50):
        check_bazaar({"n": i}, schema)
    info = bazaar_schema._verdict.cache_info()
    assert info.maxsize == MAX_CACHED_VERDICTS and info.currsize == MAX_CACHED_VERDICTS
    clear()
    big = {"properties": {f"p{i}": {"description": "d" * 100} for i in range(200)}}
    assert len(json.dumps(big, separators=(",", ":"))) > MAX_CACHED_SCHEMA_CHARS
    assert check_bazaar({}, big) == (None, True)
    big_info = {"input": "x" * MAX_CACHED_INFO_CHARS}
    assert check_bazaar(big_info, schema) == (None, True)
    assert bazaar_schema._compiled_schema.cache_info().currsize == 1  # the small schema only
    assert bazaar_schema._verdict.cache_info().currsize == 0


def test_one_schema_is_compiled_once_and_one_pair_evaluated_once() -> None:
    schema = {"properties": {"input": {"type": "object"}}}
    for city in ("Paris", "Lisbon", "Oslo", "Paris"):
        check_bazaar({"input": {"city": city}}, json.loads(json.dumps(schema)))
    compiled, verdicts = bazaar_schema._compiled_schema.cache_info(), bazaar_schema._verdict.cache_info()
    assert (compiled.misses, compiled.hits) == (1, 2)
    assert (verdicts.misses, verdicts.hits) == (3, 1)


@settings(max_examples=300, deadline=None)
@given(schema=schema_like, info=schema_like)
def test_cached_and_fresh_agree_on_any_json(schema: Any, info: Any) -> None:
    first, again = cached_twice(info, schema)
    assert first == again == uncached(info, schema) == schema_cached_only(info, schema)


# ---------------------------------------------------------------------------------------------
# a bazaar extension's hints (index.protocol.hints.bazaar_hints)

WEATHER = {"info": {"input": {"type": "http", "method": "GET", "queryParams": {"city": "Paris"}},
                    "output": {"type": "json", "example": {"tempC": 21}}},
           "schema": {"type": "object", "properties": {"input": {"type": "object", "properties": {
               "queryParams": {"type": "object", "properties": {"city": {"type": "string"}}}}}}}}


def fresh_hints(bazaar: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    findings: list[dict[str, Any]] = []
    return hints._bounded_bazaar_hints(copy.deepcopy(bazaar), findings), findings


@settings(max_examples=300, deadline=None)
@given(bazaar=schema_like)
def test_cached_bazaar_hints_are_the_fresh_ones(bazaar: Any) -> None:
    clear()
    expected = fresh_hints(bazaar)
    for _ in range(2):  # a miss, then a hit
        findings: list[dict[str, Any]] = []
        assert (bazaar_hints(copy.deepcopy(bazaar), findings), findings) == expected


def test_each_call_gets_its_own_hints_and_findings() -> None:
    bazaar = {**WEATHER, "routeTemplate": "../x"}
    first: list[dict[str, Any]] = []
    out = bazaar_hints(bazaar, first)
    out["input"]["queryParams"]["city"] = "changed"
    first[0]["detail"] = "changed"
    again: list[dict[str, Any]] = []
    assert bazaar_hints(copy.deepcopy(bazaar), again) == fresh_hints(bazaar)[0]
    assert again == fresh_hints(bazaar)[1] and again[0]["code"] == "route_template_invalid"
    info = hints._cached_bazaar_hints.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_the_bazaar_hints_cache_is_bounded_in_entries_and_in_size() -> None:
    for i in range(MAX_CACHED_BAZAARS + 50):
        bazaar_hints({**WEATHER, "info": {"input": {"type": "http", "queryParams": {"n": i}}}}, [])
    info = hints._cached_bazaar_hints.cache_info()
    assert info.maxsize == MAX_CACHED_BAZAARS and info.currsize == MAX_CACHED_BAZAARS
    clear()
    big = {**WEATHER, "info": {"input": {"type": "http", "body": "x" * MAX_CACHED_BAZAAR_BYTES}}}
    assert bazaar_hints(big, []) == fresh_hints(big)[0]
    assert hints._cached_bazaar_hints.cache_info().currsize == 0
