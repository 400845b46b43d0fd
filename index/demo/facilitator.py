"""The fleet's local facilitator: /supported, /verify, /settle and /discovery/resources.

No chain is involved. Settlement writes to an in-memory ledger and returns a made-up transaction
hash derived from the payment's nonce. Verification checks the payment against the requirements
(recipient, amount, network, validity window, nonce reuse).

/discovery/resources behaves like a real, busy registry:
- pages hold at most PAGE_CAP items whatever `limit` the client asks; `pagination.limit` reports the
  size actually applied, so a client must step by it, not by what it asked for;
- the listing spans three pages, and the first request for the second page (offset in
  [PAGE_CAP, 2*PAGE_CAP)) in the server's lifetime answers 429 with `Retry-After: 1`; later ones
  answer normally. `POST /__reset` re-arms that 429 (tests that need it again call it);
- items come in the shapes registries really serve: v1 ones (`maxAmountRequired`, a `resource` and
  an `outputSchema` in every accept), v2 ones with a full SDK-built bazaar extension or only its
  method, `lastUpdated` as an ISO string or (one item) as epoch milliseconds.
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
from index.demo.wire import bazaar_extension, v1_accept, v2_accept

HOSTILE_PROVIDER = "Hostile test origin"
PAGE_CAP = 3  # the most items one /discovery/resources page holds, whatever `limit` says
LAST_UPDATED = "2026-11-20T12:00:00.000Z"
# Items whose `lastUpdated` is epoch milliseconds instead of an ISO string (keyed by route).
EPOCH_MS_ROUTES = frozenset({"/api/price"})
EPOCH_MS = 1_795_694_400_000  # 2026-11-27T08:00:00Z
# v2 items listed with the bazaar extension the SDK builds (the others carry only the method).
FULL_BAZAAR_ROUTES = frozenset({"/v1/chat/completions", "/v1/embeddings"})


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
    """What this facilitator lists: the hostile origin's listed resources first (its picky POST
    search, with the bazaar body schema it validates: a client reading only the first page still
    meets it), then the fleet's resources flagged `listed_by_facilitator`."""
    items = []
    if "hostile" in origin_urls:
        for hostile in HOSTILE_RESOURCES:
            if hostile.listed_by_facilitator:
                res = hostile.as_demo()
                items.append({
                    "resource": origin_urls["hostile"] + res.path, "type": "http", "x402Version": 2,
                    "lastUpdated": LAST_UPDATED, "description": res.description,
                    "metadata": {"provider": HOSTILE_PROVIDER},
                    "accepts": [v2_accept(res, p) for p in res.prices], "extensions": picky_extension(),
                })
    for origin in ORIGINS:
        for res in origin.resources:
            if res.listed_by_facilitator:
                items.append(_item(origin, res, origin_urls[origin.key]))
    return items


def _item(origin: DemoOrigin, res: DemoResource, base: str) -> dict[str, Any]:
    url = base + res.path
    item: dict[str, Any] = {
        "resource": url, "type": "http", "x402Version": origin.version,
        "lastUpdated": EPOCH_MS if res.route in EPOCH_MS_ROUTES else LAST_UPDATED, "description": res.description,
        "metadata": {"provider": origin.name},
    }
    if origin.version == 1:
        item["accepts"] = [v1_accept(res, p, url) for p in res.prices]
    else:
        item["accepts"] = [v2_accept(res, p) for p in res.prices]
        if res.route in FULL_BAZAAR_ROUTES:
            item.update({"mimeType": "application/json", "serviceName": origin.name, "tags": list(origin.tags)})
            item["extensions"] = bazaar_extension(res, with_method=True)
        else:
            item["extensions"] = {"bazaar": {"info": {"input": {"type": "http", "method": res.method}}}}
    return item


class DiscoveryState:
    """The listing's one stateful behaviour: the first request for page two is rate limited."""

    def __init__(self) -> None:
        self.page_two_limited = False

    def should_limit(self, offset: int) -> bool:
        """True exactly once per lifetime (or per reset): for the first request of page two."""
        if PAGE_CAP <= offset < 2 * PAGE_CAP and not self.page_two_limited:
            self.page_two_limited = True
            return True
        return False

    def reset(self) -> None:
        self.page_two_limited = False


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

    state = DiscoveryState()

    async def discovery(request: Request) -> JSONResponse:
        try:
            limit = max(1, min(PAGE_CAP, int(request.query_params.get("limit", 20))))
            offset = max(0, int(request.query_params.get("offset", 0)))
        except ValueError:
            return JSONResponse({"error": "limit and offset must be integers"}, status_code=400)
        if state.should_limit(offset):
            return JSONResponse({"error": "rate limited, retry later"}, status_code=429, headers={"Retry-After": "1"})
        items = discovery_items(origin_urls)
        return JSONResponse({"x402Version": 2, "items": items[offset:offset + limit],
                             "pagination": {"limit": limit, "offset": offset, "total": len(items)}})

    async def reset(_: Request) -> JSONResponse:
        """Test hook: re-arm the once-per-lifetime 429 of page two."""
        state.reset()
        return JSONResponse({"ok": True})

    return Starlette(routes=[
        Route("/supported", supported), Route("/verify", verify, methods=["POST"]),
        Route("/settle", settle, methods=["POST"]), Route("/discovery/resources", discovery),
        Route("/__reset", reset, methods=["POST"]),
    ])
