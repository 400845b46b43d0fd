"""How to ask an endpoint for its price: the ordered attempts of one probe, as pure data.

Many x402 servers check the request before the paywall: a GET-only route answers 405 to POST, a
POST route answers 400 or 422 to an empty body. Such an answer is not a dead endpoint; it means "ask
differently". The plan lists the attempts in order; the spider walks it while the server keeps
refusing the request itself, and only when every attempt is refused is the endpoint `unprobeable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.probe.samples import sample_from_schema
from index.protocol.networks import BODY_METHODS

# Answers that refuse the request itself (method, body, parameters), before any paywall.
REFUSED_BEFORE_PAYWALL = frozenset({400, 405, 415, 422})
NO_BODY = object()  # an attempt that sends no body at all (GET, HEAD, DELETE)


@dataclass(frozen=True)
class Attempt:
    method: str
    url: str
    body: Any = NO_BODY  # JSON-able value sent as the request body, or NO_BODY
    why: str = "declared"  # declared | default | post_empty | example_query | example_body | schema_body | get_fallback

    @property
    def has_body(self) -> bool:
        return self.body is not NO_BODY


def body_schema(hints: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema of the request body a source declared (index.protocol.hints keeps it under
    input_schema.properties.body, for bazaar and v1 alike)."""
    return input_part_schema(hints, "body")


def input_part_schema(hints: dict[str, Any], part: str) -> dict[str, Any] | None:
    """The declared JSON Schema of one part of the input (body, queryParams, pathParams, headers)."""
    schema = hints.get("input_schema")
    props = schema.get("properties") if isinstance(schema, dict) else None
    sub = props.get(part) if isinstance(props, dict) else None
    return sub if isinstance(sub, dict) else None


def _examples_are_values(hints: dict[str, Any]) -> bool:
    """Bazaar input carries example values; a v1 outputSchema carries field descriptions instead
    ("string", {"type": ...}), so its samples come from the input schema."""
    return hints.get("source") == "bazaar"


def query_example(hints: dict[str, Any]) -> dict[str, str]:
    inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
    query = inp.get("queryParams") if _examples_are_values(hints) else None
    if not isinstance(query, dict):
        schema = input_part_schema(hints, "queryParams")
        query = sample_from_schema(schema) if schema else None
    if not isinstance(query, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in list(query.items())[:50]
            if isinstance(v, str | int | float) and not isinstance(v, bool)}


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    missing = {k: v for k, v in extra.items() if k not in query}
    if not missing:
        return url
    return urlunsplit(parts._replace(query=urlencode({**query, **missing})))


def probe_plan(url: str, method: str | None = None, body: Any = NO_BODY,
               hints: dict[str, Any] | None = None) -> list[Attempt]:
    """Every attempt worth making for one candidate, in order, without duplicates.

    `method` and `body` are what the candidate's source declared; `hints` are declared input hints
    (normalized as index.protocol.hints does: input.queryParams / input.body examples, input_schema)."""
    hints = hints or {}
    inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
    declared = (method or (inp.get("method") if isinstance(inp.get("method"), str) else None) or "").upper() or None
    first_method = declared or "GET"
    example_body = body if body is not NO_BODY else (inp.get("body", NO_BODY) if _examples_are_values(hints) else NO_BODY)
    schema = body_schema(hints)
    sample = sample_from_schema(schema) if schema else None

    attempts: list[Attempt] = []
    asked: set[tuple[str, str, str]] = set()  # (method, url, repr of the body) of each attempt kept

    def add(attempt: Attempt) -> None:
        key = (attempt.method, attempt.url, repr(attempt.body))
        if key not in asked:
            asked.add(key)
            attempts.append(attempt)

    if first_method in BODY_METHODS:
        add(Attempt(first_method, url, example_body if example_body is not NO_BODY else {}, "declared"))
    else:
        add(Attempt(first_method, url, NO_BODY, "declared" if declared else "default"))
        query = query_example(hints)
        if query:
            add(Attempt(first_method, with_query(url, query), NO_BODY, "example_query"))
    post = first_method if first_method in BODY_METHODS else "POST"
    add(Attempt(post, url, {}, "post_empty"))
    if example_body is not NO_BODY and example_body is not None:
        add(Attempt(post, url, example_body, "example_body"))
    if sample not in (None, {}):
        add(Attempt(post, url, sample, "schema_body"))
    if first_method != "GET":
        add(Attempt("GET", url, NO_BODY, "get_fallback"))
    return attempts


def refused_before_paywall(status: int | None) -> bool:
    """True when an answer refuses the request itself, so another attempt may get the 402."""
    return status in REFUSED_BEFORE_PAYWALL
