"""A resource's input and output hints at catalog time (pure): the server's, else a discovery
source's, else what its docs pages say.

Docs hints have the shape index.protocol.hints gives (`input` with the docs example body as example
values, `input_schema.properties.<part>` a JSON Schema of each part, `output.example`), with
`source: "docs"` and `url`, the page they were read from. The docs' field table becomes JSON Schema
properties with the type, description, default, range and enum the page gives, and `required`.

Server-declared hints (the 402's bazaar or v1 outputSchema, then an OpenAPI document, well-known or
facilitator listing) win over docs. When both exist and disagree about a field (the docs require a
field the server's schema lacks, or type it differently), the server's stay and a `docs_hints_disagree`
finding says where.
"""

from __future__ import annotations

import re
from typing import Any

from index.catalog.docs_match import CONSTRAINT_KEYS, is_message
from index.findings import finding
from index.probe.plan import input_part_schema
from index.protocol.networks import BODY_METHODS

_JSON_TYPES = {"string": "string", "number": "number", "integer": "integer", "int": "integer", "float": "number",
               "double": "number", "boolean": "boolean", "bool": "boolean", "array": "array", "object": "object",
               "file": "string", "binary": "string"}
_PARTS = {"query": "queryParams", "path": "pathParams", "header": "headers", "body": "body", "form": "body"}
# Values docs generators print in place of a real value (`"content": "string"`, `"id": 0` beside them).
PLACEHOLDER_STRINGS = frozenset({"string", "str", "text", "number", "integer", "boolean", "object", "array", "any",
                                 "null", "value", "example", "..."})
_ANGLE = re.compile(r"<[^<>]{1,60}>|\{\{[^{}]{1,60}\}\}|YOUR_[A-Z_]+")
MAX_DISAGREEMENTS = 5


def _json_type(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    word = text.strip().lower().split("<", 1)[0].split("[", 1)[0].strip()
    if text.strip().endswith("[]"):
        return "array"
    return _JSON_TYPES.get(word)


def _strings(value: Any, depth: int = 0) -> list[str]:
    if depth > 8:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in list(value.values())[:100] for s in _strings(v, depth + 1)]
    if isinstance(value, list):
        return [s for v in value[:50] for s in _strings(v, depth + 1)]
    return []


def is_placeholder(value: Any) -> bool:
    """True when an example holds a docs generator's placeholders instead of real values: a string leaf
    that is a type name (`"string"`) or a template (`<prompt>`, `{{text}}`, `YOUR_KEY`)."""
    return any(s.strip().lower() in PLACEHOLDER_STRINGS or _ANGLE.fullmatch(s.strip()) for s in _strings(value))


def docs_hints(docs: dict[str, Any], method: str) -> dict[str, Any] | None:
    """Hints from index.catalog.docs_match.docs_for's result for one resource, or None when the docs
    give no field, no example body and no output example."""
    method = (method or "GET").upper()
    parts: dict[str, dict[str, Any]] = {}
    for f in docs.get("fields") or []:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        where = _PARTS.get(str(f.get("in") or "")) or ("body" if method in BODY_METHODS else "queryParams")
        if f.get("in") == "cookie":
            continue
        prop: dict[str, Any] = {}
        if (kind := _json_type(f.get("type"))) is not None:
            prop["type"] = kind
        if isinstance(f.get("description"), str) and f["description"]:
            prop["description"] = f["description"]
        prop.update({k: f[k] for k in CONSTRAINT_KEYS if k in f})
        part = parts.setdefault(where, {"type": "object", "properties": {}})
        part["properties"][f["name"]] = prop
        if f.get("required"):
            part.setdefault("required", []).append(f["name"])
    body = docs.get("example_body")
    usable_body = body if isinstance(body, dict) and not is_placeholder(body) and whole_body(body, docs.get("fields")) else None
    output = docs.get("output_example")
    if not parts and usable_body is None and output is None:
        return None
    inp: dict[str, Any] = {"type": "http", "method": method}
    if method in BODY_METHODS and ("body" in parts or usable_body is not None):
        inp["bodyType"] = "json"
        inp["body"] = usable_body if usable_body is not None else {}
    hints: dict[str, Any] = {"source": "docs", "input": inp,
                             "url": docs.get("fields_source_url") or docs.get("example_source_url") or docs.get("output_source_url")}
    if parts:
        hints["input_schema"] = {"type": "object", "properties": parts}
    if output is not None:
        hints["output"] = {"type": "json", "example": output}
    return hints


