"""The fleet's buyer-test origin ("Checkout Lab"): x402 v2 endpoints that are dangerous or awkward
to *pay*, each a case a safe test-buy must refuse or survive.

Every endpoint answers 402 with a valid-looking v2 challenge (header, or body only) and, when paid,
settles through the fleet's facilitator, which checks the signature for real. What differs:

- `body_only`: the v2 challenge only in the body (reference clients reject it; we must not);
- `cheap_first`: a cheap Base accept first, an expensive Base Sepolia one second;
- `unknown_asset`: a token that is not in our registry;
- `spoofed_domain`: Base Sepolia USDC, with the EIP-712 domain name of mainnet USDC;
- `zero_pay_to`: the Base Sepolia accept pays the zero address;
- `long_timeout`: maxTimeoutSeconds of ten years;
- `drift`: terms a test changes through `POST /__terms` (restored by `POST /__reset`); the same hook
  can make any path answer another status (404 for a removed endpoint, 503 for an outage);
- `crash_after_pay`, `hang_after_pay`, `redirect_after_pay`: settle the payment, then answer 500,
  answer only after HANG_SECONDS, or redirect to `/__landing`.

Not crawled by `make demo` and not in the manifest's `resources` (the crawl expectations of the fleet
stay what they are): the manifest lists these under `buyer`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from index.demo.facilitator import DemoFacilitator
from index.demo.hostile import ABSURD_TIMEOUT
from index.demo.spec import ZERO_ADDRESS, DemoResource, Price
from index.demo.wire import v2_accept
from index.protocol.wire import PAYMENT_REQUIRED, PAYMENT_RESPONSE, PAYMENT_SIGNATURE, encode_header_json

PAY_TO_BUYER = "0x4B0897b0513fdC7C541B6d9D7E929C4e5364D2dB"
UNKNOWN_TOKEN = "0x7E57ab1E00000000000000000000000000000C0d"  # no such token in data/assets.json
SPOOFED_NAME = "USD Coin"  # mainnet USDC's EIP-712 name; Base Sepolia USDC's is "USDC"
HANG_SECONDS = 4.0
NAME = "Checkout Lab"

_SEPOLIA = Price("eip155:84532", "0.001")


@dataclass(frozen=True)
class BuyerCase:
    name: str
    path: str
    description: str
    prices: tuple[Price, ...] = (_SEPOLIA,)
    in_body: bool = False  # the v2 challenge in the body, no PAYMENT-REQUIRED header
    after_pay: str = "ok"  # ok | crash | hang | redirect
    asset: str | None = None  # replaces every accept's asset
    eip712_name: str | None = None  # replaces every accept's extra.name
    zero_pay_to_on: str | None = None  # CAIP-2 network whose accept pays the zero address
    max_timeout: int = 300


BUYER_CASES: tuple[BuyerCase, ...] = (
    BuyerCase("body_only", "/v2/body-only", "Checkout receipt lookup (v2 challenge in the body only)", in_body=True),
    BuyerCase("cheap_first", "/v2/cheap-first", "Bulk export: cheap on Base, expensive on Base Sepolia",
              prices=(Price("eip155:8453", "0.001"), Price("eip155:84532", "5"))),
    BuyerCase("unknown_asset", "/v2/unknown-asset", "Priced in a token nobody registered", asset=UNKNOWN_TOKEN),
    BuyerCase("spoofed_domain", "/v2/spoofed-domain", "USDC with a spoofed EIP-712 domain name", eip712_name=SPOOFED_NAME),
    BuyerCase("zero_pay_to", "/v2/zero-pay-to", "Pays the zero address on Base Sepolia",
              prices=(Price("eip155:8453", "0.001"), _SEPOLIA), zero_pay_to_on="eip155:84532"),
    BuyerCase("long_timeout", "/v2/long-timeout", "Asks for a signature valid for ten years", max_timeout=ABSURD_TIMEOUT),
    BuyerCase("drift", "/v2/drift", "Terms that change between crawl and purchase"),
    BuyerCase("crash_after_pay", "/v2/crash-after-pay", "Settles the payment, then fails with 500", after_pay="crash"),
    BuyerCase("hang_after_pay", "/v2/hang-after-pay", "Settles the payment, then answers late", after_pay="hang"),
    BuyerCase("redirect_after_pay", "/v2/redirect-after-pay", "Settles the payment, then redirects", after_pay="redirect"),
)
BY_NAME = {c.name: c for c in BUYER_CASES}


class BuyerOrigin:
    """The app and its one piece of state: term overrides per path (the `drift` case)."""

    def __init__(self, base: str, facilitator: DemoFacilitator) -> None:
        self.base = base
        self.facilitator = facilitator
        self.overrides: dict[str, dict[str, str]] = {}
        self.statuses: dict[str, int] = {}  # path → status answered instead of the 402 (removal, outage)

    def challenge(self, case: BuyerCase) -> dict[str, Any]:
        res = DemoResource(case.path, "GET", case.description, case.prices, PAY_TO_BUYER)
        accepts = []
        for price in case.prices:
            acc = v2_accept(res, price)
            acc["maxTimeoutSeconds"] = case.max_timeout
            if case.asset:
                acc["asset"] = case.asset
            if case.eip712_name:
                acc["extra"] = {**acc["extra"], "name": case.eip712_name}
            if case.zero_pay_to_on == price.caip2:
                acc["payTo"] = ZERO_ADDRESS
            acc.update(self.overrides.get(case.path, {}))
            accepts.append(acc)
        return {"x402Version": 2, "error": "Payment required",
                "resource": {"url": self.base + case.path, "description": case.description, "mimeType": "application/json"},
                "accepts": accepts}

    def _unpaid(self, case: BuyerCase, error: str | None = None) -> Response:
        obj = self.challenge(case)
        if error:
            obj["error"] = error
        if case.in_body:
            return JSONResponse(obj, status_code=402)
        return JSONResponse({}, status_code=402, headers={PAYMENT_REQUIRED: encode_header_json(obj)})

    def handler(self, case: BuyerCase) -> Any:
        async def handle(request: Request) -> Response:
            if case.path in self.statuses:
                return JSONResponse({"error": "injected by /__terms"}, status_code=self.statuses[case.path])
            header = request.headers.get(PAYMENT_SIGNATURE)
            if not header:
                return self._unpaid(case)
            try:
                payload = json.loads(base64.b64decode(header, validate=True))
            except (binascii.Error, ValueError):
                return self._unpaid(case, "invalid_payload")
            accepted = payload.get("accepted") if isinstance(payload, dict) else None
            requirement = next((a for a in self.challenge(case)["accepts"] if _same_terms(a, accepted)), None)
            if requirement is None:
                return self._unpaid(case, "no_matching_requirements")
            result = await self.facilitator.settle(payload, requirement)
            receipt = encode_header_json(result.model_dump(by_alias=True, exclude_none=True))
            if not result.success:
                return self._unpaid(case, result.error_reason)
            if case.after_pay == "crash":
                return JSONResponse({"error": "internal error after settlement"}, status_code=500)
            if case.after_pay == "hang":
                await asyncio.sleep(HANG_SECONDS)
            if case.after_pay == "redirect":
                return RedirectResponse("/__landing", status_code=302, headers={PAYMENT_RESPONSE: receipt})
            return JSONResponse({"ok": True, "case": case.name}, headers={PAYMENT_RESPONSE: receipt})

        return handle

    def app(self) -> Starlette:
        async def terms(request: Request) -> JSONResponse:
            """Test hook: {"path", "amount"?, "payTo"?, "status"?} changes the terms that path asks, or
            makes it answer `status` (e.g. 404, 503) instead."""
            body = await request.json()
            path = body.get("path")
            if path not in {c.path for c in BUYER_CASES}:
                return JSONResponse({"error": "unknown path"}, status_code=400)
            self.overrides[path] = {k: str(body[k]) for k in ("amount", "payTo") if k in body}
            status = body.get("status")
            if isinstance(status, int) and 200 <= status < 600 and status != 402:
                self.statuses[path] = status
            return JSONResponse({"ok": True, "terms": self.overrides[path], "status": self.statuses.get(path)})

        async def reset(_: Request) -> JSONResponse:
            self.overrides.clear()
            self.statuses.clear()
            return JSONResponse({"ok": True})

        async def landing(_: Request) -> JSONResponse:
            return JSONResponse({"landed": True})

        routes = [Route(c.path, self.handler(c), methods=["GET"]) for c in BUYER_CASES]
        routes += [Route("/__terms", terms, methods=["POST"]), Route("/__reset", reset, methods=["POST"]),
                   Route("/__landing", landing)]
        return Starlette(routes=routes)


def _same_terms(req: dict[str, Any], accepted: Any) -> bool:
    if not isinstance(accepted, dict):
        return False
    return all(str(req.get(k, "")).lower() == str(accepted.get(k, "")).lower()
               for k in ("scheme", "network", "amount", "asset", "payTo"))


def buyer_manifest(base: str) -> dict[str, Any]:
    """What tests need: each case's URL and terms, and the state hooks."""
    return {
        "url": base, "name": NAME, "terms_url": base + "/__terms", "reset_url": base + "/__reset",
        "landing_path": "/__landing",
        "resources": {c.name: {"url": base + c.path, "method": "GET", "description": c.description,
                               "networks": [p.caip2 for p in c.prices], "usd": [p.usd for p in c.prices],
                               "max_timeout": c.max_timeout, "after_pay": c.after_pay} for c in BUYER_CASES},
        "hang_seconds": HANG_SECONDS,
    }
