"""Discovery hints: how to call a paid endpoint, read from the v2 bazaar extension or the v1 outputSchema.

Pure functions, no I/O, never raise on hostile input. `extract_hints` works on anything that has
`extensions` and/or raw `accepts` (a live 402 challenge or a facilitator discovery item) and returns a
plain JSON-able dict, or {} when the object says nothing about its input or output:

    {"source": "bazaar" | "outputSchema",
     "input": {...} | None,         # normalized to the v2 bazaar camelCase names, whatever the source
     "output": {...} | None,        # bazaar info.output, or {"type": "json", "example": <v1 output>}
     "input_schema": {...},         # JSON Schema of `input`, only when known
     "route_template": "/users/:id"}  # only when present and safe

`input` is {"type": "http", "method", "queryParams"?, "bodyType"?, "body"?, "headers"?, "pathParams"?}
or {"type": "mcp", "toolName"?, "inputSchema"?, "description"?, "transport"?, "example"?}.
From bazaar, queryParams / body values are examples. From a v1 outputSchema they are what the seller
wrote, like the reference normalizer keeps them: field descriptions ("string", or {type, description,
required, enum}), not examples; `input_schema` turns them into JSON Schema for building a sample.

A server's bazaar schema is checked with jsonschema's Draft 2020-12 validator that never fetches
anything (every `$ref` must stay inside the schema), never runs the server's regexes (`pattern` and
`patternProperties` are not asserted: ReDoS), evaluates every part of the schema as 2020-12 (nested
`$schema` dialect switches are removed), and stops after a fixed number of keyword evaluations or
nesting levels; see `check_bazaar`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import unquote, urldefrag, urljoin

from jsonschema import Draft202012Validator, validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

from index.findings import finding
from index.protocol.networks import BODY_METHODS, QUERY_METHODS
from index.untrusted import clean_text, json_key, json_size, within

MAX_HINTS_BYTES = 64 * 1024  # hints are stored and published: their compact JSON stays under this
MAX_SCHEMA_NODES = 5_000  # JSON values in a bazaar schema we are willing to evaluate
MAX_SCHEMA_DEPTH = 64
MAX_VALIDATION_STEPS = 20_000  # keyword evaluations per validation (stops $ref / anyOf blow-ups)
MAX_VALIDATION_DEPTH = 64  # nesting of keyword evaluations (stops self-referencing schemas)
MAX_INFO_DEPTH = 64  # nesting of the bazaar info we validate
MAX_UNIQUE_ITEMS_CHECKED = 256  # uniqueItems is quadratic on unhashable items: longer arrays are not checked
MAX_ROUTE_TEMPLATE = 512
MAX_FIELD_DEPTH = 16  # nesting of v1 field descriptions turned into JSON Schema
MAX_HINTS_DEPTH = 256  # deeper values are never kept as hints (json.dumps recurses in C)

INPUT_TYPES = ("http", "mcp")
BODY_TYPES = ("json", "form-data", "text")

# v1 outputSchema.input aliases (x402-protocol.md §2): the first non-empty object wins.
V1_QUERY_KEYS = ("queryParams", "query_params", "query", "params")
V1_BODY_KEYS = ("bodyFields", "body_fields", "bodyParams", "body", "data", "properties")
V1_HEADER_KEYS = ("headerFields", "header_fields", "headers")
V1_BODY_TYPE_KEYS = ("bodyType", "body_type")

_ROUTE_TEMPLATE = re.compile(r"/[a-zA-Z0-9_/:.\-~%]+")
_METHOD = re.compile(r"[A-Za-z]{1,16}")
_TYPE_WORDS = {
    "string": "string", "str": "string", "text": "string",
    "number": "number", "float": "number", "double": "number", "decimal": "number",
    "integer": "integer", "int": "integer", "boolean": "boolean", "bool": "boolean",
    "array": "array", "list": "array", "object": "object", "dict": "object", "null": "null",
}
# keys that mark a v1 field value as a description of the field rather than a nested example object
_DESCRIPTOR_KEYS = frozenset({"type", "description", "enum", "properties", "items", "required", "format"})
_DESCRIPTOR_COPY = {
    "format": str, "pattern": str, "default": object, "examples": list, "example": object,
    "minimum": (int, float), "maximum": (int, float), "minLength": int, "maxLength": int,
    "minItems": int, "maxItems": int,
}


# ---------------------------------------------------------------------------------------------
# public entry point


def extract_hints(extensions: Mapping[str, Any], raw_accepts: list[Any],
                  findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Input/output hints: the v2 bazaar extension first, else the first v1 outputSchema that says something.

    Findings: bazaar_invalid, route_template_invalid, hints_too_large, no_input_schema.
    """
    findings = findings if findings is not None else []
    ext = extensions if isinstance(extensions, Mapping) else {}
    accepts = raw_accepts if isinstance(raw_accepts, list) else []
    hints: dict[str, Any] = {}
    if ext.get("bazaar") is not None:
        hints = _from_bazaar(ext["bazaar"], findings)
    if not hints:
        hints = _from_output_schema(accepts)
    hints = bounded_hints(hints, findings)
    if not hints.get("input"):
        findings.append(finding("no_input_schema"))
    return hints


