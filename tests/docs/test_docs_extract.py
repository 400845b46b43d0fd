"""index.docs.page: what docs pages say about x402 endpoints, read from real pages (tests/fixtures/docs/<case>:
three seed pages as extracted text, one as realistic HTML) and from hostile ones."""

from __future__ import annotations

from tests.support import FIXTURES
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.catalog.docs_match import docs_for, path_score
from index.docs.code_scan import REDACTED
from index.docs.limits import MAX_BODY_BYTES
from index.docs.page import PAGE_KEYS, extract_page
from index.docs.meta import page_meta as extract_meta

FIXTURES = FIXTURES / "docs"
MIB = 1024 * 1024


def page(name: str, url: str, content_type: str | None = "text/plain") -> dict[str, Any]:
    out = extract_page((FIXTURES / name).read_bytes(), url, content_type)
    assert set(out) == set(PAGE_KEYS)
    assert out["failed_stages"] == []
    json.dumps(out, allow_nan=False)  # JSON-able, no NaN
    return out


@pytest.fixture(scope="module")
def agent402_text() -> dict[str, Any]:
    return page("agent402_chat_text/page.txt", "https://agent402.tools/docs")


@pytest.fixture(scope="module")
def agent402_html() -> dict[str, Any]:
    return page("agent402_chat_html/page.html", "https://agent402.tools/docs/chat", "text/html; charset=utf-8")


@pytest.fixture(scope="module")
def aimo() -> dict[str, Any]:
    return page("aimo_chat_text/page.txt", "https://docs.aimo.network/api/chat")


@pytest.fixture(scope="module")
def gitbook() -> dict[str, Any]:
    return page("gitbook_chat_completions/page.md", "https://docs.example.com/api/chat-completions.md", "text/markdown")


# ---------------------------------------------------------------------------------------------
# 001: agent402 (plain text extracted from the page, and the same page as HTML)

AGENT402_BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Reply with exactly: OK"}],
                 "max_tokens": 5}
AGENT402_EXAMPLE = {
    "method": "POST",
    "url": "https://agent402.tools/v1/chat/completions",
    "path": "/v1/chat/completions",
    "headers": {"Content-Type": "application/json"},
    "body": AGENT402_BODY,
    "body_raw": None,
    "source": "curl",
}
AGENT402_FIELDS = [
    {"name": "model", "type": "string", "required": True,
     "description": "Model id — OpenRouter form (openai/gpt-4o-mini) or bare OpenAI form (gpt-4o-mini). "
                    "GET /v1/models lists the allowlist per tier.",
     "in": None, "path": "/v1/chat/completions", "method": "POST"},
    {"name": "messages", "type": "array", "required": True,
     "description": "OpenAI chat messages: [{role, content}] — text and image_url content blocks supported",
     "in": None, "path": "/v1/chat/completions", "method": "POST"},
    {"name": "max_tokens", "type": "number", "required": False,
     "description": "Output token cap (clamped to the tier maximum)",
     "in": None, "path": "/v1/chat/completions", "method": "POST"},
]
AGENT402_DESCRIPTION = "OpenAI-compatible chat completions over x402: pay per call in USDC, no API key, no signup."
AGENT402_RESPONSE = {
    "id": "gen-…", "object": "chat.completion", "created": 1750000000, "model": "openai/gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 1, "total_tokens": 13},
}


def test_agent402_text_curl_example(agent402_text: dict[str, Any]) -> None:
    # The fetch example (payFetch(..., {body: JSON.stringify(...)})) says the same and is folded into it.
    assert agent402_text["examples"] == [AGENT402_EXAMPLE]


def test_agent402_text_fields_response_and_endpoints(agent402_text: dict[str, Any]) -> None:
    assert agent402_text["kind"] == "text"
    assert agent402_text["fields"] == AGENT402_FIELDS
    assert agent402_text["response_fields"] == []
    assert agent402_text["responses"] == [{"method": "POST", "path": "/v1/chat/completions", "status": None,
                                           "error": False, "example": AGENT402_RESPONSE}]
    # "/v1/chat/completionsOpenAI-compatible …": the path glued to the next words is cut at the case change.
    assert _without_description(agent402_text["endpoints"]) == [
        {"method": "POST", "path": "/v1/chat/completions", "url": "https://agent402.tools/v1/chat/completions"},
        {"method": "GET", "path": "/v1/models", "url": None},
        {"method": "POST", "path": "/v1/pro/chat/completions", "url": None},
        {"method": "POST", "path": "/v1/premium/chat/completions", "url": None},
    ]


