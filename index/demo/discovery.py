"""Origin-level discovery documents the fleet serves, and which of them lists which resource.

Each well-behaved origin advertises its resources through a different source, so a crawl that starts
only from the facilitator and the origins' homepages meets every kind the crawler reads:

- weather: `/.well-known/x402` (x402scan convention: `{version, resources: ["METHOD url" | url],
  instructions}`) listing all of its resources (paid, free and retired) plus one entry on another
  origin that a crawler must drop (same-origin rule), and `/.well-known/x402.json` in the Foundation
  draft shape (`{x402Version: 2, lastUpdated, items: [{resource: {url, …}, type, accepts, input, output}]}`)
  for two of them;
- ai: `/openapi.json` (OpenAPI 3.1, `x-payment-info` per operation in several fixed-price spellings;
  the images operation declares $0.50 while its live 402 asks $1);
- chain: `/llms.txt` (markdown: title, summary, a link to the docs page, one line per endpoint);
- every origin: `/docs` (see index.demo.pages), linked from its homepage.

`expect_sources` says, from the same tables the documents are built from, which source kinds a crawl
from `--facilitator <fac> --seed <origin URL>…` must record on a resource.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from index.demo.spec import ORIGINS, DemoOrigin, DemoResource
from index.demo.wire import v2_accept

# Source kinds, in the order the manifest lists them.
SOURCE_KINDS = ("facilitator", "well_known", "openapi", "llms_txt", "docs", "seed")

WELL_KNOWN_ORIGIN = "weather"
OPENAPI_ORIGIN = "ai"
LLMS_TXT_ORIGIN = "chain"
WELL_KNOWN_PATH = "/.well-known/x402"
WELL_KNOWN_DRAFT_PATH = "/.well-known/x402.json"
OPENAPI_PATH = "/openapi.json"
LLMS_TXT_PATH = "/llms.txt"
DOCS_PATH = "/docs"

# Routes of the weather origin that /.well-known/x402.json (the draft shape) lists.
WELL_KNOWN_DRAFT_ROUTES = ("/v1/forecast", "/v1/history")
# The entry of weather's /.well-known/x402 that names another origin: (origin key, method, path).
# A real resource of the ai origin, so a crawler that keeps it records `well_known` where it must not.
CROSS_ORIGIN_ENTRY = ("ai", "POST", "/v1/embeddings")
# Routes whose /.well-known/x402 entry is a bare URL (no method prefix): the crawler finds the method.
WELL_KNOWN_BARE_ROUTES = ("/v1/status",)

# x-payment-info of each ai operation, in the fixed-price spellings met in the wild, and the decimal
# USD each declares. /v1/images/generations declares 0.50 while its live 402 asks 1: declared ≠ measured.
OPENAPI_PAYMENT_INFO: dict[str, tuple[dict[str, Any], str]] = {
    "/v1/chat/completions": ({"price": "$0.000001", "protocols": ["x402"]}, "0.000001"),
    "/v1/embeddings": ({"price": {"mode": "fixed", "currency": "USD", "amount": "0.000100"},
                        "protocols": [{"x402": {}}]}, "0.0001"),
    "/v1/images/generations": ({"price": {"mode": "fixed", "currency": "USD", "amount": "0.500000"},
                                "protocols": [{"x402": {}}]}, "0.50"),
    "/v1/summarize": ({"price": {"mode": "fixed", "currency": "USD", "amount": "0.02"},
                       "protocols": ["x402"]}, "0.02"),
}
# Request bodies described through #/components/schemas (the others are inline).
OPENAPI_SCHEMA_REFS = {"/v1/chat/completions": "ChatCompletionRequest", "/v1/images/generations": "ImageRequest"}

# Short link titles for llms.txt.
LLMS_TITLES = {
    "/api/price": "Spot price", "/api/wallet/risk": "Wallet risk score",
    "/api/solana/top-tokens": "Top Solana tokens", "/api/news": "Crypto news",
}


def documented(res: DemoResource) -> bool:
    """Whether the origin's docs page describes the resource: every live route (paid or free), not
    the retired one."""
    return res.status in (402, 200)


def expect_sources(origin: DemoOrigin, res: DemoResource) -> list[str]:
    """The source kinds a crawl from the facilitator and the well-behaved origins' homepages must
    record on a well-behaved resource. No resource URL is seeded in that crawl, so never `seed`."""
    kinds = set()
    if res.listed_by_facilitator:
        kinds.add("facilitator")
    if origin.key == WELL_KNOWN_ORIGIN:
        kinds.add("well_known")  # x402 lists every route; x402.json a subset (same kind)
    if origin.key == OPENAPI_ORIGIN and res.route in OPENAPI_PAYMENT_INFO:
        kinds.add("openapi")
    if origin.key == LLMS_TXT_ORIGIN:
        kinds.add("llms_txt")
    if documented(res):
        kinds.add("docs")
    return [k for k in SOURCE_KINDS if k in kinds]


def declared_usd(origin: DemoOrigin, res: DemoResource) -> dict[str, str]:
    """Prices the origin's own documents declare for a resource, by source kind (decimal USD)."""
    if origin.key == OPENAPI_ORIGIN and res.route in OPENAPI_PAYMENT_INFO:
        return {"openapi": OPENAPI_PAYMENT_INFO[res.route][1]}
    return {}


