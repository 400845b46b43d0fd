"""ASGI apps of the fleet's origins: v2 ones protected by the official x402 SDK middleware, v1 ones
answering the legacy body by hand (the SDK serves only v2)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from x402 import x402ResourceServer
from x402.http.middleware.fastapi import PaymentMiddlewareASGI
from x402.http.types import PaymentOption, RouteConfig
from x402.mechanisms.evm.exact import ExactEvmServerScheme

from index.demo.discovery import discovery_routes
from index.demo.facilitator import DemoFacilitator
from index.demo.pages import FAVICON_PNG, docs_page, homepage
from index.demo.spec import DemoOrigin, DemoResource
from index.demo.wire import bazaar_extension, v1_challenge
from index.protocol.wire import X_PAYMENT, X_PAYMENT_RESPONSE, encode_header_json


def _page_routes(origin: DemoOrigin, base: str, peers: dict[str, str]) -> list[Route]:
    """Homepage, docs page, favicon, and the origin's discovery documents (index.demo.discovery)."""

    async def home(_: Request) -> HTMLResponse:
        return HTMLResponse(homepage(origin, base))

    async def docs(_: Request) -> HTMLResponse:
        return HTMLResponse(docs_page(origin, base))

    async def favicon(_: Request) -> Response:
        return Response(FAVICON_PNG, media_type="image/png")

    return [Route("/", home), Route("/docs", docs), Route("/favicon.png", favicon), Route("/favicon.ico", favicon),
            *discovery_routes(origin, base, peers)]


def _handler(res: DemoResource) -> Any:
    async def handle(_: Request) -> JSONResponse:
        return JSONResponse(res.output_example if res.status == 402 else {"ok": True, "service": "up"})

    return handle


class _Delay:
    """Answers the given routes only after a pause: the fleet's slow endpoints."""

    def __init__(self, app: Any, delays: dict[str, float]) -> None:
        self.app = app
        self.delays = delays

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in self.delays:
            await asyncio.sleep(self.delays[scope["path"]])
        await self.app(scope, receive, send)


def _route_config(origin: DemoOrigin, res: DemoResource) -> RouteConfig:
    extension = bazaar_extension(res)
    return RouteConfig(
        accepts=[PaymentOption(scheme="exact", pay_to=res.pay_to, price=f"${p.usd}", network=p.caip2) for p in res.prices],
        description=res.description, mime_type="application/json", service_name=origin.name[:32],
        tags=list(origin.tags), extensions=extension,
    )


def v2_app(origin: DemoOrigin, base: str, facilitator: DemoFacilitator, peers: dict[str, str]) -> Any:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    for route in _page_routes(origin, base, peers):
        app.router.routes.append(route)
    routes: dict[str, RouteConfig] = {}
    for res in origin.resources:
        if res.status in (402, 200):
            app.add_api_route(res.route, _handler(res), methods=[res.method])
        if res.paid:
            routes[f"{res.method} {res.route}"] = _route_config(origin, res)
    server = x402ResourceServer(facilitator)
    server.register("eip155:*", ExactEvmServerScheme())
    app.add_middleware(PaymentMiddlewareASGI, routes=routes, server=server)
    return _Delay(app, {r.route: r.delay for r in origin.resources if r.delay})


def _v1_paid_handler(res: DemoResource, base: str, facilitator: DemoFacilitator) -> Any:
    async def handle(request: Request) -> Response:
        challenge = v1_challenge(res, str(request.url))
        header = request.headers.get(X_PAYMENT)
        if not header:
            return JSONResponse(challenge, status_code=402)
        try:
            payload = json.loads(base64.b64decode(header, validate=True))
        except (binascii.Error, ValueError):
            return JSONResponse({**challenge, "error": "invalid_payload"}, status_code=402)
        accepted = next((a for a in challenge["accepts"] if a["network"] == payload.get("network")), None)
        if accepted is None:
            return JSONResponse({**challenge, "error": "invalid_network"}, status_code=402)
        result = await facilitator.settle(payload, accepted)
        if not result.success:
            return JSONResponse({**challenge, "error": result.error_reason, "payer": result.payer}, status_code=402)
        receipt = encode_header_json(result.model_dump(by_alias=True, exclude_none=True))
        return JSONResponse(res.output_example, headers={X_PAYMENT_RESPONSE: receipt})

    return handle


def v1_app(origin: DemoOrigin, base: str, facilitator: DemoFacilitator, peers: dict[str, str]) -> Any:
    routes = _page_routes(origin, base, peers)
    for res in origin.resources:
        if res.paid:
            routes.append(Route(res.route, _v1_paid_handler(res, base, facilitator), methods=[res.method]))
        elif res.status == 200:
            routes.append(Route(res.route, _handler(res), methods=[res.method]))
    app = Starlette(routes=routes)
    return _Delay(app, {r.route: r.delay for r in origin.resources if r.delay})


def origin_app(origin: DemoOrigin, base: str, facilitator: DemoFacilitator, peers: dict[str, str] | None = None) -> Any:
    """The origin's ASGI app; `peers` (origin key → base URL) lets its discovery documents name
    other origins."""
    return (v2_app if origin.version == 2 else v1_app)(origin, base, facilitator, peers or {})
