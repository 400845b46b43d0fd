"""Compiled bazaar schemas are cached: the same verdicts as compiling each time, within fixed bounds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index import hints
from index.hints import MAX_CACHED_SCHEMA_CHARS, MAX_CACHED_SCHEMAS, check_bazaar
from tests.test_x402_fuzz import schema_like


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    hints._compiled_schema.cache_clear()
    yield
    hints._compiled_schema.cache_clear()


def uncached(info: Any, schema: Any) -> tuple[str | None, bool]:
    """check_bazaar compiling the schema afresh (the path of schemas that are not cached)."""
    key = hints._schema_key
    hints._schema_key = lambda _schema: None  # type: ignore[assignment]
    try:
        return check_bazaar(info, schema)
    finally:
        hints._schema_key = key  # type: ignore[assignment]


def cached_twice(info: Any, schema: Any) -> tuple[tuple[str | None, bool], tuple[str | None, bool]]:
    """check_bazaar on a cold cache, then again on the entry it left."""
    hints._compiled_schema.cache_clear()
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
    assert first == again == uncached(info, schema)


def test_keyword_order_is_part_of_the_key() -> None:
    info = {"input": 3}
    a = check_bazaar(info, {"properties": {"input": {"enum": [1], "const": 2}}})
    b = check_bazaar(info, {"properties": {"input": {"const": 2, "enum": [1]}}})
    assert a != b and hints._compiled_schema.cache_info().currsize == 2


def test_values_that_are_not_plain_json_are_not_cached() -> None:
    for schema in ({"enum": (1, 2)}, {"properties": {1: {"type": "string"}}}, {"const": {1, 2}}):
        assert hints._schema_key(schema) is None
        assert check_bazaar({}, schema) == uncached({}, schema)
    assert hints._compiled_schema.cache_info().currsize == 0


def test_the_cache_is_bounded_in_entries_and_in_size() -> None:
    for i in range(MAX_CACHED_SCHEMAS + 50):
        check_bazaar({"n": i}, {"properties": {"n": {"const": i}}})
    info = hints._compiled_schema.cache_info()
    assert info.maxsize == MAX_CACHED_SCHEMAS and info.currsize == MAX_CACHED_SCHEMAS
    hints._compiled_schema.cache_clear()
    big = {"properties": {f"p{i}": {"description": "d" * 100} for i in range(400)}}
    assert len(json.dumps(big, separators=(",", ":"))) > MAX_CACHED_SCHEMA_CHARS
    assert check_bazaar({}, big) == (None, True)
    assert hints._compiled_schema.cache_info().currsize == 0


def test_one_schema_is_compiled_once() -> None:
    schema = {"properties": {"input": {"type": "object"}}}
    for city in ("Paris", "Lisbon", "Oslo"):
        check_bazaar({"input": {"city": city}}, json.loads(json.dumps(schema)))
    info = hints._compiled_schema.cache_info()
    assert (info.misses, info.hits) == (1, 2)


@settings(max_examples=300, deadline=None)
@given(schema=schema_like, info=schema_like)
def test_cached_and_fresh_agree_on_any_json(schema: Any, info: Any) -> None:
    first, again = cached_twice(info, schema)
    assert first == again == uncached(info, schema)
