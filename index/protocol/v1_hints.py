"""v1 `outputSchema` → input hints, and v1 field descriptions → JSON Schema. Pure, no I/O.

A v1 accept's outputSchema.input is normalized to the v2 bazaar http input (camelCase or the old
Python snake_case names, as the reference normalizer reads them). Its queryParams / body values are
what the seller wrote: field descriptions ("string", or {type, description, required, enum}), not
examples; `v1_input_schema` turns them into JSON Schema for building a sample request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from index.protocol.networks import BODY_METHODS, QUERY_METHODS
from index.untrusted import clean_text

MAX_FIELD_DEPTH = 16  # nesting of v1 field descriptions turned into JSON Schema
BODY_TYPES = ("json", "form-data", "text")

# v1 outputSchema.input aliases (x402-protocol.md §2): the first non-empty object wins.
V1_QUERY_KEYS = ("queryParams", "query_params", "query", "params")
V1_BODY_KEYS = ("bodyFields", "body_fields", "bodyParams", "body", "data", "properties")
V1_HEADER_KEYS = ("headerFields", "header_fields", "headers")
V1_BODY_TYPE_KEYS = ("bodyType", "body_type")
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


def from_output_schema(accepts: list[Any]) -> dict[str, Any]:
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
    method = http_method(raw.get("method"))
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


def http_method(value: Any) -> str | None:
    if isinstance(value, str) and _METHOD.fullmatch(value.strip()):
        return value.strip().upper()
    return None


def _first_object(raw: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, Mapping) and value:
            return dict(value)
    return None
