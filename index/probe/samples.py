"""Minimal valid sample values from a JSON Schema: the body a probe sends when an endpoint refuses
an empty one before its paywall. Pure and bounded: depth, sizes and $ref are never followed far.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 6
MAX_PROPERTIES = 50

_FORMAT_SAMPLES = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "agent@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def _first_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if isinstance(kind, str):
        return kind
    if isinstance(schema.get("properties"), dict):
        return "object"
    if "items" in schema:
        return "array"
    return None


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_SAMPLES:
        return _FORMAT_SAMPLES[fmt]
    min_len = schema.get("minLength") if isinstance(schema.get("minLength"), int) else 0
    max_len = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
    text = "example"
    if len(text) < min_len:
        text = text + "x" * (min(min_len, 1000) - len(text))
    if max_len is not None and max_len >= 0:
        text = text[:max_len]
    return text


def _number(schema: dict[str, Any], integer: bool) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 1
    if isinstance(low, int | float) and not isinstance(low, bool):
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if isinstance(high, int | float) and not isinstance(high, bool) and value > high:
        value = high
    return int(value) if integer else value


def sample_from_schema(schema: Any, depth: int = 0) -> Any:
    """A small value that satisfies `schema`'s common constraints: examples and defaults first, then
    const/enum, then a value by type with only the required properties of objects filled in."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "example" in schema:
        return schema["example"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    for combinator in ("oneOf", "anyOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            if combinator == "allOf":
                merged: dict[str, Any] = {}
                for part in options[:10]:
                    if isinstance(part, dict):
                        merged = {**merged, **part,
                                  "properties": {**merged.get("properties", {}), **(part.get("properties") or {})},
                                  "required": [*merged.get("required", []), *(part.get("required") or [])]}
                return sample_from_schema(merged, depth + 1)
            return sample_from_schema(options[0], depth + 1)
    kind = _first_type(schema)
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        out: dict[str, Any] = {}
        for name in required[:MAX_PROPERTIES]:
            sub = props.get(name)
            value = sample_from_schema(sub, depth + 1) if isinstance(sub, dict) else "example"
            out[name] = "example" if value is None and not isinstance(sub, dict) else value
        return out
    if kind == "array":
        min_items = schema.get("minItems") if isinstance(schema.get("minItems"), int) else 0
        item = sample_from_schema(schema.get("items"), depth + 1) if isinstance(schema.get("items"), dict) else "example"
        return [item] * max(1, min(min_items, 10)) if min_items else []
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return None
