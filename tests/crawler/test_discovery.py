"""Discovery sources as pure functions: well-known manifests, OpenAPI, llms.txt, facilitator pages,
and declared terms checked against a live challenge (index.protocol.declared)."""

from __future__ import annotations

from tests.support import FIXTURES
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.discovery import Discovered, resolve_url
from crawler.discovery.facilitator import (
    MAX_PAGES,
    discovery_url,
    next_offset,
    parse_discovery_page,
    parse_discovery_response,
)
from crawler.discovery.llms import LLMS_PATH, parse_llms_txt
from crawler.discovery.openapi import OPENAPI_PATHS, parse_openapi
from crawler.discovery.openapi_load import MAX_DOCUMENT_BYTES
from crawler.discovery.openapi_payment import payment_declared
from crawler.discovery.wellknown import WELL_KNOWN_PATHS, parse_well_known
from index.protocol.declared import compare_declared
from index.findings import CODES
from index.untrusted import iso_utc

FIXTURES = FIXTURES / "discovery"
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
OTHER_PAY_TO = "0x1111111111111111111111111111111111111111"


def document(case: str) -> bytes:
    """The document of a golden discovery case (tests/fixtures/discovery/<case>/document)."""
    return (FIXTURES / case / "document").read_bytes()


def fixture_json(case: str) -> Any:
    return json.loads(document(case))


def codes(found: Discovered) -> list[str]:
    return [f["code"] for f in found.findings]


def by_url(found: Discovered) -> dict[str, dict[str, Any]]:
    return {c["url"]: dict(c) for c in found.candidates}


def assert_sane(found: Discovered) -> None:
    """Every result is plain JSON, uses registered codes, and never hides an internal error."""
    assert isinstance(found, Discovered)
    json.dumps([found.candidates, found.docs_links, found.findings, found.info], allow_nan=False)
    assert all(f["code"] in CODES for f in found.findings)
    assert not any("internal error" in (f.get("detail") or "") for f in found.findings), found.findings


# ---------------------------------------------------------------------------------------------
# shared helpers


def test_paths_are_the_conventional_ones() -> None:
    assert WELL_KNOWN_PATHS == ("/.well-known/x402", "/.well-known/x402.json")
    assert OPENAPI_PATHS == ("/openapi.json", "/openapi.yaml")
    assert LLMS_PATH == "/llms.txt"


@pytest.mark.parametrize(("value", "expected"), [
    (1754701624, "2025-08-09T01:07:04Z"),  # epoch seconds
    (1754701624005, "2025-08-09T01:07:04.005Z"),  # epoch milliseconds, told apart by magnitude
    (1754701624.5, "2025-08-09T01:07:04.500Z"),
    ("1754701624", "2025-08-09T01:07:04Z"),
    ("2025-08-09T01:07:04.005Z", "2025-08-09T01:07:04.005Z"),
    ("2025-08-09T03:07:04+02:00", "2025-08-09T01:07:04Z"),
    ("2025-08-09T01:07:04", "2025-08-09T01:07:04Z"),  # no offset: read as UTC
    ("yesterday", None), (-5, None), (float("nan"), None), (1e300, None), (True, None), (None, None), ({}, None),
])
def test_iso_utc(value: Any, expected: str | None) -> None:
    assert iso_utc(value) == expected


@pytest.mark.parametrize(("ref", "expected"), [
    ("/a/b", "https://o.example/a/b"),
    ("c", "https://o.example/dir/c"),
    ("https://x.example/y#frag", "https://x.example/y"),
    ("//x.example", "https://x.example/"),
    ("https://user:pw@o.example/a", None),
    ("javascript:alert(1)", None),
    ("ftp://o.example/a", None),
    ("https://o.example:99999/a", None),
    ("https://o.example/a b", None),
    ("/\\evil.example/x", None),
    ("https://o.example/\x00", None),
    ("", None), (None, None), ("h" * 5000, None),
])
def test_resolve_url(ref: Any, expected: str | None) -> None:
    assert resolve_url(ref, "https://o.example/dir/page") == expected