# ---------------------------------------------------------------------------------------------
# v2 bazaar


def _from_bazaar(bazaar: Any, findings: list[dict[str, Any]]) -> dict[str, Any]:
    where = "extensions.bazaar"
    if not isinstance(bazaar, Mapping):
        findings.append(finding("bazaar_invalid", where, "not an object"))
        return {}
    info, schema = bazaar.get("info"), bazaar.get("schema")
    if not isinstance(info, Mapping):
        findings.append(finding("bazaar_invalid", where, "info is missing or not an object"))
        return {}
    problem, schema_usable = check_bazaar(info, schema)
    if problem:
        findings.append(finding("bazaar_invalid", where, problem))
    hints: dict[str, Any] = {
        "source": "bazaar",
        "input": normalize_bazaar_input(info.get("input")),
        "output": dict(info["output"]) if isinstance(info.get("output"), Mapping) else None,
    }
    if schema_usable:
        input_schema = (schema.get("properties") or {}).get("input") if isinstance(schema.get("properties"), Mapping) else None
        if isinstance(input_schema, Mapping):
            hints["input_schema"] = dict(input_schema)
    if "routeTemplate" in bazaar:
        template = bazaar["routeTemplate"]
        if route_template_ok(template):
            hints["route_template"] = template
        else:
            detail = template[:80] if isinstance(template, str) else type(template).__name__
            findings.append(finding("route_template_invalid", f"{where}.routeTemplate", detail))
    if hints["input"] is None and hints["output"] is None and "input_schema" not in hints:
        return {}
    return hints


def normalize_bazaar_input(raw: Any) -> dict[str, Any] | None:
    """bazaar info.input → the normalized input (http or mcp), keeping only the fields the spec names."""
    if not isinstance(raw, Mapping):
        return None
    kind = raw.get("type")
    if kind is None:
        kind = "mcp" if ("toolName" in raw or "tool" in raw) else "http"
    kind = kind.lower() if isinstance(kind, str) else None
    if kind not in INPUT_TYPES:
        return None
    if kind == "mcp":
        return _mcp_input(raw)
    out: dict[str, Any] = {"type": "http"}
    method = _method(raw.get("method"))
    if method:
        out["method"] = method
    for key in ("queryParams", "headers", "pathParams"):
        if isinstance(raw.get(key), Mapping):
            out[key] = dict(raw[key])
    if raw.get("bodyType") is not None or raw.get("body") is not None:
        out["bodyType"] = body_type(raw.get("bodyType"))
        if raw.get("body") is not None:
            out["body"] = raw["body"]
    return out


def _mcp_input(raw: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "mcp"}
    tool = raw.get("toolName") if isinstance(raw.get("toolName"), str) else raw.get("tool")
    tool = clean_text(tool, 128)
    if tool:
        out["toolName"] = tool
    if isinstance(raw.get("inputSchema"), Mapping):
        out["inputSchema"] = dict(raw["inputSchema"])
    description = clean_text(raw.get("description"), 2000)
    if description:
        out["description"] = description
    transport = clean_text(raw.get("transport"), 32)
    if transport:
        out["transport"] = transport
    if raw.get("example") is not None:
        out["example"] = raw["example"]
    return out