def whole_body(body: Any, fields: Any) -> bool:
    """False when a docs example cannot be the whole body of one request: a single chat message, or one
    the page's own field table says is incomplete (it requires body fields the example lacks: a curl
    whose -d was split over paragraphs and only partly read). True when neither rule can tell."""
    if is_message(body):
        return False
    required = [f["name"] for f in fields or [] if isinstance(f, dict) and f.get("required")
                and f.get("in") in (None, "body", "form") and isinstance(f.get("name"), str)]
    if body is None or not required:
        return True
    return isinstance(body, dict) and all(name in body for name in required)


def _declared_hints(declared: list[dict[str, Any]]) -> dict[str, Any] | None:
    for d in declared:
        h = d.get("hints")
        if isinstance(h, dict) and isinstance(h.get("input"), dict):
            return h
    return None


def choose_hints(server: dict[str, Any] | None, declared: list[dict[str, Any]],
                 from_docs: dict[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the hints a record publishes, findings): the 402's, else a discovery source's, else the docs'.
    Findings: docs_hints_disagree when docs hints exist beside the winner and differ from it."""
    server = server if isinstance(server, dict) and server.get("input") else None
    chosen = server or _declared_hints(declared) or from_docs or {}
    findings: list[dict[str, Any]] = []
    if from_docs is not None and chosen is not from_docs:
        diffs = disagreements(chosen, from_docs)
        if diffs:
            findings.append(finding("docs_hints_disagree", f"docs {from_docs.get('url') or ''}".strip(),
                                    "; ".join(diffs[:MAX_DISAGREEMENTS])))
        if not chosen.get("output") and from_docs.get("output"):  # the server gave no output example: the docs' fills it
            chosen = {**chosen, "output": from_docs["output"], "output_source": "docs"}
    return chosen, findings


def disagreements(server: dict[str, Any], docs: dict[str, Any]) -> list[str]:
    """Where docs hints contradict the server's declared input schema: a field the docs require that
    the server's schema of that part does not have, or a field typed differently. Parts the server
    declared no schema for are not compared (silence is not disagreement)."""
    out: list[str] = []
    schema = docs.get("input_schema") if isinstance(docs.get("input_schema"), dict) else {}
    for part, doc_part in (schema.get("properties") or {}).items():
        theirs = input_part_schema(server, part)
        if not isinstance(theirs, dict) or not isinstance(theirs.get("properties"), dict):
            continue
        props = theirs["properties"]
        for name, prop in (doc_part.get("properties") or {}).items():
            if name not in props:
                if name in (doc_part.get("required") or []):
                    out.append(f"{part}.{name}: required by the docs, absent from the server's schema")
                continue
            want, have = prop.get("type"), props[name].get("type") if isinstance(props[name], dict) else None
            if want and have and want != have and not (isinstance(have, list) and want in have) \
                    and {want, have} != {"integer", "number"}:
                out.append(f"{part}.{name}: {want} in the docs, {have} in the server's schema")
    return out


def input_fields(hints: dict[str, Any]) -> list[str]:
    """Names of the input's fields, required first: from its declared schema, else its example values."""
    schema = hints.get("input_schema") if isinstance(hints.get("input_schema"), dict) else {}
    required: list[str] = []
    optional: list[str] = []
    for part in (schema.get("properties") or {}).values() if isinstance(schema.get("properties"), dict) else []:
        if isinstance(part, dict) and isinstance(part.get("properties"), dict):
            req = part.get("required") if isinstance(part.get("required"), list) else []
            required += [str(n) for n in part["properties"] if n in req]
            optional += [str(n) for n in part["properties"] if n not in req]
    if not required and not optional:
        inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
        for key in ("body", "queryParams", "pathParams"):
            if isinstance(inp.get(key), dict):
                optional += [str(n) for n in inp[key]]
    return list(dict.fromkeys(required + optional))


def output_keys(hints: dict[str, Any]) -> list[str]:
    output = hints.get("output") if isinstance(hints.get("output"), dict) else {}
    example = output.get("example")
    return [str(k) for k in example][:6] if isinstance(example, dict) else []


def openapi_description(sources: list[dict[str, Any]]) -> str | None:
    """The description an OpenAPI document gives the resource's operation, if a source declared one."""
    for s in sources:
        declared = s.get("declared") if isinstance(s.get("declared"), dict) else {}
        if s.get("kind") == "openapi" and isinstance(declared.get("description"), str):
            return declared["description"]
    return None
