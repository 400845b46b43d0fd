"""Bounded JSON-Schema validation of a server's bazaar `info` against its own `schema`. Pure, no I/O.

`check_bazaar` uses jsonschema's Draft 2020-12 validator in a form that never fetches anything (every
`$ref` must stay inside the schema), never runs the server's regexes (`pattern` and
`patternProperties` are not asserted: ReDoS), evaluates every part of the schema as 2020-12 (nested
`$schema` dialect switches are removed), and stops after a fixed number of keyword evaluations or
nesting levels. `schema_problem` is a fast stand-in for the meta-schema check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urldefrag, urljoin

from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

from index.untrusted import json_key, json_size, within

MAX_INFO_BYTES = 64 * 1024  # compact JSON of an info we validate (no more than the hints we keep)
MAX_SCHEMA_NODES = 5_000  # JSON values in a bazaar schema we are willing to evaluate
MAX_SCHEMA_DEPTH = 64
MAX_VALIDATION_STEPS = 20_000  # keyword evaluations per validation (stops $ref / anyOf blow-ups)
MAX_VALIDATION_DEPTH = 64  # nesting of keyword evaluations (stops self-referencing schemas)
MAX_INFO_DEPTH = 64  # nesting of the bazaar info we validate
MAX_UNIQUE_ITEMS_CHECKED = 256  # uniqueItems is quadratic on unhashable items: longer arrays are not checked


def check_bazaar(info: Any, schema: Any) -> tuple[str | None, bool]:
    """Validate bazaar `info` against its `schema` (jsonschema, Draft 2020-12) without fetching anything.

    Returns (problem or None, whether the schema itself is usable). A schema that is too large or deep,
    references anything outside itself, is not valid JSON Schema (`schema_problem`), or cannot be
    evaluated within MAX_VALIDATION_STEPS / MAX_VALIDATION_DEPTH is a problem and is not usable.

    A pure function of the two values, so it is memoized (see "caches" below): a schema is compiled
    once, and the verdict on an (info, schema) pair is kept, since every URL of one route of a service
    sends the same pair.
    """
    if not isinstance(schema, Mapping):
        return "schema is missing or not an object", False
    # a key is found only within the node and depth bounds (so within would say True)
    schema_key = json_key(schema, MAX_SCHEMA_NODES, MAX_SCHEMA_DEPTH, MAX_CACHED_SCHEMA_CHARS)
    if schema_key is None:
        if not within(schema, MAX_SCHEMA_NODES, MAX_SCHEMA_DEPTH):
            return "schema is too large or too deeply nested to evaluate", False
        return _check(_compile_schema(schema), info)
    info_key = json_key(info, MAX_SCHEMA_NODES, MAX_INFO_DEPTH, MAX_CACHED_INFO_CHARS)
    if info_key is None:
        return _check(_compiled_schema(schema_key), info)
    return _verdict(schema_key, info_key)


def _check(compiled: _CompiledSchema, info: Any) -> tuple[str | None, bool]:
    """check_bazaar's verdict once the schema is compiled."""
    if compiled.refused:
        return compiled.refused, False
    info_size = json_size(info, MAX_INFO_BYTES, MAX_INFO_DEPTH)
    if info_size is None or info_size > MAX_INFO_BYTES:
        return "info is too large, too deep or not plain JSON to validate", True
    if compiled.validator is None:
        return compiled.unusable or "schema could not be evaluated", False
    try:
        with _budget(MAX_VALIDATION_STEPS):
            error = next(iter(compiled.validator.iter_errors(info)), None)
    except Exception as exc:  # noqa: BLE001 - referencing/jsonschema errors on hostile schemas are many
        return _evaluation_problem(exc), False
    if error is not None:
        path = "".join(f"[{p!r}]" for p in error.absolute_path)
        return _short(f"info{path}: {error.message}"), True
    return None, True


def _evaluation_problem(exc: Exception) -> str:
    """What an exception raised while building or running a validator says about the schema."""
    if isinstance(exc, _TooCostly):
        return "schema is too costly to evaluate"
    if isinstance(exc, RecursionError):
        return "schema recurses without end"
    if isinstance(exc, Unresolvable):
        return f"schema has an unresolvable $ref {_short(str(getattr(exc, 'ref', '')), 100)!r}"
    return f"schema could not be evaluated ({type(exc).__name__})"


class _CompiledSchema(NamedTuple):
    """What a bazaar schema alone decides: refused before any `info` is looked at (`refused`), or a
    validator, or (when building it failed) why it is not usable."""

    refused: str | None
    validator: Any = None
    unusable: str | None = None


