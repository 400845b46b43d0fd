"""The fleet's local facilitator: /supported, /verify, /settle and /discovery/resources.

No chain is involved. Settlement writes to an in-memory ledger and returns a made-up transaction
hash derived from the payment's nonce. Verification checks the payment against the requirements
(recipient, amount, network, validity window, nonce reuse).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from x402.schemas import SettleResponse, SupportedKind, SupportedResponse, VerifyResponse

from index.demo.hostile import picky_extension
from index.demo.spec import HOSTILE_RESOURCES, ORIGINS, SOLANA_FEE_PAYER, DemoOrigin, DemoResource
from index.demo.wire import v1_accept, v2_accept

HOSTILE_PROVIDER = "Hostile test origin"


def _model_dict(obj: Any) -> dict[str, Any]:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(by_alias=True, exclude_none=True)
    return dict(obj or {})


class DemoFacilitator:
    """Usable in-process by the SDK's resource server, and over HTTP by everyone else."""

    def __init__(self) -> None:
        self.used_nonces: set[str] = set()
        self.ledger: list[dict[str, Any]] = []

    def get_supported(self) -> SupportedResponse:
        kinds = [SupportedKind(x402_version=2, scheme="exact", network=n) for n in ("eip155:8453", "eip155:84532")]
        kinds += [SupportedKind(x402_version=1, scheme="exact", network=n) for n in ("base", "base-sepolia")]
        kinds.append(SupportedKind(x402_version=1, scheme="exact", network="solana", extra={"feePayer": SOLANA_FEE_PAYER}))
        return SupportedResponse(kinds=kinds, extensions=["bazaar"], signers={})

    def check(self, payload: dict[str, Any], requirements: dict[str, Any]) -> tuple[str | None, str | None]:
        """(invalid reason or None, payer)."""
        auth = ((payload.get("payload") or {}).get("authorization")) or {}
        payer = auth.get("from")
        amount = requirements.get("amount", requirements.get("maxAmountRequired"))
        if not auth:
            return "invalid_payload", payer
        if str(auth.get("to", "")).lower() != str(requirements.get("payTo", "")).lower():
            return "invalid_exact_evm_payload_recipient_mismatch", payer
        if str(auth.get("value")) != str(amount):
            return "invalid_exact_evm_payload_authorization_value", payer
        now = int(time.time())
        if int(auth.get("validBefore", 0)) < now:
            return "invalid_exact_evm_payload_authorization_valid_before", payer
        if int(auth.get("validAfter", 0)) > now:
            return "invalid_exact_evm_payload_authorization_valid_after", payer
        if auth.get("nonce") in self.used_nonces:
            return "duplicate_settlement", payer
        return None, payer

    async def verify(self, payload: Any, requirements: Any) -> VerifyResponse:
        reason, payer = self.check(_model_dict(payload), _model_dict(requirements))
        return VerifyResponse(is_valid=reason is None, invalid_reason=reason, payer=payer)

    async def settle(self, payload: Any, requirements: Any) -> SettleResponse:
        p, r = _model_dict(payload), _model_dict(requirements)
        reason, payer = self.check(p, r)
        network = r.get("network", "")
        if reason:
            return SettleResponse(success=False, error_reason=reason, transaction="", network=network, payer=payer)
        nonce = p["payload"]["authorization"]["nonce"]
        self.used_nonces.add(nonce)
        tx = "0x" + hashlib.sha256(f"demo-ledger:{nonce}".encode()).hexdigest()
        self.ledger.append({"tx": tx, "payer": payer, "network": network, "at": datetime.now(UTC).isoformat()})
        return SettleResponse(success=True, transaction=tx, network=network, payer=payer)


def discovery_items(origin_urls: dict[str, str]) -> list[dict[str, Any]]:
    """What this facilitator lists: the fleet's resources flagged `listed_by_facilitator`, then the
    hostile origin's listed ones (its picky POST search, with the bazaar body schema it validates)."""
    items = []
    for origin in ORIGINS:
        for res in origin.resources:
            if res.listed_by_facilitator:
                items.append(_item(origin, res, origin_urls[origin.key]))
    if "hostile" in origin_urls:
        for hostile in HOSTILE_RESOURCES:
            if hostile.listed_by_facilitator:
                res = hostile.as_demo()
                items.append({
                    "resource": origin_urls["hostile"] + res.path, "type": "http", "x402Version": 2,
                    "lastUpdated": "2026-11-20T12:00:00.000Z", "description": res.description,
                    "metadata": {"provider": HOSTILE_PROVIDER},
                    "accepts": [v2_accept(res, p) for p in res.prices], "extensions": picky_extension(),
                })
    return items


def _item(origin: DemoOrigin, res: DemoResource, base: str) -> dict[str, Any]:
    url = base + res.path
    item: dict[str, Any] = {
        "resource": url, "type": "http", "x402Version": origin.version,
        "lastUpdated": "2026-11-20T12:00:00.000Z", "description": res.description,
        "metadata": {"provider": origin.name},
    }
    if origin.version == 1:
        item["accepts"] = [v1_accept(res, p, url) for p in res.prices]
    else:
        item["accepts"] = [v2_accept(res, p) for p in res.prices]
        item["extensions"] = {"bazaar": {"info": {"input": {"type": "http", "method": res.method}}}}
    return item


def facilitator_app(facilitator: DemoFacilitator, origin_urls: dict[str, str]) -> Starlette:
    async def supported(_: Request) -> JSONResponse:
        return JSONResponse(facilitator.get_supported().model_dump(by_alias=True, exclude_none=True))

    async def verify(request: Request) -> JSONResponse:
        body = await request.json()
        reason, payer = facilitator.check(body.get("paymentPayload") or {}, body.get("paymentRequirements") or {})
        out = {"isValid": reason is None, "payer": payer}
        if reason:
            out["invalidReason"] = reason
        return JSONResponse(out)

    async def settle(request: Request) -> JSONResponse:
        body = await request.json()
        result = await facilitator.settle(body.get("paymentPayload") or {}, body.get("paymentRequirements") or {})
        return JSONResponse(result.model_dump(by_alias=True, exclude_none=True))

    async def discovery(request: Request) -> JSONResponse:
        try:
            limit = max(1, min(100, int(request.query_params.get("limit", 20))))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            return JSONResponse({"error": "limit and offset must be integers"}, status_code=400)
        items = discovery_items(origin_urls)
        return JSONResponse({"x402Version": 2, "items": items[offset:offset + limit],
                             "pagination": {"limit": limit, "offset": offset, "total": len(items)}})

    return Starlette(routes=[
        Route("/supported", supported), Route("/verify", verify, methods=["POST"]),
        Route("/settle", settle, methods=["POST"]), Route("/discovery/resources", discovery),
    ])
