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
From bazaar, queryParams / body values are examples; the v1 side is index.protocol.v1_hints, the
bazaar schema check index.protocol.bazaar_schema. Every hints value kept anywhere (live challenges,
discovery documents) is bounded by `bounded_hints`, with one trim order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from index.findings import finding
from index.protocol.bazaar_schema import check_bazaar
from index.protocol.v1_hints import body_type, from_output_schema, http_method
from index.untrusted import clean_text, json_size, read_value_key, value_key

MAX_HINTS_BYTES = 64 * 1024  # hints are stored and published: their compact JSON stays under this
MAX_HINTS_DEPTH = 256  # deeper values are never kept as hints (json.dumps recurses in C)
MAX_ROUTE_TEMPLATE = 512
INPUT_TYPES = ("http", "mcp")
_ROUTE_TEMPLATE = re.compile(r"/[a-zA-Z0-9_/:.\-~%]+")


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
        hints = bazaar_hints(ext["bazaar"], findings)
    if not hints:
        hints = bounded_hints(from_output_schema(accepts), findings)
    if not hints.get("input"):
        findings.append(finding("no_input_schema"))
    return hints


# Every URL of a service's route sends the same bazaar extension: its bounded hints and findings are
# kept by the extension's exact serialization (index.untrusted.value_key), a bounded number of them,
# each no larger than MAX_CACHED_BAZAAR_BYTES. Each call gets its own copy of the hints and findings.
MAX_CACHED_BAZAARS = 256
MAX_CACHED_BAZAAR_BYTES = 20 * 1024


def bazaar_hints(bazaar: Any, findings: list[dict[str, Any]]) -> dict[str, Any]:
    """The bounded hints of a bazaar extension ({} when it says nothing), its findings appended."""
    key = value_key(bazaar, MAX_CACHED_BAZAAR_BYTES)
    if key is None:
        return _bounded_bazaar_hints(bazaar, findings)
    hints, found = _cached_bazaar_hints(key)
    findings.extend(dict(f) for f in found)
    return read_value_key(hints)  # type: ignore[no-any-return]


@lru_cache(maxsize=MAX_CACHED_BAZAARS)
def _cached_bazaar_hints(key: bytes) -> tuple[bytes, tuple[dict[str, Any], ...]]:
    """bazaar_hints of the extension `key` serializes (read back: an equal value), serialized too."""
    found: list[dict[str, Any]] = []
    hints = _bounded_bazaar_hints(read_value_key(key), found)
    packed = value_key(hints, 2**31)
    assert packed is not None  # made of the extension's own values and plain strings
    return packed, tuple(found)


def _bounded_bazaar_hints(bazaar: Any, findings: list[dict[str, Any]]) -> dict[str, Any]:
    hints = _from_bazaar(bazaar, findings)
    return bounded_hints(hints, findings) if hints else hints


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
    method = http_method(raw.get("method"))
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