def _compile_schema(schema: Mapping[str, Any]) -> _CompiledSchema:
    remote = _outside_refs(schema)
    if remote:
        return _CompiledSchema(f"schema references {remote[:100]!r} outside itself (remote $ref refused)")
    problem = schema_problem(schema)
    if problem:
        return _CompiledSchema(f"schema is not valid JSON Schema: {problem}")
    try:
        return _CompiledSchema(None, _BoundedValidator(_without_dialects(schema), registry=_NO_REMOTE))
    except Exception as exc:  # noqa: BLE001 - as in _check
        return _CompiledSchema(None, None, _evaluation_problem(exc))


class _TooCostly(Exception):
    """Raised inside validation when the step or nesting budget is spent."""


class _Budget:
    """What one validation may still spend: keyword evaluations, and how deep they may nest."""

    __slots__ = ("steps", "depth")

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.depth = 0


_BUDGET: ContextVar[_Budget] = ContextVar("bazaar_validation_budget")


def _refuse_remote(uri: str) -> Resource:
    """The retrieve function of our registry: nothing is ever fetched."""
    raise NoSuchResource(ref=uri)


_NO_REMOTE = Registry(retrieve=_refuse_remote)


def _counted(keyword: Any) -> Any:
    """A keyword function that spends one step, and whose errors are produced one nesting level deeper.

    The nesting bound matters: a process may raise the recursion limit (py_ecc, imported with the EVM
    SDK, sets 100,000), and then a self-referencing schema would overflow the C stack, not raise.
    """
    def step(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        budget = _BUDGET.get()
        budget.steps -= 1
        if budget.steps < 0:
            raise _TooCostly
        return _nested(budget, keyword(validator, value, instance, schema))

    return step


def _nested(budget: _Budget, errors: Any) -> Iterator[Any]:
    budget.depth += 1
    try:
        if budget.depth > MAX_VALIDATION_DEPTH:
            raise _TooCostly
        yield from errors or ()
    finally:
        budget.depth -= 1


def _not_asserted(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
    return iter(())


_BASE = Draft202012Validator.VALIDATORS


def _additional_properties(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
    if "patternProperties" in schema:  # which keys the patterns cover would need the server's regexes
        return iter(())
    return _BASE["additionalProperties"](validator, value, instance, schema)


def _unique_items(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
    if isinstance(instance, list) and len(instance) > MAX_UNIQUE_ITEMS_CHECKED:
        return iter(())
    return _BASE["uniqueItems"](validator, value, instance, schema)


_KEYWORDS = {
    **_BASE,
    "pattern": _not_asserted,
    "patternProperties": _not_asserted,
    "unevaluatedProperties": _not_asserted,
    "additionalProperties": _additional_properties,
    "uniqueItems": _unique_items,
}
_BoundedValidator = validators.extend(Draft202012Validator, {k: _counted(v) for k, v in _KEYWORDS.items()})


@contextmanager
def _budget(steps: int) -> Iterator[None]:
    token = _BUDGET.set(_Budget(steps))
    try:
        yield
    finally:
        _BUDGET.reset(token)


# A hostile server sending endless distinct (or huge) schemas cannot make them grow: a schema or info
# whose JSON is over its MAX_CACHED_*_CHARS is not cached but evaluated on each call.
MAX_CACHED_SCHEMAS = 256
MAX_CACHED_SCHEMA_CHARS = 16 * 1024
MAX_CACHED_VERDICTS = 1024
MAX_CACHED_INFO_CHARS = 4 * 1024


@lru_cache(maxsize=MAX_CACHED_SCHEMAS)
def _compiled_schema(schema_key: str) -> _CompiledSchema:
    """_compile_schema of the schema whose compact JSON is `schema_key` (read back: the same value)."""
    return _compile_schema(json.loads(schema_key))


@lru_cache(maxsize=MAX_CACHED_VERDICTS)
def _verdict(schema_key: str, info_key: str) -> tuple[str | None, bool]:
    """check_bazaar of the info and schema whose compact JSON are the keys."""
    return _check(_compiled_schema(schema_key), json.loads(info_key))


# The value kinds of the Draft 2020-12 keywords (core, applicator, unevaluated, validation, meta-data,
# format, content vocabularies). Checking a schema against this table gives the same verdict as the
# meta-schema for what matters here, in microseconds instead of jsonschema's ~10 ms per schema.
_KEYWORD_KINDS: dict[str, str] = {
    "$id": "string", "$schema": "string", "$ref": "string", "$anchor": "string", "$dynamicRef": "string",
    "$dynamicAnchor": "string", "$comment": "string", "$vocabulary": "object",
    "$defs": "schema_map", "definitions": "schema_map", "properties": "schema_map", "patternProperties": "schema_map",
    "dependentSchemas": "schema_map",
    "items": "schema", "contains": "schema", "additionalProperties": "schema", "propertyNames": "schema",
    "if": "schema", "then": "schema", "else": "schema", "not": "schema", "unevaluatedItems": "schema",
    "unevaluatedProperties": "schema", "contentSchema": "schema",
    "prefixItems": "schema_list", "allOf": "schema_list", "anyOf": "schema_list", "oneOf": "schema_list",
    "type": "type", "enum": "array", "examples": "array", "required": "names", "dependentRequired": "names_map",
    "multipleOf": "positive", "maximum": "number", "exclusiveMaximum": "number", "minimum": "number",
    "exclusiveMinimum": "number", "maxLength": "count", "minLength": "count", "maxItems": "count", "minItems": "count",
    "maxContains": "count", "minContains": "count", "maxProperties": "count", "minProperties": "count",
    "uniqueItems": "boolean", "deprecated": "boolean", "readOnly": "boolean", "writeOnly": "boolean",
    "pattern": "string", "format": "string", "title": "string", "description": "string",
    "contentEncoding": "string", "contentMediaType": "string",
}
_JSON_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value) and len(set(value)) == len(value)


# kind -> (check, what the value must be)
_KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "string": (lambda v: isinstance(v, str), "a string"),
    "object": (lambda v: isinstance(v, Mapping), "an object"),
    "array": (lambda v: isinstance(v, list), "an array"),
    "boolean": (lambda v: isinstance(v, bool), "a boolean"),
    "number": (_number, "a number"),
    "positive": (lambda v: _number(v) and v > 0, "a number above 0"),
    "count": (lambda v: _number(v) and v >= 0 and float(v).is_integer(), "a non-negative integer"),
    "names": (_names, "an array of distinct strings"),
    "names_map": (lambda v: isinstance(v, Mapping) and all(_names(n) for n in v.values()), "an object of string arrays"),
    "type": (lambda v: (isinstance(v, str) and v in _JSON_TYPES)
             or (isinstance(v, list) and bool(v) and _names(v) and all(t in _JSON_TYPES for t in v)),
             "a JSON type name or a list of them"),
    "schema": (lambda v: isinstance(v, Mapping | bool), "a schema"),
    "schema_map": (lambda v: isinstance(v, Mapping) and all(isinstance(s, Mapping | bool) for s in v.values()),
                   "an object of schemas"),
    "schema_list": (lambda v: isinstance(v, list) and bool(v) and all(isinstance(s, Mapping | bool) for s in v),
                    "a non-empty array of schemas"),
}


def schema_problem(schema: Any) -> str | None:
    """Why a value is not a Draft 2020-12 schema (a keyword with a value of the wrong kind), or None."""
    stack: list[tuple[Any, str]] = [(schema, "schema")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, bool):
            continue
        if not isinstance(node, Mapping):
            return f"{path} is neither an object nor a boolean"
        for key, value in node.items():
            kind = _KEYWORD_KINDS.get(key)
            if kind is None:
                continue  # unknown keywords are annotations
            check, expected = _KINDS[kind]
            if not check(value):
                return _short(f"{path}.{key} must be {expected}", 120)
            if kind == "schema":
                stack.append((value, f"{path}.{key}"))
            elif kind == "schema_map":
                stack.extend((sub, f"{path}.{key}.{name}") for name, sub in value.items())
            elif kind == "schema_list":
                stack.extend((sub, f"{path}.{key}[{i}]") for i, sub in enumerate(value))
    return None


def _walk_objects(value: Any) -> Iterator[Mapping[str, Any]]:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _outside_refs(schema: Mapping[str, Any]) -> str | None:
    """The first $ref / $dynamicRef that points outside the schema document, or None.

    Local: fragments ("#/$defs/x", "#anchor") and URIs equal to a `$id` declared in the schema
    (relative ids resolved against the root `$id`). Everything else would need a fetch.
    """
    root = schema.get("$id") if isinstance(schema.get("$id"), str) else ""
    ids = set()
    refs = []
    for node in _walk_objects(schema):
        for key, value in node.items():
            if key == "$id" and isinstance(value, str):
                ids.add(urldefrag(_join(root, value)).url)
            elif key in ("$ref", "$dynamicRef"):
                refs.append(value)
    for ref in refs:
        if not isinstance(ref, str):
            return repr(ref)[:100]
        if ref.startswith("#"):
            continue
        if urldefrag(_join(root, ref)).url not in ids:
            return ref
    return None


def _join(base: str, ref: str) -> str:
    try:
        return urljoin(base, ref) if base else ref
    except ValueError:
        return ref


def _without_dialects(value: Any) -> Any:
    """Copy of a schema with every "$schema" key removed, so one dialect (2020-12) evaluates all of it."""
    if isinstance(value, Mapping):
        return {k: _without_dialects(v) for k, v in value.items() if k != "$schema"}
    if isinstance(value, list):
        return [_without_dialects(v) for v in value]
    return value


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