def _usd(amount: str) -> str:
    """'0.0010' → '$0.001'; '1' → '$1'."""
    text = format(Decimal(amount).normalize(), "f")
    return f"${text}"


# ---------------------------------------------------------------------------------------------
# documents


def well_known(origin: DemoOrigin, base: str, peers: dict[str, str]) -> dict[str, Any]:
    """`/.well-known/x402` (x402scan convention): every resource of the origin, then one entry on a
    different origin that a crawler must drop."""
    entries = [base + r.path if r.route in WELL_KNOWN_BARE_ROUTES else f"{r.method} {base}{r.path}"
               for r in origin.resources]
    key, method, path = CROSS_ORIGIN_ENTRY
    if key in peers:
        entries.append(f"{method} {peers[key]}{path}")
    return {
        "version": 1,
        "resources": entries,
        "instructions": (f"{origin.name}: every paid endpoint answers 402 Payment Required with x402 v2 terms "
                         f"(USDC on Base or Base Sepolia). Field reference and examples: {base}{DOCS_PATH}"),
    }


def well_known_draft(origin: DemoOrigin, base: str) -> dict[str, Any]:
    """`/.well-known/x402.json` in the Foundation draft shape, for WELL_KNOWN_DRAFT_ROUTES."""
    items = []
    for res in origin.resources:
        if res.route not in WELL_KNOWN_DRAFT_ROUTES or not res.paid:
            continue
        body = res.body_example is not None
        request: dict[str, Any] = {"type": "http", "method": res.method, "routeTemplate": res.route}
        if body:
            request.update({"bodyType": "json", "body": res.body_example})
        elif res.query_example:
            request["queryParams"] = res.query_example
        items.append({
            "resource": {"url": base + res.path, "description": res.description, "mimeType": "application/json"},
            "type": "http", "x402Version": 2,
            "accepts": [v2_accept(res, p) for p in res.prices],
            "input": request, "output": {"type": "json", "example": res.output_example},
            "requires": [],
        })
    return {"x402Version": 2, "lastUpdated": "2026-11-21T08:00:00.000Z", "items": items}


def _schema(res: DemoResource) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", **res.body_schema}
    return schema


def openapi(origin: DemoOrigin, base: str) -> dict[str, Any]:
    """`/openapi.json`: OpenAPI 3.1 with one operation per paid route, each with `x-payment-info`, a
    JSON request body (schema and example) and a documented 402."""
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for res in origin.resources:
        if res.route not in OPENAPI_PAYMENT_INFO:
            continue
        ref = OPENAPI_SCHEMA_REFS.get(res.route)
        if ref:
            components[ref] = _schema(res)
            schema: dict[str, Any] = {"$ref": f"#/components/schemas/{ref}"}
        else:
            schema = _schema(res)
        operation: dict[str, Any] = {
            "operationId": res.route.strip("/").replace("/", "_"),
            "summary": res.description, "tags": list(origin.tags),
            "x-payment-info": OPENAPI_PAYMENT_INFO[res.route][0],
            "responses": {
                "200": {"description": "The result, once paid",
                        "content": {"application/json": {"example": res.output_example}}},
                "402": {"description": "Payment Required: x402 v2 terms in the PAYMENT-REQUIRED header"},
            },
        }
        if res.body_example is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": schema, "example": res.body_example}}}
        paths[res.route] = {res.method.lower(): operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{origin.name} API", "version": "1.0.0", "description": origin.tagline,
                 "x-guidance": "Call any operation; pay the 402 with an x402 client and retry."},
        "servers": [{"url": base}],
        "externalDocs": {"description": f"{origin.name} API docs", "url": base + DOCS_PATH},
        "paths": paths,
        "components": {"schemas": components},
    }