# ---------------------------------------------------------------------------------------------
# well-known


def test_well_known_resource_list() -> None:
    page = "https://shop.example/.well-known/x402"
    found = parse_well_known(fixture_json("well_known_list"), page)
    assert_sane(found)
    assert [(c["method"], c["url"]) for c in found.candidates] == [
        (None, "https://shop.example/api/weather"),
        ("POST", "https://shop.example/api/search"),  # "METHOD /path", relative to the page
        (None, "https://shop.example/.well-known/api/relative"),  # relative path, against the page URL
        ("PUT", "https://shop.example/api/translate"),
    ]
    assert by_url(found)["https://shop.example/api/translate"]["body"] == {"text": "hola"}
    assert all(c["source"] == {"kind": "well_known", "url": page} for c in found.candidates)
    cross = [f for f in found.findings if f["code"] == "cross_origin_entry"]
    assert [(f["where"], f["detail"]) for f in cross] == [
        ("resources[3]", "https://evil.example/api/steal"),
        ("resources[4]", "https://api.shop.example/v1/other-host"),  # a subdomain is another origin
    ]
    assert all(f["severity"] == "warning" for f in cross)
    assert found.info == {"version": 1, "instructions": "Pay with USDC on Base. Bodies are JSON.",
                          "ownership_proofs": ["0x5f1b5a0c0ffee"], "entries_truncated": 0, "invalid_entries": 2,
                          "templated_skipped": 0}


