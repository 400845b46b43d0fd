"""Issue 21's done-when, end to end: each seed docs page (shared/seeds/001, 003, 004) served on loopback
next to an endpoint whose 402 matches it (no bazaar, no description), crawled once by the CLI; the
record lists the page's fields with their types and required flags, its summary is the page's
description, and its example prompt is a user's words. And a validate-first endpoint whose body
schema is only in its origin's OpenAPI is `paid` after one crawl of the origin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.seed_site import crawl_and_build, picky_site, seed_site, serve


def _body_schema(record: Any) -> dict[str, Any]:
    [accept] = record.accepts
    schema = accept.hints.input_schema or {}
    return schema["properties"]["body"]


def _crawl(case: str, tmp_path: Path) -> Any:
    site, path, _docs = seed_site(case)
    with serve(site):
        [record] = crawl_and_build(site.url, [f"POST {site.url}{path}"], tmp_path)
    return record


@pytest.mark.parametrize(("case", "fields", "required", "summary", "prompt"), [
    ("001", {"model": "string", "messages": "array", "max_tokens": "number"}, ["model", "messages"],
     "OpenAI-compatible chat completions over x402", "Reply with exactly: OK"),
    ("003", {"model": "string", "messages": "array", "temperature": "number", "top_p": "number", "n": "integer",
             "stream": "boolean", "stop": "array", "max_tokens": "integer", "presence_penalty": "number",
             "frequency_penalty": "number", "user": "string"}, ["model", "messages"],
     "Creates a chat completion for the given messages.", "Get chat completions for model gpt-4o."),
])
def test_seed_page_fields_summary_and_prompt_reach_the_record(case: str, fields: dict[str, str], required: list[str],
                                                              summary: str, prompt: str, tmp_path: Path) -> None:
    record = _crawl(case, tmp_path)
    assert record.status == "paid"
    body = _body_schema(record)
    assert {k: v.get("type") for k, v in body["properties"].items()} == fields
    assert body["required"] == required
    [accept] = record.accepts
    assert accept.hints.source == "docs" and accept.hints.url.endswith("/docs" if case == "001" else "/docs/api/chat")
    assert accept.hints.output["example"]["object"] == "chat.completion"
    assert "accepts.hints" in record.derived_fields
    assert record.summary.startswith(summary) and record.summary_source == "docs"
    assert record.example_prompt == prompt
    assert "no_input_schema" not in [f.code for f in record.conformance.findings]
    if case == "003":  # the page's ranges and defaults, and its placeholder example marked as such
        assert body["properties"]["temperature"] == {"type": "number", "description": "Sampling temperature (0.0–2.0).",
                                                          "minimum": 0, "maximum": 2}
        assert body["properties"]["stream"]["default"] is False and body["properties"]["n"]["default"] == 1
        assert record.example_request.placeholder is True


def test_gitbook_page_openapi_include_gives_the_input(tmp_path: Path) -> None:
    """Seed 004 documents its request in `{% openapi src="openapi.yaml" %}`: the include is read as the
    origin's OpenAPI, whose declared hints win over the docs'; the summary is still the page's."""
    record = _crawl("004", tmp_path)
    body = _body_schema(record)
    assert {k: v.get("type") for k, v in body["properties"].items()} == {
        "model": "string", "messages": "array", "stream": "boolean"}
    assert body["required"] == ["model", "messages"]
    [accept] = record.accepts
    assert accept.hints.source == "openapi"
    assert accept.hints.output_source == "docs"  # the OpenAPI gave no 200 example; the page did
    assert record.summary.startswith("The chat completions endpoint provides OpenRouter-compatible LLM inference.")
    assert record.summary_source == "docs"
    assert record.example_prompt == "What is ERC-4337?"  # the user's message, not "You are a helpful assistant."
    assert "openapi" in [s.kind for s in record.sources]


def test_validate_first_endpoint_is_paid_after_one_crawl_of_its_origin(tmp_path: Path) -> None:
    site = picky_site()
    with serve(site):
        records = crawl_and_build(site.url, [site.url + "/"], tmp_path)
    [record] = records
    assert record.status == "paid" and record.terms_source == "probe"
    assert record.summary == "Search the archive" and record.summary_source == "openapi"
    probes = [(m, body) for m, path, body in site.hits if path == "/v1/search"]
    assert ("POST", b"{}") in probes and any(b'"query"' in body for _, body in probes)
    # the 422 to our empty body is not downtime
    day = next(w for w in record.health.windows if w.window == "24h")
    assert day.samples == day.up == 1 and day.uptime_pct == 100.0


def test_a_bare_url_that_is_a_post_route_leaves_one_resource(tmp_path: Path) -> None:
    """Seeded without a method: GET is refused (405), POST refused for its empty body (422); the probe
    is stamped POST, so the OpenAPI's POST with a body re-probes the same resource: one row, paid."""
    from sqlmodel import Session, select

    from index.store.models import Resource
    from index.store.engine import init_db

    site = picky_site()
    del site.routes["/.well-known/x402"]
    with serve(site):
        records = crawl_and_build(site.url, [f"{site.url}/v1/search"], tmp_path)
    assert [(r.method, r.status) for r in records] == [("POST", "paid")]
    with Session(init_db(f"sqlite:///{tmp_path / 'catalog.db'}")) as session:
        rows = session.exec(select(Resource)).all()
    assert [(r.method, r.status) for r in rows] == [("POST", "paid")]
    assert {s["kind"] for s in rows[0].sources} == {"seed", "openapi"}