def test_agent402_no_api_key_is_not_an_auth_alternative(agent402_text: dict[str, Any]) -> None:
    # "pay per call in USDC …, no API key, no signup": a credential mentioned only to say it is not needed.
    assert agent402_text["notes"] == []


def test_agent402_html_reads_like_the_text(agent402_html: dict[str, Any], agent402_text: dict[str, Any]) -> None:
    assert agent402_html["kind"] == "html"
    assert agent402_html["examples"] == [AGENT402_EXAMPLE]
    assert agent402_html["fields"] == AGENT402_FIELDS  # from a <table> with a `*` span marking required
    assert agent402_html["responses"] == agent402_text["responses"]  # from <pre><code> under "Response"
    assert [(e["method"], e["path"]) for e in agent402_html["endpoints"]] == [
        ("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("POST", "/v1/pro/chat/completions")]
    # hidden text ("Partners can also use an API key instead of paying …") is not read
    assert agent402_html["notes"] == []


def test_agent402_html_metadata(agent402_html: dict[str, Any]) -> None:
    p = agent402_html
    assert p["title"] == "agent402 — chat completions over x402"  # og:title first
    assert p["description"] == AGENT402_DESCRIPTION
    assert p["canonical"] == "https://agent402.tools/docs/chat"
    assert p["favicon"] == "https://agent402.tools/static/favicon-32.png"
    assert p["lang"] == "en"
    assert p["opengraph"] == {
        "og:title": "agent402 — chat completions over x402",
        "og:description": "Point any OpenAI SDK at https://agent402.tools/v1 and pay per call in USDC.",
        "og:url": "https://agent402.tools/docs/chat",
        "og:image": "https://agent402.tools/static/og.png",
        "@type": "website",
    }
    assert p["microdata"] == [{"@type": "Offer", "@context": "https://schema.org", "price": "0.002",
                               "priceCurrency": "USDC", "description": "Per call, mini tier"}]


def test_agent402_html_jsonld_keeps_the_good_block(agent402_html: dict[str, Any]) -> None:
    # Three scripts: a good one, a malformed one (extruct 0.18 would drop all of them), an empty one.
    assert agent402_html["jsonld"] == [{
        "@context": "https://schema.org", "@type": "WebAPI", "name": "agent402 chat completions",
        "documentation": "https://agent402.tools/docs/chat",
        "provider": {"@type": "Organization", "name": "agent402", "url": "https://agent402.tools/"},
    }]
    assert agent402_html["jsonld_errors"] == 1  # the empty script is not an error


def test_agent402_html_links(agent402_html: dict[str, Any]) -> None:
    # Same origin, plus docs on a sibling host of the same registrable domain (docs.agent402.tools,
    # marked; GitHub is excluded), no javascript:/mailto:, no link back to this page (#pro), no legal
    # pages or assets, tracking parameters dropped; docs-like kinds first.
    assert agent402_html["links"] == [
        {"url": "https://agent402.tools/llms.txt", "text": "llms.txt", "kind": "llms"},
        {"url": "https://agent402.tools/openapi.json", "text": "OpenAPI", "kind": "openapi"},
        {"url": "https://agent402.tools/docs", "text": "Docs", "kind": "docs"},
        {"url": "https://docs.agent402.tools/guide", "text": "Guide (other host)", "kind": "docs", "sibling": True},
        {"url": "https://agent402.tools/docs/reference/models", "text": "Model reference", "kind": "reference"},
        {"url": "https://agent402.tools/pricing", "text": "Pricing", "kind": "pricing"},
        {"url": "https://agent402.tools/", "text": "agent402", "kind": "other"},
    ]


def test_extract_meta_keeps_its_keys() -> None:
    meta = extract_meta((FIXTURES / "agent402_chat_html" / "page.html").read_bytes(), "https://agent402.tools/docs/chat")
    assert meta == {"title": "agent402 — chat completions over x402",
                    "description": AGENT402_DESCRIPTION,
                    "canonical": "https://agent402.tools/docs/chat",
                    "favicon": "https://agent402.tools/static/favicon-32.png"}
    assert extract_meta("", "https://a.example/") == {"title": None, "description": None, "canonical": None,
                                                      "favicon": None}


# ---------------------------------------------------------------------------------------------
# 003: AIMO (fumadocs-style page: `model*string` field lines, a Sign-In-With-X header)

AIMO_FIELDS = [
    ("model", "string", True, "Model ID to use for the completion (e.g. gpt-4o, claude-sonnet-4)."),
    ("messages", "array", True, "A list of messages comprising the conversation so far."),
    ("temperature", "number", False, "Sampling temperature (0.0–2.0)."),
    ("top_p", "number", False, "Nucleus sampling parameter."),
    ("n", "integer", False, "Number of completions to generate."),
    ("stream", "boolean", False, "Whether to stream partial responses using SSE."),
    ("stop", "array", False, "Up to 4 sequences where the API will stop generating."),  # `stop?|array<>`
    ("max_tokens", "integer", False, "Maximum number of tokens to generate."),
    ("presence_penalty", "number", False, "Presence penalty (-2.0 to 2.0)."),
    ("frequency_penalty", "number", False, "Frequency penalty (-2.0 to 2.0)."),
    ("user", "string", False, "A unique identifier representing your end-user."),
]


def test_aimo_example(aimo: dict[str, Any]) -> None:
    # One line in the extracted text: `\  -H` continuations, a double-quoted URL, a single-quoted body.
    assert aimo["examples"] == [{
        "method": "POST",
        "url": "https://beta.aimo.network/api/v1/chat/completions",
        "path": "/api/v1/chat/completions",
        "headers": {"Content-Type": "application/json"},
        "body": {"model": "gpt-4o", "messages": [{"role": "system", "content": "string"}]},
        "body_raw": None,
        "source": "curl",
    }]


def test_aimo_fields(aimo: dict[str, Any]) -> None:
    # Constraint lines (`Range0 <= value <= 2`, `Default1`, `Defaultfalse`) are not descriptions.
    assert [(f["name"], f["type"], f["required"], f["description"]) for f in aimo["fields"]] == AIMO_FIELDS
    # `POST` and `/chat/completions` on two lines name the endpoint the fields belong to
    assert {(f["method"], f["path"]) for f in aimo["fields"]} == {("POST", "/chat/completions")}


def test_aimo_responses_and_notes(aimo: dict[str, Any]) -> None:
    success, error = aimo["responses"]  # the second error body is the same as the first
    assert (success["status"], success["error"], error["error"]) == (None, False, True)
    assert success["example"]["object"] == "chat.completion"
    assert success["example"]["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert error["example"] == {"error": {"code": "string", "message": "string"}}
    # the Sign-In-With-X envelope (followed by `In: header`) is a header's value, not a response
    assert all("signature" not in json.dumps(r["example"]) for r in aimo["responses"])
    assert aimo["notes"] == [{
        "kind": "auth_alternative",
        "text": "Sign-In-With-X<token> Base64-encoded JSON envelope containing a CAIP-122 sign-in message "
                "and its cryptographic signature.",
    }]
    assert _without_description(aimo["endpoints"]) == [
        {"method": "POST", "path": "/chat/completions", "url": None},
        {"method": "POST", "path": "/api/v1/chat/completions", "url": "https://beta.aimo.network/api/v1/chat/completions"},
    ]


# ---------------------------------------------------------------------------------------------
# 004: GitBook markdown (JWT bypass, two curl examples with a bearer token, a response-field table)


def test_gitbook_examples_redact_the_bearer_token(gitbook: dict[str, Any]) -> None:
    assert gitbook["examples"] == [
        {"method": "POST", "url": "https://api.example.com/v1/chat/completions", "path": "/v1/chat/completions",
         "headers": {"Content-Type": "application/json", "Authorization": REDACTED},
         "body": {"model": "anthropic/claude-3.5-sonnet",
                  "messages": [{"role": "system", "content": "You are a helpful assistant."},
                               {"role": "user", "content": "What is ERC-4337?"}],
                  "temperature": 0.7, "max_tokens": 1024},
         "body_raw": None, "source": "curl"},
        {"method": "POST", "url": "https://api.example.com/v1/chat/completions", "path": "/v1/chat/completions",
         "headers": {"Content-Type": "application/json", "Authorization": REDACTED},
         "body": {"model": "anthropic/claude-3.5-sonnet", "messages": [{"role": "user", "content": "Hello!"}],
                  "stream": True},
         "body_raw": None, "source": "curl"},
    ]
    assert "jwt-token" not in json.dumps(gitbook)


def test_gitbook_fields_are_response_fields(gitbook: dict[str, Any]) -> None:
    # "Chunk Fields" sits under "## Streaming Response": what comes back, not what to send.
    assert gitbook["fields"] == []
    assert [(f["name"], f["type"]) for f in gitbook["response_fields"]] == [
        ("id", "string"), ("object", "string"), ("created", "number"), ("model", "string"),
        ("choices[].delta.role", "string"), ("choices[].delta.content", "string"),
        ("choices[].finish_reason", "string | null"), ("usage", "object")]
    # the "Tool Choice" table (Value | Description) is no field table
    assert "none" not in json.dumps([f["name"] for f in gitbook["response_fields"]])


def test_gitbook_responses_notes_and_meta(gitbook: dict[str, Any]) -> None:
    assert [(r["status"], r["error"]) for r in gitbook["responses"]] == [(None, False), (400, True), (429, True)]
    assert gitbook["responses"][0]["example"]["choices"][0]["message"]["content"].startswith("ERC-4337 is")
    assert {(r["method"], r["path"]) for r in gitbook["responses"]} == {("POST", "/v1/chat/completions")}
    assert gitbook["notes"] == [
        {"kind": "auth_alternative", "text": "Authorized users with a valid JWT token can bypass the payment step."},
        {"kind": "auth_alternative",
         "text": "JWT Token -- Pass a valid JWT (obtained from the authorization endpoint) to bypass payment."},
    ]
    # `{% openapi … path="/v1/chat/completions" method="post" %}` and the curls name one endpoint
    assert _without_description(gitbook["endpoints"]) == [{"method": "POST", "path": "/v1/chat/completions",
                                     "url": "https://api.example.com/v1/chat/completions"}]
    assert gitbook["kind"] == "markdown"
    assert gitbook["title"] == "Chat Completions"
    assert gitbook["description"] == ("The chat completions endpoint provides OpenRouter-compatible LLM inference. "
                                      "It supports both streaming (Server-Sent Events) and non-streaming (JSON) "
                                      "responses.")
    assert gitbook["links"] == [{"url": "https://docs.example.com/api/openapi.yaml", "text": "OpenAPI", "kind": "openapi"},
                                {"url": "https://docs.example.com/api/authentication.md",
                                 "text": "authorization endpoint", "kind": "docs"}]


# ---------------------------------------------------------------------------------------------
# docs_for: several pages about one resource


def test_docs_for_merges_pages(agent402_text: dict[str, Any], agent402_html: dict[str, Any],
                               gitbook: dict[str, Any]) -> None:
    merged = docs_for([agent402_html, gitbook, agent402_text], "/v1/chat/completions", "post")
    assert merged["example_body"] == AGENT402_BODY
    assert merged["example_source_url"] == "https://agent402.tools/docs/chat"
    assert [(f["name"], f["type"], f["required"]) for f in merged["fields"]] == [
        ("model", "string", True), ("messages", "array", True), ("max_tokens", "number", False)]
    assert merged["output_example"] == AGENT402_RESPONSE
    assert [n["kind"] for n in merged["notes"]] == ["auth_alternative", "auth_alternative"]  # from the GitBook page
    # another order, another first page
    assert docs_for([gitbook, agent402_html], "/v1/chat/completions", "POST")["example_body"]["temperature"] == 0.7


NOTHING_FOUND = {"fields_source_url": None, "output_source_url": None, "description": None, "description_source_url": None}


def test_docs_for_base_url_tail_and_method(aimo: dict[str, Any]) -> None:
    merged = docs_for([aimo], "https://beta.aimo.network/api/v1/chat/completions", "POST")
    assert merged["example_body"] == {"model": "gpt-4o", "messages": [{"role": "system", "content": "string"}]}
    assert [f["name"] for f in merged["fields"]] == [name for name, *_ in AIMO_FIELDS]  # /chat/completions: a tail
    assert merged["output_example"]["object"] == "chat.completion"  # the success example, not the error
    assert merged["notes"][0]["text"].startswith("Sign-In-With-X")
    assert docs_for([aimo], "/api/v1/chat/completions", "GET") == {
        "example_body": None, "example_source_url": None, "fields": [], "output_example": None, "notes": [],
        **NOTHING_FOUND}
    assert docs_for([aimo], "/v1/other", "POST")["fields"] == []


def test_docs_for_path_templates() -> None:
    text = b"""## GET /users/{id}

| Name | Type | Required | Description |
|------|------|----------|-------------|
| id | string | yes | The user id |
| expand | boolean | no | Include related objects |

## POST /users/:id/notes

curl -X POST https://api.example.com/users/:id/notes -d '{"text": "hi"}'
"""
    extract = extract_page(text, "https://docs.example.com/users", "text/markdown")
    assert [(f["name"], f["required"], f["path"]) for f in extract["fields"]] == [
        ("id", True, "/users/{id}"), ("expand", False, "/users/{id}")]
    assert [f["name"] for f in docs_for([extract], "/users/42", "GET")["fields"]] == ["id", "expand"]
    assert docs_for([extract], "/users/42/notes", "POST")["example_body"] == {"text": "hi"}
    assert docs_for([extract], "/users/42/notes", "GET")["example_body"] is None
    assert path_score("/users/{id}", "/users/42") == 2
    assert path_score("/users/42", "/users/42/") == 3
    assert path_score("/chat/completions", "/api/v1/chat/completions") == 1
    assert path_score("/users/:id", "/teams/42") == 0


def test_docs_for_tolerates_junk() -> None:
    junk: list[Any] = [None, 42, {"examples": [None, {"path": 5}], "fields": "x", "notes": [1]}, {}]
    assert docs_for(junk, "/x", "GET") == {"example_body": None, "example_source_url": None, "fields": [],
                                           "output_example": None, "notes": [], **NOTHING_FOUND}


# ---------------------------------------------------------------------------------------------
# other shapes: fetch and requests examples, bullets, definition lists, notes


def test_other_example_shapes_and_notes() -> None:
    md = b"""# Search API

The first 100 requests per day are free. Rate limited to 60 requests per minute per wallet.
Subscribers can also use an API key instead of paying per request.

## POST /v1/search

### Body parameters

- `q` (string, required): the query
- **limit** (integer, optional) - max results

```python
resp = requests.post("https://api.search.example/v1/search", json={"q": "x402", "safe": True, "lang": None},
                     headers={"X-API-Key": "sk_live_abc123", "Accept": "application/json"})
```

```js
const url = "https://api.search.example/v1/search?api_key=sekrit&page=1";
const payload = { q: 'x402', limit: 5, };
await fetch(url, { method: 'POST', headers: { Authorization: 'Bearer tok_999' }, body: JSON.stringify(payload) });
```
"""
    p = extract_page(md, "https://search.example/docs/api.md", None)
    assert p["kind"] == "markdown"
    python, fetch = p["examples"]
    assert python == {"method": "POST", "url": "https://api.search.example/v1/search", "path": "/v1/search",
                      "headers": {"X-API-Key": REDACTED, "Accept": "application/json"},
                      "body": {"q": "x402", "safe": True, "lang": None}, "body_raw": None, "source": "python"}
    assert fetch == {"method": "POST", "url": "https://api.search.example/v1/search?api_key=REDACTED&page=1",
                     "path": "/v1/search", "headers": {"Authorization": REDACTED}, "body": {"q": "x402", "limit": 5},
                     "body_raw": None, "source": "fetch"}
    assert [(f["name"], f["type"], f["required"], f["description"]) for f in p["fields"]] == [
        ("q", "string", True, "the query"), ("limit", "integer", False, "max results")]
    assert p["notes"] == [
        {"kind": "free_tier", "text": "The first 100 requests per day are free."},
        {"kind": "rate_limit", "text": "Rate limited to 60 requests per minute per wallet."},
        {"kind": "auth_alternative", "text": "Subscribers can also use an API key instead of paying per request."},
    ]
    dumped = json.dumps(p)
    assert "sk_live_abc123" not in dumped and "sekrit" not in dumped and "tok_999" not in dumped


def test_json_blocks_under_request_and_response_headings() -> None:
    md = b"""## POST /v1/jobs

### Request body

```json
{"url": "https://example.com", "depth": 2}
```

### Response (201)

```json
{"id": "job_1", "status": "queued"}
```
"""
    p = extract_page(md, "https://docs.example.com/jobs", "text/markdown")
    assert p["examples"] == [{"method": "POST", "url": None, "path": "/v1/jobs", "headers": {},
                              "body": {"url": "https://example.com", "depth": 2}, "body_raw": None,
                              "source": "json"}]
    assert p["responses"] == [{"method": "POST", "path": "/v1/jobs", "status": 201, "error": False,
                               "example": {"id": "job_1", "status": "queued"}}]
    merged = docs_for([p], "/v1/jobs", "POST")
    assert (merged["example_body"], merged["output_example"]) == (
        {"url": "https://example.com", "depth": 2}, {"id": "job_1", "status": "queued"})


def test_html_definition_list_and_bullets() -> None:
    html = b"""<html><body><h2>POST /v1/index</h2><h3>Parameters</h3><dl>
<dt><code>url</code> <span>string</span> <span>required</span></dt><dd>Page to index.</dd>
<dt><code>depth</code></dt><dd>(integer) How deep.</dd></dl>
<ul><li><code>tags</code> (array&lt;string&gt;) - labels</li></ul></body></html>"""
    p = extract_page(html, "https://x.example/docs", None)  # no content type: sniffed as HTML
    assert p["kind"] == "html"
    assert [(f["name"], f["type"], f["required"], f["description"], f["path"]) for f in p["fields"]] == [
        ("url", "string", True, "Page to index.", "/v1/index"),
        ("depth", "integer", False, "How deep.", "/v1/index"),
        ("tags", "array<string>", False, "labels", "/v1/index"),
    ]


def test_highlighted_code_blocks_keep_their_lines() -> None:
    # Docusaurus ends each line of a <pre> with <br>; other highlighters wrap each line in a <div>.
    html = b"""<html><body><h2>POST /v1/run</h2>
<pre class="prism-code"><code><span class="token-line">curl -X POST https://a.example/v1/run \\<br></span>\
<span class="token-line">  -H 'Content-Type: application/json' -d '{"a": 1}'<br></span></code></pre>
<h3>Response</h3>
<pre><code><div class="line">{</div><div class="line">  "ok": true</div><div class="line">}</div></code></pre>
</body></html>"""
    p = extract_page(html, "https://a.example/docs", "text/html")
    assert [(e["method"], e["url"], e["headers"], e["body"]) for e in p["examples"]] == [
        ("POST", "https://a.example/v1/run", {"Content-Type": "application/json"}, {"a": 1})]
    assert p["responses"] == [{"method": "POST", "path": "/v1/run", "status": None, "error": False,
                               "example": {"ok": True}}]


# ---------------------------------------------------------------------------------------------
# hostile pages


def test_malformed_jsonld_next_to_a_good_one() -> None:
    html = b"""<html><head>
<script type="application/ld+json">{"@type": "WebAPI", "name": "good"}</script>
<script type="application/ld+json">{"@type": "Thing", "name": </script>
<script type="application/ld+json">[1, {"@type": "Offer", "price": "0.01"}]</script>
<script type="application/ld+json">DEEP</script>
<script type="application/ld+json">{"@type": "Thing", "description": "line one
line two", "n": NaN}</script>
</head><body></body></html>""".replace(b"DEEP", b"[" * 140 + b"]" * 140)  # deeper than safe_json_loads allows
    p = extract_page(html, "https://a.example/", "text/html")
    assert p["jsonld"][:2] == [{"@type": "WebAPI", "name": "good"}, {"@type": "Offer", "price": "0.01"}]
    assert p["jsonld"][2] == {"@type": "Thing", "description": "line one line two", "n": None}  # NaN is not JSON
    assert p["jsonld_errors"] == 2
    json.dumps(p, allow_nan=False)


def test_links_are_http_same_origin_only() -> None:
    html = b"""<html><body>
<a href="javascript:alert(1)">Docs</a><a href=" JaVaScRiPt:alert(1)">API</a><a href="java\tscript:x">docs</a>
<a href="data:text/html,hi">Pricing</a><a href="vbscript:x">Docs</a><a href="//evil.example/docs">Docs</a>
<a href="https://evil.example/docs">Docs</a><a href="http://a.example:8080/docs">Docs</a>
<a href="https://a.example/docs/start">Get started</a><a href="/api/llms-full.txt">LLMs</a>
<a href="http://[::1">broken</a><a href="https://a.example:99999/x">bad port</a>
</body></html>"""
    p = extract_page(html, "https://a.example/", "text/html")
    assert p["links"] == [
        {"url": "https://a.example/api/llms-full.txt", "text": "LLMs", "kind": "llms"},
        {"url": "https://a.example/docs/start", "text": "Get started", "kind": "docs"},
    ]


def test_control_and_bidi_characters_are_cleaned() -> None:
    html = ("<html><head><title>Pay\u202e\u200b me\x07</title></head><body>"
            "<h2>POST /v1/x</h2><table><tr><th>Field</th><th>Type</th><th>Description</th></tr>"
            "<tr><td>q\u2066</td><td>string</td><td>the\u202e query\u0000</td></tr></table>"
            "<p>Use an API\u200b key instead of paying\u202e per call.</p>"
            "<pre>curl -H 'X-Note: a\u202eb' https://a.example/v1/x -d '{\"k\": \"v\\u202e\"}'</pre>"
            "</body></html>").encode()
    p = extract_page(html, "https://a.example/docs", "text/html")
    assert p["title"] == "Pay me"
    assert [(f["name"], f["description"]) for f in p["fields"]] == [("q", "the query")]
    assert p["notes"] == [{"kind": "auth_alternative", "text": "Use an API key instead of paying per call."}]
    assert p["examples"][0]["headers"] == {"X-Note": "ab"}
    assert p["examples"][0]["body"] == {"k": "v"}  # an escaped bidi override inside JSON is cleaned too
    dumped = json.dumps(p, ensure_ascii=False)
    assert not any(ch in dumped for ch in "\u202e\u200b\u2066\x07\x00")


def test_curl_secrets_are_redacted() -> None:
    text = b"""curl -sS -X POST 'https://api.example.com/v1/run?api_key=k-123&x=1' \\
  -H 'Authorization: Bearer sk-live-secret-1' -H "X-API-Key: secret-2" -H 'Cookie: sid=secret-3' \\
  -H 'PAYMENT-SIGNATURE: secret-4' -H 'Accept: */*' -u alice:secret-5 --data-raw '{"prompt": "hi"}'
"""
    p = extract_page(text, "https://docs.example.com/", "text/plain")
    (example,) = p["examples"]
    assert example["headers"] == {"Authorization": REDACTED, "X-API-Key": REDACTED, "Cookie": REDACTED,
                                  "PAYMENT-SIGNATURE": REDACTED, "Accept": "*/*"}
    assert example["url"] == "https://api.example.com/v1/run?api_key=REDACTED&x=1"
    assert (example["method"], example["body"]) == ("POST", {"prompt": "hi"})
    assert "secret" not in json.dumps(p) and "k-123" not in json.dumps(p)


def test_curl_variants() -> None:
    text = b"""$ curl https://api.example.com/v1/a
curl -XPUT https://api.example.com/v1/b --json '{"a": 1}'
curl -G https://api.example.com/v1/c -d q=1
curl -I https://api.example.com/v1/d
curl "$BASE_URL/v1/e/{id}" -d 'plain text body'
curl --url https://api.example.com/v1/f --data @body.json
Use curl to call the API.
"""
    p = extract_page(text, "https://docs.example.com/", None)
    got = [(e["method"], e["url"], e["path"], e["body"], e["body_raw"]) for e in p["examples"]]
    assert got == [
        ("GET", "https://api.example.com/v1/a", "/v1/a", None, None),
        ("PUT", "https://api.example.com/v1/b", "/v1/b", {"a": 1}, None),
        ("GET", "https://api.example.com/v1/c", "/v1/c", None, None),
        ("HEAD", "https://api.example.com/v1/d", "/v1/d", None, None),
        ("POST", None, "/v1/e/{id}", None, "plain text body"),
        ("POST", "https://api.example.com/v1/f", "/v1/f", None, "@body.json"),
    ]


PATHOLOGICAL = {
    "pipes": "| | |\n" * (MIB // 6),
    "one_line_of_pipes": "|" * MIB,
    "field_table": "| Field | Type | Description |\n" + "a * | string | x |\n" * (MIB // 19),
    "open_brackets": "[" * MIB,
    "nested_brackets": "[" * (MIB // 2) + "]" * (MIB // 2),
    "brace_lines": "{\n" * (MIB // 2),
    "json_prefix": '{"a":' * (MIB // 5),
    "quote_lines": '{"\n' * (MIB // 3),
    "spaces": " " * MIB,
    "name_then_spaces": "- a" + " " * MIB + "(",
    "curls": "curl " * (MIB // 5),
    "curl_quotes": "curl '" + "x" * MIB,
    "fetch_calls": 'fetch("https://a.example/x", {' * (MIB // 30),
    "requests_calls": "requests.post(" * (MIB // 14),
    "methods": "GET /" * (MIB // 5),
    "method_lines": "POST\n" * (MIB // 5),
    "digits": "1" * MIB,
    "markdown_links": "[" * (MIB // 2) + "](" * (MIB // 4),
    "fences": "```\n" * (MIB // 4),
    "headings": "# Request\n## Response\n" * (MIB // 22),
    "field_lines": "model*string\n" * (MIB // 13),
    "definitions": "a string\n: b\n" * (MIB // 13),
    "sentences": "Use an API key instead of paying. " * (MIB // 34),
    "backslashes": "\\" * MIB,
    "bidi": "\u202e\u200b" * (MIB // 2),
}
PATHOLOGICAL_HTML = {
    "divs": "<div>" * (MIB // 5),
    "tables": "<table><tr><td>" * (MIB // 15),
    "links": '<a href="/docs/x">docs</a>' * (MIB // 25),
    "itemscopes": '<div itemscope itemtype="https://schema.org/Thing">' * (MIB // 50),
    "jsonld": '<script type="application/ld+json">{"a":' + "[" * (MIB // 2) + "</script>",
    "pre_brackets": "<pre>" + "{" * MIB + "</pre>",
    "nul": "<p>\x00\x01" * (MIB // 5),
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", [*PATHOLOGICAL, *(f"html:{k}" for k in PATHOLOGICAL_HTML)])
def test_pathological_pages_return(name: str) -> None:
    """A megabyte of hostile text comes back as a normal page (about a second at most on a laptop;
    the bound asserted is generous so the test is not a timing test)."""
    html = name.startswith("html:")
    text = PATHOLOGICAL_HTML[name[5:]] if html else PATHOLOGICAL[name]
    started = time.monotonic()
    p = extract_page(text.encode("utf-8"), "https://a.example/docs", "text/html" if html else "text/plain")
    elapsed = time.monotonic() - started
    assert set(p) == set(PAGE_KEYS) and p["failed_stages"] == []
    assert len(p["links"]) <= 50 and len(p["examples"]) <= 20 and len(p["fields"]) <= 100
    json.dumps(p, allow_nan=False)
    assert elapsed < 30, elapsed


def test_oversized_and_odd_inputs() -> None:
    big = b"curl https://a.example/v1/x\n" + b"x" * (MAX_BODY_BYTES + 10)
    p = extract_page(big, "https://a.example/", "text/plain")
    assert p["truncated"] is True and p["examples"][0]["path"] == "/v1/x"
    for body, url, ctype in [(b"", "https://a.example/", "text/html"), (b"\xff\xfe\x00<", "not a url", None),
                             (b"<html>" * 3, "", "application/xhtml+xml; charset=bogus"),
                             ("str body: GET /v1/y", "https://a.example/", "text/plain"),
                             (b"\xef\xbb\xbf<!DOCTYPE html><title>t</title>", "https://a.example/",
                              "application/octet-stream")]:
        p = extract_page(body, url, ctype)
        assert set(p) == set(PAGE_KEYS) and p["failed_stages"] == []
        json.dumps(p, allow_nan=False)
    assert _without_description(extract_page("str body: GET /v1/y", "https://a.example/", None)["endpoints"]) == [
        {"method": "GET", "path": "/v1/y", "url": None}]
    assert extract_page(b"\xef\xbb\xbf<!DOCTYPE html><title>t</title>", "https://a.example/", None)["title"] == "t"


_PIECES = st.sampled_from([
    "curl ", "-X ", "POST ", "GET ", "/v1/x", "https://a.example/p", " -d '", '{"a": ', "[", "]", "{", "}", '"', "'",
    "\\\n", "\n", "\n\n", "| ", "Field | Type |", "|---|", "model*string", "# ", "## Response", "Request Body",
    "```", "```json\n", ": ", "- ", "(string, required)", "api key instead", "free", "100 requests per day",
    "fetch(", "requests.post(", "json=", "body: JSON.stringify(", "<", ">", "\u202e", "\x00", "In: header", "`",
    "Sign-In-With-X", "{% openapi path=\"/a\" method=\"post\" %}", "Default1", "\\", "$BASE/v1/", " ",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60), st.sampled_from(["text/plain", "text/markdown", "text/html", None]))
def test_fuzz_never_raises(pieces: list[str], ctype: str | None) -> None:
    p = extract_page("".join(pieces).encode("utf-8"), "https://a.example/docs", ctype)
    assert set(p) == set(PAGE_KEYS)
    assert p["failed_stages"] == []  # no stage fell back: a stage raising would be a bug
    json.dumps(p, allow_nan=False)
    docs_for([p], "/v1/x", "POST")


def _without_description(endpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Endpoints as compared before they carried their section's description (tests/test_docs_sections.py checks those)."""
    return [{k: v for k, v in e.items() if k != "description"} for e in endpoints]