def route_template_ok(value: Any) -> bool:
    """A bazaar routeTemplate is a safe catalog key: /[a-zA-Z0-9_/:.-~%]+, no '..' or '://' even percent-decoded."""
    if not isinstance(value, str) or len(value) > MAX_ROUTE_TEMPLATE or not _ROUTE_TEMPLATE.fullmatch(value):
        return False
    decoded = unquote(value)
    return ".." not in decoded and "://" not in decoded and not any(ord(c) < 0x20 or c in "\\\x7f" for c in decoded)


# ---------------------------------------------------------------------------------------------
# v1 outputSchema


def _from_output_schema(accepts: list[Any]) -> dict[str, Any]:
    for entry in accepts:
        if not isinstance(entry, Mapping):
            continue
        schema = entry.get("outputSchema", entry.get("output_schema"))
        if not isinstance(schema, Mapping):
            continue
        raw_input = schema.get("input")
        if isinstance(raw_input, Mapping) and raw_input.get("discoverable") is False:
            continue  # the seller asked not to be listed with a schema
        inp = normalize_v1_input(raw_input)
        output = {"type": "json", "example": schema["output"]} if schema.get("output") is not None else None
        if inp is None and output is None:
            continue
        hints: dict[str, Any] = {"source": "outputSchema", "input": inp, "output": output}
        input_schema = v1_input_schema(inp) if inp else None
        if input_schema:
            hints["input_schema"] = input_schema
        return hints
    return {}


def normalize_v1_input(raw: Any) -> dict[str, Any] | None:
    """v1 outputSchema.input (camelCase or the old Python snake_case) → the bazaar http input.

    Like the reference normalizer: needs a method (a missing `type` counts as "http", any other type
    is skipped); GET/HEAD/DELETE keep query info, POST/PUT/PATCH keep body info, other verbs nothing.
    """
    if not isinstance(raw, Mapping) or raw.get("discoverable") is False:
        return None
    if raw.get("type", "http") != "http":
        return None
    method = _method(raw.get("method"))
    if method is None:
        return None
    out: dict[str, Any] = {"type": "http", "method": method}
    query = _first_object(raw, V1_QUERY_KEYS)
    if method in BODY_METHODS:
        kind = next((raw[k] for k in V1_BODY_TYPE_KEYS if isinstance(raw.get(k), str)), None)
        out["bodyType"] = body_type(kind)
        out["body"] = _first_object(raw, V1_BODY_KEYS) or {}
    elif method not in QUERY_METHODS:
        return None
    if query:
        out["queryParams"] = query
    headers = _first_object(raw, V1_HEADER_KEYS)
    if headers:
        out["headers"] = headers
    return out


def body_type(value: Any) -> str:
    """A declared body type → json | form-data | text (form or multipart → form-data, text/plain → text)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text in BODY_TYPES:
        return text
    if "form" in text or "multipart" in text:
        return "form-data"
    if text == "text" or text.startswith("text/"):
        return "text"
    return "json"


def v1_input_schema(inp: Mapping[str, Any]) -> dict[str, Any] | None:
    """JSON Schema of a normalized v1 http input, shaped like bazaar's schema.properties.input.

    Only built when the input has a query or body field map to describe.
    """
    params = "body" if inp.get("method") in BODY_METHODS else "queryParams"
    fields = inp.get(params)
    if not isinstance(fields, Mapping) or not fields:
        return None
    properties: dict[str, Any] = {
        "type": {"type": "string", "const": "http"},
        "method": {"type": "string", "const": inp["method"]},
    }
    if params == "body":
        properties["bodyType"] = {"type": "string", "const": inp.get("bodyType", "json")}
    properties[params] = fields_schema(fields)
    return {"type": "object", "properties": properties, "required": list(properties)}


def fields_schema(fields: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """A v1 field map ({"q": "string"} or {"q": {"type", "description", "required", "enum"}}) → object schema."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, value in fields.items():
        if not isinstance(name, str):
            continue
        properties[name] = field_schema(value, depth + 1)
        if isinstance(value, Mapping) and value.get("required") is True:
            required.append(name)
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    return out


