"""The example request of a record: which body and query an agent can start from (pure).

Order of trust, first that gives something wins:

1. `bazaar`: the example values the server itself put in its 402 (`extensions.bazaar` info).
2. `docs`: a curl / fetch / requests example on the origin's docs pages that names this endpoint.
3. `openapi`: the example an OpenAPI document (or another discovery source) declared for it.
4. `schema`: a minimal value built from the declared input schema (required fields only).

A v1 `outputSchema` carries field descriptions, not values, so it only ever feeds step 4.

An example that holds a docs generator's placeholders (`"content": "string"`) is kept, since its shape
and its real values (`"model": "gpt-4o"`) still help, and marked `placeholder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from index.catalog.docs_hints import is_placeholder
from index.probe.plan import BODY_METHODS, body_schema, query_example, with_query
from index.probe.samples import sample_from_schema

NO_BODY_REASON = "a {method} request sends no body; parameters go in the query (see example_request.url)"
NOTHING_REASON = "no example from the server, its docs or a discovery source, and no input schema to build one"


@dataclass(frozen=True)
class Example:
    method: str
    url: str
    body: Any
    content_type: str | None
    source: str | None
    null_reason: str | None  # why `body` is None, when it is
    placeholder: bool = False  # the body holds placeholders (index.catalog.docs_hints.is_placeholder)


def _usable(body: Any, hints: dict[str, Any]) -> Any:
    """`body`, unless it is an empty {} or [] beside a declared body schema: the official SDK writes
    `body: {}` when a server declares only a schema, and a server that validates its body refuses it
    before asking for payment; the schema then gives a better example (step 4)."""
    if body in ({}, []) and body_schema(hints):
        return None
    return body


def _bazaar_body(hints: dict[str, Any]) -> Any:
    inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
    return _usable(inp.get("body"), hints) if hints.get("source") == "bazaar" else None


def _declared_body(declared: list[dict[str, Any]]) -> tuple[Any, str | None]:
    for d in declared:
        body = d.get("example_body")
        if body is not None:
            return body, "openapi"
        hints = d.get("hints") if isinstance(d.get("hints"), dict) else {}
        if hints.get("source") in ("bazaar", "openapi"):
            inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
            if _usable(inp.get("body"), hints) is not None:
                return inp["body"], "openapi"
    return None, None


def _schema_body(hints_list: list[dict[str, Any]]) -> Any:
    for hints in hints_list:
        schema = body_schema(hints)
        if schema:
            sample = sample_from_schema(schema)
            if sample not in (None, {}):
                return sample
    return None


def example_request(url: str, method: str, hints: dict[str, Any], docs_body: Any,
                    declared: list[dict[str, Any]]) -> Example:
    """The example request for a resource. `hints` are the live challenge's; `docs_body` is what
    index.catalog.docs_match.docs_for found; `declared` are the sources' `declared` dicts (with their hints and
    example bodies), best source first."""
    method = (method or "GET").upper()
    declared_hints = [d["hints"] for d in declared if isinstance(d.get("hints"), dict)]
    all_hints = [hints, *declared_hints] if hints else declared_hints

    query: dict[str, str] = {}
    query_source = None
    for h in all_hints:
        query = query_example(h)
        if query:
            query_source = "bazaar" if h.get("source") == "bazaar" else ("openapi" if h is not hints else "schema")
            break
    example_url = with_query(url, query) if query else url

    if method not in BODY_METHODS:
        return Example(method, example_url, None, None, query_source, NO_BODY_REASON.format(method=method))

    body, source = _bazaar_body(hints), "bazaar"
    if body is None and docs_body is not None:
        body, source = docs_body, "docs"
    if body is None:
        body, source = _declared_body(declared)
    if body is None:
        body, source = _schema_body(all_hints), "schema"
    if body is None:
        return Example(method, example_url, None, None, None, NOTHING_REASON)
    content_type = "application/json" if not isinstance(body, str) else None
    return Example(method, example_url, body, content_type, source, None, is_placeholder(body))