def llms_txt(origin: DemoOrigin, base: str) -> str:
    """`/llms.txt`: title, summary, the docs link and one line per resource (paid ones with price)."""
    lines = [f"# {origin.name}", "", f"> {origin.tagline}", "",
             "Every endpoint below answers `402 Payment Required` with x402 terms until paid.", "",
             "## Docs", "", f"- [API reference]({base}{DOCS_PATH}): request fields, curl and response examples",
             "", "## Endpoints", ""]
    for res in origin.resources:
        title = LLMS_TITLES.get(res.route, res.description)
        if res.paid:
            price = " or ".join(f"{_usd(p.usd)} per call (USDC on {p.network_name})" for p in res.prices)
            lines.append(f"- [{title}]({base}{res.path}): {res.method}, {price}. {res.description}")
        elif documented(res):
            lines.append(f"- [{title}]({base}{res.path}): {res.method}, free. {res.description}")
    lines += ["", "## Optional", "", f"- [Homepage]({base}/)", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# routes


def discovery_routes(origin: DemoOrigin, base: str, peers: dict[str, str]) -> list[Route]:
    """The discovery documents `origin` serves (none for origins outside the well-behaved fleet)."""
    if origin not in ORIGINS:
        return []
    routes: list[Route] = []
    if origin.key == WELL_KNOWN_ORIGIN:
        manifest, draft = well_known(origin, base, peers), well_known_draft(origin, base)

        async def serve_well_known(_: Request) -> JSONResponse:
            return JSONResponse(manifest)

        async def serve_draft(_: Request) -> JSONResponse:
            return JSONResponse(draft)

        routes += [Route(WELL_KNOWN_PATH, serve_well_known), Route(WELL_KNOWN_DRAFT_PATH, serve_draft)]
    if origin.key == OPENAPI_ORIGIN:
        spec = json.dumps(openapi(origin, base), indent=2)

        async def serve_openapi(_: Request) -> Response:
            return Response(spec, media_type="application/json")

        routes.append(Route(OPENAPI_PATH, serve_openapi))
    if origin.key == LLMS_TXT_ORIGIN:
        text = llms_txt(origin, base)

        async def serve_llms(_: Request) -> Response:
            return Response(text, media_type="text/markdown; charset=utf-8")

        routes.append(Route(LLMS_TXT_PATH, serve_llms))
    return routes


def discovery_urls(origin_urls: dict[str, str]) -> dict[str, list[str]]:
    """Where each discovery document lives, by source kind (for the manifest)."""
    def at(key: str, path: str) -> list[str]:
        return [origin_urls[key] + path] if key in origin_urls else []

    return {
        "well_known": at(WELL_KNOWN_ORIGIN, WELL_KNOWN_PATH) + at(WELL_KNOWN_ORIGIN, WELL_KNOWN_DRAFT_PATH),
        "openapi": at(OPENAPI_ORIGIN, OPENAPI_PATH),
        "llms_txt": at(LLMS_TXT_ORIGIN, LLMS_TXT_PATH),
        "docs": [origin_urls[o.key] + DOCS_PATH for o in ORIGINS if o.key in origin_urls],
    }


def dropped_entries(origin_urls: dict[str, str]) -> list[dict[str, str]]:
    """Entries of the fleet's discovery documents a crawler must drop (they name another origin)."""
    key, method, path = CROSS_ORIGIN_ENTRY
    if WELL_KNOWN_ORIGIN not in origin_urls or key not in origin_urls:
        return []
    return [{"source": origin_urls[WELL_KNOWN_ORIGIN] + WELL_KNOWN_PATH, "entry": f"{method} {origin_urls[key]}{path}",
             "reason": "cross_origin"}]