def field_schema(value: Any, depth: int = 0) -> dict[str, Any]:
    """One v1 field value → JSON Schema: a type word, a field description, or an example value."""
    if depth > MAX_FIELD_DEPTH:
        return {}
    if isinstance(value, str):
        return {"type": _TYPE_WORDS.get(value.strip().lower(), "string")}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array"}
    if not isinstance(value, Mapping):
        return {}
    if not (_DESCRIPTOR_KEYS & value.keys()):
        return fields_schema(value, depth)  # a nested example object
    out: dict[str, Any] = {}
    kind = value.get("type")
    if isinstance(kind, str) and kind.strip().lower() in _TYPE_WORDS:
        out["type"] = _TYPE_WORDS[kind.strip().lower()]
    elif isinstance(kind, list):
        kinds = [_TYPE_WORDS[k.strip().lower()] for k in kind if isinstance(k, str) and k.strip().lower() in _TYPE_WORDS]
        if kinds:
            out["type"] = kinds
    description = clean_text(value.get("description"), 500)
    if description:
        out["description"] = description
    if isinstance(value.get("enum"), list) and value["enum"]:
        out["enum"] = value["enum"]
    for key, kinds in _DESCRIPTOR_COPY.items():
        if key in value and (kinds is object or (isinstance(value[key], kinds) and not isinstance(value[key], bool))):
            out[key] = value[key]
    if isinstance(value.get("properties"), Mapping):
        nested = fields_schema(value["properties"], depth)
        out.setdefault("type", "object")
        out["properties"] = nested["properties"]
        required = list(nested.get("required", []))
        if isinstance(value.get("required"), list):  # JSON-Schema style list on the object itself
            required += [r for r in value["required"] if isinstance(r, str) and r not in required]
        if required:
            out["required"] = required
    if "items" in value:
        out.setdefault("type", "array")
        out["items"] = field_schema(value["items"], depth + 1)
    return out


# ---------------------------------------------------------------------------------------------
# bazaar schema validation


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
    info_size = json_size(info, MAX_HINTS_BYTES, MAX_HINTS_DEPTH)
    if info_size is None or info_size > MAX_HINTS_BYTES or not within(info, MAX_HINTS_BYTES, MAX_INFO_DEPTH):
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


# ---- caches: keyed by the values' compact JSON, bounded in entries and in size -----------------
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


# ---------------------------------------------------------------------------------------------
# helpers


def _method(value: Any) -> str | None:
    if isinstance(value, str) and _METHOD.fullmatch(value.strip()):
        return value.strip().upper()
    return None


def _first_object(raw: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, Mapping) and value:
            return dict(value)
    return None


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# What is given up, in order, when hints are too large: the least useful first. One order for every
# hints value we keep (a live challenge's, and what discovery documents declare).
HINT_TRIM_ORDER: tuple[tuple[str, ...], ...] = (
    ("output",), ("input_schema",), ("input", "example"), ("input", "body"), ("input", "queryParams"),
    ("input", "inputSchema"), ("input",),
)


def _fits(hints: dict[str, Any], limit: int) -> bool:
    size = json_size(hints, MAX_HINTS_BYTES, MAX_HINTS_DEPTH)
    return size is not None and size <= limit


def bounded_hints(hints: dict[str, Any], findings: list[dict[str, Any]] | None = None,
                  limit: int = MAX_HINTS_BYTES) -> dict[str, Any]:
    """Hints whose compact JSON fits `limit`, giving up parts in HINT_TRIM_ORDER (a `hints_too_large`
    finding for each when `findings` is given). `output` and `input` are set to None, not removed;
    when even that is too large only the plain-text `source` and `route_template` are kept."""
    findings = findings if findings is not None else []
    for path in HINT_TRIM_ORDER:
        if not hints or _fits(hints, limit):
            return hints
        key = path[0]
        if len(path) == 2:
            inner = hints.get(key)
            if isinstance(inner, dict) and path[1] in inner:
                hints[key] = {k: v for k, v in inner.items() if k != path[1]}
                findings.append(finding("hints_too_large", "hints", ".".join(path)))
        elif key == "input_schema":
            if hints.pop(key, None) is not None:
                findings.append(finding("hints_too_large", "hints", key))
        elif hints.get(key) is not None:
            hints[key] = None
            findings.append(finding("hints_too_large", "hints", key))
    if not _fits(hints, limit):  # only a route template or the source can be left; keep what is plain text
        hints = {k: v for k, v in hints.items() if k in ("source", "route_template") and isinstance(v, str)}
        hints.update(input=None, output=None)
    return hints