def test_well_known_draft_items() -> None:
    page = "https://shop.example/.well-known/x402.json"
    found = parse_well_known(fixture_json("well_known_items"), page)
    assert_sane(found)
    cands = by_url(found)
    assert set(cands) == {"https://shop.example/api/search", "https://shop.example/api/quote", "https://shop.example/mcp"}

    search = cands["https://shop.example/api/search"]
    assert search["method"] == "POST"
    assert search["hints"]["input"] == {"type": "http", "method": "POST", "bodyType": "json", "body": {"q": "x402"}}
    assert search["hints"]["route_template"] == "/api/search"
    assert search["declared"]["x402_version"] == 2
    assert search["declared"]["last_updated"] == "2026-03-01T10:00:00Z"  # the manifest's, as the item has none
    [acc] = search["declared"]["accepts"]
    terms = (acc["network_caip2"], acc["amount_atomic"], acc["asset"], acc["pay_to"])
    assert terms == ("eip155:8453", "10000", BASE_USDC, PAY_TO)

    quote = cands["https://shop.example/api/quote"]
    assert quote["method"] == "GET"
    assert quote["declared"]["last_updated"] == "2026-01-01T00:00:00Z"  # its own epoch number
    assert quote["declared"]["accepts"][0]["network_caip2"] == "eip155:8453"  # v1 name and field, read anyway

    mcp = cands["https://shop.example/mcp"]
    assert mcp["method"] == "POST" and mcp["declared"]["type"] == "mcp" and mcp["declared"]["tool"] == "get_forecast"
    assert mcp["body"] == {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": "get_forecast", "arguments": {"city": "Lisbon"}}}

    assert [(f["code"], f["where"], f["detail"]) for f in found.findings] == [
        ("cross_origin_entry", "items[2]", "https://elsewhere.example/api/search")]
    assert found.info["invalid_entries"] == 1  # the ftp item


def test_well_known_caps_entries() -> None:
    doc = {"version": 1, "resources": [f"/api/r{i}" for i in range(1500)]}
    found = parse_well_known(doc, "https://o.example/.well-known/x402")
    assert len(found.candidates) == 1000
    assert found.info["entries_truncated"] == 500


@pytest.mark.parametrize("doc", [None, [], "text", 3, {"resources": "nope"}, {"items": [None, 1, "", []]},
                                 {"resources": [{"url": 5}, {"url": "POST "}, {"method": "GET"}, "mailto:a@b.c", "http://"]},
                                 {"version": True, "instructions": 5, "ownershipProofs": {"a": 1}}])
def test_well_known_hostile_shapes(doc: Any) -> None:
    found = parse_well_known(doc, "https://o.example/.well-known/x402")
    assert_sane(found)
    assert found.candidates == []


# ---------------------------------------------------------------------------------------------
# OpenAPI


def test_openapi_json_paid_operations() -> None:
    page = "https://shop.example/openapi.json"
    found = parse_openapi(document("openapi_json_payment_info"), page)
    assert_sane(found)
    assert found.findings == []
    cands = by_url(found)
    assert [(c["method"], c["url"]) for c in found.candidates] == [
        ("POST", "https://shop.example/v1/search"),
        ("POST", "https://shop.example/v1/generate"),
        ("GET", "https://shop.example/v1/quote"),
        ("GET", "https://shop.example/v1/items/42"),  # path variable filled from a $ref'd parameter's example
        ("POST", "https://shop.example/v1/loop"),
        ("PUT", "https://shop.example/v1/remote"),
    ]  # /free is not paid; /users/{id} has no example for {id}
    assert found.info["templated_skipped"] == 1
    assert found.info["title"] == "Shop API" and found.info["description"] == "Paid data endpoints."
    assert found.info["external_docs"] == "https://shop.example/docs/index.html"
    assert found.info["guidance"] == "Call /v1/search with a JSON body."
    assert found.info["ownership_proofs"] == ["0xproof"]
    assert found.docs_links == ["https://shop.example/docs/index.html"]

    search = cands["https://shop.example/v1/search"]
    assert search["source"] == {"kind": "openapi", "url": page}
    # fixed price, x402scan spelling; the request schema is a $ref, so the body is built from it
    assert search["declared"] == {"price_usd": "0.010000", "price_dynamic": False, "protocols": ["x402"], "description": "Search"}
    assert search["body"] == {"query": "example", "options": {"lang": "en"}}
    hints = search["hints"]
    assert hints["source"] == "openapi"
    assert hints["input"] == {"type": "http", "method": "POST", "bodyType": "json", "body": search["body"]}
    body_schema = hints["input_schema"]["properties"]["body"]
    assert body_schema["properties"]["options"]["properties"]["lang"]["enum"] == ["en", "fr"]  # $ref inlined
    assert "$ref" not in json.dumps(body_schema)
    assert hints["output"] == {"type": "json", "example": {"results": ["a"]}}

    generate = cands["https://shop.example/v1/generate"]
    assert generate["declared"] == {"price_dynamic": True, "price_min_usd": "0.01", "price_max_usd": "1.00",
                                    "protocols": ["x402"]}
    assert generate["body"] == {"prompt": "a red bicycle"}  # first of `examples`, through a $ref'd requestBody

    quote = cands["https://shop.example/v1/quote"]  # paid only by its documented 402
    assert "declared" not in quote and "body" not in quote
    assert quote["hints"]["input"] == {"type": "http", "method": "GET", "queryParams": {"symbol": "ETH"}}
    query_schema = quote["hints"]["input_schema"]["properties"]["queryParams"]
    assert query_schema["required"] == ["symbol"] and set(query_schema["properties"]) == {"symbol", "currency"}

    assert cands["https://shop.example/v1/items/42"]["declared"] == {"price_usd": "0.02", "price_dynamic": False,
                                                                      "protocols": ["x402"]}
    loop = cands["https://shop.example/v1/loop"]  # a self-referencing schema is cut, not followed forever
    assert loop["body"] == {"name": "example"}
    remote = cands["https://shop.example/v1/remote"]  # a remote $ref is never fetched
    assert "body" not in remote and "input_schema" not in remote["hints"]


def test_openapi_yaml() -> None:
    found = parse_openapi(document("openapi_yaml"), "https://shop.example/openapi.yaml")
    assert_sane(found)
    cands = by_url(found)
    forecast = cands["https://shop.example/api/forecast"]  # relative server URL, integer response keys
    assert forecast["method"] == "GET"
    assert forecast["declared"] == {"price_usd": "0.001", "price_dynamic": False, "protocols": ["x402"]}
    assert forecast["hints"]["input"]["queryParams"] == {"city": "Lisbon"}
    report = cands["https://shop.example/api/report"]
    assert report["declared"] == {"price_dynamic": True, "price_min_usd": "0.05", "price_max_usd": "2"}
    assert report["body"] == {"region": "EU", "generated": "2026-01-01"}  # a YAML date becomes ISO text
    assert found.info["external_docs"] == "https://docs.other.example/weather"
    assert found.docs_links == []  # another origin: kept as info, not read as docs


def test_yaml_alias_bomb_is_refused_quickly() -> None:
    start = time.monotonic()
    found = parse_openapi(document("openapi_yaml_alias_bomb"), "https://o.example/openapi.yaml")
    assert time.monotonic() - start < 5
    assert codes(found) == ["discovery_doc_invalid"] and found.candidates == []


def test_yaml_with_many_aliases_is_refused_before_loading() -> None:
    text = "openapi: 3.0.0\na: &a 1\nl: [" + ",".join(["*a"] * 5000) + "]\npaths: {}\n"
    found = parse_openapi(text.encode(), "https://o.example/openapi.yaml")
    assert codes(found) == ["discovery_doc_invalid"] and "aliases" in found.findings[0]["detail"]


def test_deep_yaml_nesting_is_refused_quickly() -> None:
    start = time.monotonic()
    found = parse_openapi(b"[" * 200_000 + b"]" * 200_000, "https://o.example/openapi.yaml")
    assert time.monotonic() - start < 5
    assert codes(found) == ["discovery_doc_invalid"]


def test_oversized_and_foreign_documents_are_refused() -> None:
    big = b'{"openapi": "3.0.0", "paths": {}, "x": "' + b"a" * MAX_DOCUMENT_BYTES + b'"}'
    assert "MiB" in parse_openapi(big, "https://o.example/openapi.json").findings[0]["detail"]
    for body in (b"\xff\xfe", b"- a\n- b\n", b"{}", b'{"paths": []}', b"key: [unclosed", b"!!python/object:os.system {}",
                 b"a: 1\n---\nb: 2\n"):
        found = parse_openapi(body, "https://o.example/openapi.json")
        assert codes(found) == ["discovery_doc_invalid"], body
        assert_sane(found)


def _doc(servers: Any = None, **extra: Any) -> bytes:
    doc: dict[str, Any] = {"openapi": "3.0.0", "paths": {"/x": {"get": {"responses": {"402": {"description": "pay"}}}}}}
    if servers is not None:
        doc["servers"] = servers
    doc.update(extra)
    return json.dumps(doc).encode()


def test_openapi_servers_follow_the_same_origin_rule() -> None:
    page = "https://o.example/openapi.json"
    cross = parse_openapi(_doc([{"url": "https://api.other.example/v1"}]), page)
    assert cross.candidates == []
    assert [(f["code"], f["detail"]) for f in cross.findings] == [("cross_origin_entry", "https://api.other.example/v1")]
    # a later same-origin server is used when the first names another origin
    mixed = parse_openapi(_doc([{"url": "https://api.other.example"}, {"url": "https://o.example/v2/"}]), page)
    assert [c["url"] for c in mixed.candidates] == ["https://o.example/v2/x"] and mixed.findings == []
    # server variables take their defaults
    templated = parse_openapi(_doc([{"url": "https://o.example/{version}", "variables": {"version": {"default": "v3"}}}]), page)
    assert [c["url"] for c in templated.candidates] == ["https://o.example/v3/x"]
    # no servers: the document's origin
    assert [c["url"] for c in parse_openapi(_doc(), page).candidates] == ["https://o.example/x"]


def test_swagger2_base_path_and_body_parameter() -> None:
    doc = {"swagger": "2.0", "host": "o.example", "basePath": "/api", "paths": {"/buy": {"post": {
        "parameters": [{"name": "body", "in": "body", "schema": {"type": "object", "required": ["sku"],
                                                                 "properties": {"sku": {"type": "string"}}}}],
        "x-payment-info": {"price": 0.25},
        "responses": {"402": {"description": "pay"}}}}}}
    found = parse_openapi(json.dumps(doc).encode(), "https://o.example/swagger.json")
    [cand] = found.candidates
    assert cand["url"] == "https://o.example/api/buy" and cand["body"] == {"sku": "example"}
    assert cand["declared"] == {"price_usd": "0.25", "price_dynamic": False}


@pytest.mark.parametrize(("info", "expected"), [
    ({"price": "$0.01", "protocols": ["x402"]}, {"price_usd": "0.01", "price_dynamic": False, "protocols": ["x402"]}),
    ({"amount": "0.01", "currency": "USD"}, {"price_usd": "0.01", "price_dynamic": False}),
    ({"price": {"mode": "fixed", "currency": "USD", "amount": "0.010000"}, "protocols": [{"x402": {}}]},
     {"price_usd": "0.010000", "price_dynamic": False, "protocols": ["x402"]}),
    ({"price": {"mode": "dynamic", "currency": "USD", "min": "0.01", "max": "1.00"}},
     {"price_dynamic": True, "price_min_usd": "0.01", "price_max_usd": "1.00"}),
    ({"dynamic": True, "max": "$5"}, {"price_dynamic": True, "price_max_usd": "5"}),
    ({"price": "0.5 USDC", "protocols": "x402"}, {"price_usd": "0.5", "price_dynamic": False, "protocols": ["x402"]}),
    ({"price": 1e-05}, {"price_usd": "0.00001", "price_dynamic": False}),
    ({"amount": "0.01", "currency": "EUR"}, {}),  # not a USD claim
    ({"price": "free!"}, {}), ({"price": -1}, {}), ({"price": True}, {}), ({"price": "1e400"}, {}),
    ("x402", {}), (None, {}), ({"protocols": [{"name": "X402"}, {"mpp": {}}, 7, "bad name!"]}, {"protocols": ["x402", "mpp"]}),
])
def test_payment_info_variants(info: Any, expected: dict[str, Any]) -> None:
    assert payment_declared(info) == expected


# ---------------------------------------------------------------------------------------------
# llms.txt


def test_llms_txt_links_and_endpoint_lines() -> None:
    page = "https://shop.example/llms.txt"
    found = parse_llms_txt(document("llms_txt").decode(), page)
    assert_sane(found)
    assert [(c["method"], c["url"]) for c in found.candidates] == [
        ("POST", "https://shop.example/v1/search"),  # "POST /v1/search" line
        ("GET", "https://shop.example/v1/quote?symbol=ETH"),  # "GET https://…" in code spans
        ("PUT", "https://shop.example/v1/translate"),  # link whose line names a method
        ("POST", "https://shop.example/v1/summarize"),  # method and path in the link text
        (None, "https://shop.example/api/status"),  # an API-looking link without a method
        (None, "https://shop.example/v2/weather"),  # a bare API-looking URL
        ("PATCH", "https://shop.example/v1/profile"),  # curl -X PATCH in a code block
    ]
    assert all(c["source"] == {"kind": "llms_txt", "url": page} for c in found.candidates)
    assert found.docs_links == ["https://shop.example/docs/quickstart.md", "https://shop.example/api-reference",
                                "https://shop.example/guide/payments", "https://shop.example/docs/summarize.html"]
    assert found.findings == []  # cross-origin links in prose are ignored without a finding
    assert found.info == {"title": "Shop API",
                          "description": "Paid data endpoints for agents, priced per call in USDC via x402.",
                          "templated_skipped": 2, "cross_origin_ignored": 2}


def test_llms_txt_caps_and_hostile_text() -> None:
    text = "\n".join(f"- POST /v1/op{i}" for i in range(500))
    found = parse_llms_txt(text, "https://o.example/llms.txt")
    assert len(found.candidates) == 200
    start = time.monotonic()
    for hostile in ("[" * 100_000, "](" * 100_000, "POST " * 100_000, "https://o.example/" + "a" * 1_000_000,
                    "\x00\u202e# title\n> " + "x" * 10_000):
        assert_sane(parse_llms_txt(hostile, "https://o.example/llms.txt"))
    assert time.monotonic() - start < 10
    assert codes(parse_llms_txt(None, "https://o.example/llms.txt")) == ["discovery_doc_invalid"]  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# facilitator


def test_facilitator_v1_page() -> None:
    found, nxt = parse_discovery_response(fixture_json("facilitator_v1"), "https://fac.example/d", 0, 100)
    assert_sane(found)
    assert nxt is None
    [cand] = found.candidates
    assert (cand["method"], cand["url"]) == ("POST", "https://api.alpha.example/premium")
    assert cand["source"] == {"kind": "facilitator", "url": "https://fac.example/d"}
    assert cand["hints"]["source"] == "outputSchema"
    declared = cand["declared"]
    assert declared["type"] == "http" and declared["x402_version"] == 1
    assert declared["last_updated"] == "2025-08-09T01:07:04Z"  # epoch seconds
    assert declared["accepts"][0]["network_caip2"] == "eip155:84532"
    assert declared["accepts"][0]["amount_atomic"] == "10000"


def test_facilitator_v2_page_with_mcp_item() -> None:
    found, nxt = parse_discovery_response(fixture_json("facilitator_v2"), "https://fac.example/d", 0, 100)
    assert_sane(found)
    assert nxt is None
    cands = by_url(found)
    assert set(cands) == {"https://api.beta.example/weather", "https://mcp.beta.example/mcp"}
    assert found.info["skipped"] == 3  # relative URL, websocket type, not an object
    weather = cands["https://api.beta.example/weather"]
    assert weather["method"] == "GET" and weather["hints"]["input"]["queryParams"] == {"city": "SF"}
    assert weather["declared"]["last_updated"] == "2025-08-09T01:07:04.005Z"  # ISO string

    mcp = cands["https://mcp.beta.example/mcp"]
    assert mcp["method"] == "POST"
    assert mcp["declared"]["type"] == "mcp" and mcp["declared"]["tool"] == "search_docs"  # `tool`, the older spelling
    assert mcp["declared"]["last_updated"] == "2025-08-09T01:07:04.005Z"  # epoch milliseconds
    assert mcp["body"] == {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": "search_docs", "arguments": {"query": "x402"}}}
    assert mcp["declared"]["accepts"][0]["amount_atomic"] == "2000"


def test_facilitator_mixed_page() -> None:
    """CDP-style: x402Version 2 and CAIP-2, but v1 accept fields, a resource object, a `resources` key."""
    found, _ = parse_discovery_response(fixture_json("facilitator_mixed"), "https://fac.example/d", 0, 20)
    [cand] = found.candidates
    assert (cand["method"], cand["url"]) == ("GET", "https://api.gamma.example/premium-data")
    [acc] = cand["declared"]["accepts"]
    assert (acc["amount_atomic"], acc["network_caip2"], acc["pay_to"]) == ("250000", "eip155:8453", PAY_TO)
    assert cand["declared"]["last_updated"] == "2025-08-09T01:07:04Z"


def _server_page(items: list[dict[str, Any]], offset: int, asked: int, cap: int, say_limit: int | None) -> dict[str, Any]:
    """A facilitator that serves at most `cap` items whatever was asked, and reports `say_limit`."""
    page = items[offset:offset + min(asked, cap)]
    pagination: dict[str, Any] = {"offset": offset, "total": len(items)}
    if say_limit is not None:
        pagination["limit"] = say_limit
    return {"x402Version": 2, "items": page, "pagination": pagination}


@pytest.mark.parametrize("say_limit", [3, 100, None])  # honest, echoing what we asked, silent
def test_pagination_never_skips_items_when_the_server_caps_the_page(say_limit: int | None) -> None:
    items = [{"resource": f"https://r.example/{i}", "type": "http"} for i in range(8)]
    seen: list[str] = []
    offset: int | None = 0
    calls = 0
    while offset is not None:
        obj = _server_page(items, offset, 100, 3, say_limit)
        cands, offset = parse_discovery_page(obj, discovery_url("https://fac.example", offset, 100), offset or 0, 100, calls)
        seen += [c["url"] for c in cands]
        calls += 1
        assert calls <= 10
    assert calls == 3
    assert seen == [f"https://r.example/{i}" for i in range(8)]  # all, exactly once


def test_pagination_stops() -> None:
    full = {"items": [{"resource": "https://r.example/a"}] * 3, "pagination": {"limit": 3}}
    assert next_offset(full, 0, 3) == 3  # no total: a full page asks for more
    assert next_offset({"items": [{"resource": "https://r.example/a"}]}, 0, 3) is None  # short page, no total
    assert next_offset({"items": [], "pagination": {"total": 50}}, 0, 3) is None  # empty page
    assert next_offset({**full, "pagination": {"limit": 3, "total": 6}}, 3, 3) is None  # reached the total
    assert next_offset(full, 0, 3, page=MAX_PAGES - 1) is None  # hard cap of pages
    assert next_offset({**full, "pagination": {"limit": "3", "total": "9"}}, 0, 3) == 3  # numbers as text
    assert next_offset({**full, "pagination": {"limit": True, "total": -1}}, 0, 3) == 3
    assert next_offset("nope", 0, 3) is None


def test_discovery_url() -> None:
    assert discovery_url("https://fac.example/", 20, 10) == "https://fac.example/discovery/resources?type=http&limit=10&offset=20"
    assert discovery_url("https://fac.example", 0, 5, None) == "https://fac.example/discovery/resources?limit=5&offset=0"
    assert discovery_url("https://fac.example", 0, 5, "mcp").endswith("?type=mcp&limit=5&offset=0")


@pytest.mark.parametrize("obj", [None, [], {"items": "x"}, {"items": [None, 1, {"resource": 5}, {"resource": {"url": []}}]},
                                 {"resources": [{"resource": "https://a.example/", "accepts": "x", "extensions": []}]},
                                 {"items": [{"resource": "https://a.example/", "type": 5, "lastUpdated": "soon"}]},
                                 {"items": [{"resource": "https://a.example/", "accepts": [{"amount": 10**100}] * 50}]}])
def test_facilitator_hostile_pages(obj: Any) -> None:
    found, _ = parse_discovery_response(obj, "https://fac.example/d", 0, 100)
    assert_sane(found)


# ---------------------------------------------------------------------------------------------
# declared vs live


def live(amount: str, asset: str = BASE_USDC, pay_to: str = PAY_TO, network: str = "eip155:8453",
         scheme: str = "exact") -> dict[str, Any]:
    return {"scheme": scheme, "network": network, "network_caip2": network, "amount_atomic": amount,
            "asset": asset, "pay_to": pay_to}


def declared_codes(declared: dict[str, Any], accepts: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    findings = compare_declared(declared, accepts)
    assert all(f["code"] in CODES and f["severity"] == "warning" for f in findings)
    return [(f["code"], f.get("detail")) for f in findings]


@pytest.mark.parametrize(("price", "amount", "mismatch"), [
    ("0.01", "10000", False),
    ("$0.01", "12000", False),  # $0.012 shows as $0.01: rounding
    ("0.010000", "10100", True),  # six declared decimals leave no room
    ("0.01", "100000", True),
    ("1", "1004000", False),  # within half a cent
    ("1", "1400000", True),  # never more than half a cent of rounding
    ("0.001", "1000", False),
])
def test_declared_fixed_price(price: str, amount: str, mismatch: bool) -> None:
    out = declared_codes({"price_usd": price, "price_dynamic": False}, [live(amount)])
    assert bool(out) is mismatch
    if mismatch:
        assert out[0][0] == "declared_price_mismatch"


def test_declared_price_detail() -> None:
    assert declared_codes({"price_usd": "0.01"}, [live("100000")]) == [
        ("declared_price_mismatch", "declared $0.01, live $0.10")]


def test_declared_price_matches_any_live_accept_and_ignores_unknown_assets() -> None:
    other_chain = live("10000", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", network="eip155:84532")
    assert declared_codes({"price_usd": "0.01"}, [live("50000"), other_chain]) == []
    unknown = live("5", asset="0x2222222222222222222222222222222222222222")
    assert declared_codes({"price_usd": "0.01"}, [unknown]) == []  # no USD price to compare with


def test_declared_dynamic_price_range() -> None:
    declared = {"price_dynamic": True, "price_min_usd": "0.01", "price_max_usd": "1.00"}
    assert declared_codes(declared, [live("500000")]) == []
    assert declared_codes(declared, [live("5000000")]) == [
        ("declared_price_mismatch", "declared $0.01–$1.00 (dynamic), live $5.00")]
    assert declared_codes({"price_dynamic": True}, [live("5000000")]) == []  # no range declared
    assert declared_codes(declared, [live("5000000", scheme="upto")]) == []  # upto: charges up to $5


def test_declared_terms_mismatch() -> None:
    declared_accept = {"network_caip2": "eip155:8453", "asset": BASE_USDC.lower(), "pay_to": PAY_TO.lower(),
                       "amount_atomic": "10000"}
    assert declared_codes({"accepts": [declared_accept]}, [live("10000")]) == []  # 0x addresses in any case
    assert declared_codes({"accepts": [{**declared_accept, "network_caip2": None, "network": "base"}]}, [live("10000")]) == []
    out = declared_codes({"accepts": [{**declared_accept, "pay_to": OTHER_PAY_TO}]}, [live("10000")])
    assert [c for c, _ in out] == ["declared_terms_mismatch"] and OTHER_PAY_TO in (out[0][1] or "")
    out = declared_codes({"accepts": [declared_accept]}, [live("20000")])  # same terms, another amount
    assert out == [("declared_price_mismatch", "declared $0.01, live $0.02")]


@pytest.mark.parametrize(("declared", "accepts"), [
    ({}, []), ({"price_usd": "0.01"}, []), (None, [live("1")]), ({"price_usd": "0.01"}, "x"),
    ({"price_usd": "1e400"}, [live("1")]), ({"price_usd": ["x"]}, [live("1")]), ({"accepts": "x"}, [live("1")]),
    ({"accepts": [None, 1, {}]}, [live("1")]), ({"price_usd": "0.01"}, [{"amount_atomic": "9" * 500}, None]),
    ({"price_dynamic": True, "price_min_usd": {}, "price_max_usd": "x"}, [live("1")]),
])
def test_compare_declared_hostile(declared: Any, accepts: Any) -> None:
    assert compare_declared(declared, accepts) == []


# ---------------------------------------------------------------------------------------------
# never raise

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
                     lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
                         st.sampled_from(["resource", "resources", "items", "url", "type", "accepts", "input", "method",
                                          "lastUpdated", "pagination", "limit", "total", "extensions", "x402Version",
                                          "version", "toolName", "body", "amount", "network", "payTo", "asset"])
                         | st.text(max_size=8), inner, max_size=6), max_leaves=40)
_fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_fuzz
@given(_json)
def test_fuzz_well_known_and_facilitator(obj: Any) -> None:
    assert_sane(parse_well_known(obj, "https://o.example/.well-known/x402"))
    found, nxt = parse_discovery_response(obj, "https://fac.example/d", 0, 100)
    assert_sane(found)
    assert nxt is None or nxt > 0


@_fuzz
@given(st.text(max_size=400))
def test_fuzz_llms_and_openapi_text(text: str) -> None:
    assert_sane(parse_llms_txt(text, "https://o.example/llms.txt"))
    assert_sane(parse_openapi(text.encode("utf-8", "surrogatepass"), "https://o.example/openapi.yaml"))


@_fuzz
@given(_json)
def test_fuzz_openapi_structures(paths: Any) -> None:
    doc = {"openapi": "3.1.0", "servers": [{"url": "/"}], "paths": {"/p/{id}": paths, "/q": {"post": paths}},
           "components": {"schemas": {"A": paths}}}
    assert_sane(parse_openapi(json.dumps(doc).encode(), "https://o.example/openapi.json"))


@_fuzz
@given(_json, st.lists(_json, max_size=3))
def test_fuzz_compare_declared(declared: Any, accepts: Any) -> None:
    assert isinstance(compare_declared(declared, accepts), list)
