"""The fleet's local facilitator: /supported, /verify, /settle and /discovery/resources.

No chain is involved. Solana payments are checked by index.demo.svm (transaction shape, fee payer,
mint, amount, recipient, payer signature). EVM verification does what the token contract would: it recovers the EIP-712
signer of the EIP-3009 TransferWithAuthorization (domain from OUR asset registry, as the contract
holds it, so a payment signed over a server's spoofed `extra.name` fails), and checks the network,
the recipient, the amount, the validity window and nonce reuse. Settlement writes to an in-memory
ledger and returns a made-up transaction hash derived from the payment's nonce.

Test hooks: every fleet origin app is wrapped by `PaymentSpy`, which logs each request it sees and
whether it carried a payment header; `GET /__payments` returns that log and the ledger, so a test
can prove that a refused test-buy sent nothing and that a failed one paid once.

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
from collections import Counter, deque
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from x402.schemas import SettleResponse, SupportedKind, SupportedResponse, VerifyResponse

from index.demo.hostile import picky_extension
from index.demo.spec import HOSTILE_RESOURCES, ORIGINS, SOLANA_FEE_PAYER, DemoOrigin, DemoResource
from index.demo.svm import check_svm, is_svm, settle_svm
from index.demo.wire import bazaar_extension, v1_accept, v2_accept
from index.protocol.networks import lookup_asset, lookup_network, to_caip2
from index.protocol.wire import PAYMENT_SIGNATURE, X_PAYMENT

HOSTILE_PROVIDER = "Hostile test origin"
SVM_NETWORKS = ("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")  # v2 devnet, mainnet
MAX_LOGGED_REQUESTS = 10_000  # PaymentSpy's log keeps the latest ones
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


TRANSFER_WITH_AUTHORIZATION = [
    {"name": "from", "type": "address"}, {"name": "to", "type": "address"}, {"name": "value", "type": "uint256"},
    {"name": "validAfter", "type": "uint256"}, {"name": "validBefore", "type": "uint256"}, {"name": "nonce", "type": "bytes32"},
]
EIP712_DOMAIN = [
    {"name": "name", "type": "string"}, {"name": "version", "type": "string"}, {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def recover_signer(auth: dict[str, Any], signature: str, chain_id: int, token: str, name: str, version: str) -> str | None:
    """The address that signed this EIP-3009 authorization under the token's EIP-712 domain; None
    when the signature or the fields are malformed."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    try:
        message = {"from": auth["from"], "to": auth["to"], "value": int(auth["value"]),
                   "validAfter": int(auth["validAfter"]), "validBefore": int(auth["validBefore"]), "nonce": auth["nonce"]}
        typed = {"types": {"EIP712Domain": EIP712_DOMAIN, "TransferWithAuthorization": TRANSFER_WITH_AUTHORIZATION},
                 "primaryType": "TransferWithAuthorization",
                 "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": token},
                 "message": message}
        return str(Account.recover_message(encode_typed_data(full_message=typed), signature=signature))
    except Exception:  # noqa: BLE001 - any malformed input is an invalid signature
        return None


def _digits(value: Any) -> int | None:
    return int(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value).isdigit() else None


class DemoFacilitator:
    """Usable in-process by the SDK's resource server, and over HTTP by everyone else."""

    def __init__(self) -> None:
        self.used_nonces: set[tuple[str, str, str, str]] = set()  # (network, token, payer, nonce), as EIP-3009 keys them
        self.used_svm_signatures: set[str] = set()  # payer signatures of settled Solana payments
        self.ledger: list[dict[str, Any]] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=MAX_LOGGED_REQUESTS)  # what PaymentSpy saw, latest
        self.request_counts: Counter[str] = Counter()  # "origin METHOD path" -> requests seen, all time
        self.payments_received: list[dict[str, Any]] = []  # every request that carried a payment header

    def get_supported(self) -> SupportedResponse:
        kinds = [SupportedKind(x402_version=2, scheme="exact", network=n) for n in ("eip155:8453", "eip155:84532")]
        kinds += [SupportedKind(x402_version=1, scheme="exact", network=n) for n in ("base", "base-sepolia")]
        kinds.append(SupportedKind(x402_version=1, scheme="exact", network="solana", extra={"feePayer": SOLANA_FEE_PAYER}))
        kinds += [SupportedKind(x402_version=2, scheme="exact", network=n, extra={"feePayer": SOLANA_FEE_PAYER})
                  for n in SVM_NETWORKS]
        return SupportedResponse(kinds=kinds, extensions=["bazaar"], signers={})

    def check(self, payload: dict[str, Any], requirements: dict[str, Any]) -> tuple[str | None, str | None]:
        """(invalid reason or None, payer): what the token contract and a careful facilitator check."""
        if is_svm(requirements):  # Solana: index.demo.svm
            reason, payer, _ = check_svm(payload, requirements, self.used_svm_signatures)
            return reason, payer
        inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
        auth = inner.get("authorization") if isinstance(inner.get("authorization"), dict) else {}
        payer = auth.get("from") if isinstance(auth.get("from"), str) else None
        signature = inner.get("signature")
        if not auth or not payer or not isinstance(signature, str):
            return "invalid_payload", payer
        caip2 = to_caip2(requirements.get("network"))
        net = lookup_network(caip2)
        accepted = payload.get("accepted") if isinstance(payload.get("accepted"), dict) else {}
        if net is None or net.namespace != "eip155" or to_caip2(payload.get("network") or accepted.get("network")) != caip2:
            return "invalid_network", payer
        token = lookup_asset(caip2, requirements.get("asset"))
        if token is None or not token.eip712_name or not token.eip712_version:
            return "invalid_payment_requirements", payer  # no such token contract on this ledger
        amount = requirements.get("amount", requirements.get("maxAmountRequired"))
        value, valid_after, valid_before = _digits(auth.get("value")), _digits(auth.get("validAfter")), _digits(auth.get("validBefore"))
        if value is None or valid_after is None or valid_before is None or not isinstance(auth.get("nonce"), str):
            return "invalid_payload", payer
        if str(auth.get("to", "")).lower() != str(requirements.get("payTo", "")).lower():
            return "invalid_exact_evm_payload_recipient_mismatch", payer
        if str(value) != str(amount):
            return "invalid_exact_evm_payload_authorization_value", payer
        now = int(time.time())
        if valid_before <= now:
            return "invalid_exact_evm_payload_authorization_valid_before", payer
        if valid_after > now:
            return "invalid_exact_evm_payload_authorization_valid_after", payer
        signer = recover_signer(auth, signature, int(net.chain_id), token.address, token.eip712_name, token.eip712_version)
        if signer is None or signer.lower() != payer.lower():
            return "invalid_exact_evm_payload_signature", payer
        if self._nonce_key(caip2 or "", token.address, payer, auth["nonce"]) in self.used_nonces:
            return "duplicate_settlement", payer
        return None, payer

    @staticmethod
    def _nonce_key(network: str, token: str, payer: str, nonce: str) -> tuple[str, str, str, str]:
        return network, token.lower(), payer.lower(), nonce.lower()

    async def verify(self, payload: Any, requirements: Any) -> VerifyResponse:
        reason, payer = self.check(_model_dict(payload), _model_dict(requirements))
        return VerifyResponse(is_valid=reason is None, invalid_reason=reason, payer=payer)

    async def settle(self, payload: Any, requirements: Any) -> SettleResponse:
        p, r = _model_dict(payload), _model_dict(requirements)
        network = r.get("network", "")
        if is_svm(r):
            reason, payer, tx = settle_svm(p, r, self.used_svm_signatures, self.ledger)
            return SettleResponse(success=reason is None, error_reason=reason, transaction=tx, network=network, payer=payer)
        reason, payer = self.check(p, r)
        if reason:
            return SettleResponse(success=False, error_reason=reason, transaction="", network=network, payer=payer)
        auth = p["payload"]["authorization"]
        caip2 = to_caip2(network) or network
        self.used_nonces.add(self._nonce_key(caip2, str(r.get("asset")), str(payer), auth["nonce"]))
        tx = "0x" + hashlib.sha256(f"demo-ledger:{auth['nonce']}".encode()).hexdigest()
        self.ledger.append({"tx": tx, "payer": payer, "to": auth["to"], "value": str(auth["value"]), "asset": r.get("asset"),
                            "network": caip2, "nonce": auth["nonce"], "at": datetime.now(UTC).isoformat()})
        return SettleResponse(success=True, transaction=tx, network=network, payer=payer)


class PaymentSpy:
    """ASGI wrapper of a fleet origin: logs every request (origin, method, path, payment header if
    any) in the facilitator's `requests`, then lets the app answer."""

    HEADERS = (PAYMENT_SIGNATURE.lower().encode(), X_PAYMENT.lower().encode())

    def __init__(self, app: Any, facilitator: DemoFacilitator, origin: str) -> None:
        self.app = app
        self.facilitator = facilitator
        self.origin = origin

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            names = [k for k, _ in scope.get("headers") or []]
            header = next((h.decode().upper() for h in self.HEADERS if h in names), None)
            seen = {"origin": self.origin, "method": scope.get("method"), "path": scope.get("path"), "payment_header": header}
            self.facilitator.requests.append(seen)
            self.facilitator.request_counts[f"{self.origin} {seen['method']} {seen['path']}"] += 1
            if header:
                self.facilitator.payments_received.append(seen)
        await self.app(scope, receive, send)


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

    async def payments(_: Request) -> JSONResponse:
        """Test hook: what the origins saw (counts per "origin METHOD path", every request that carried a
        payment header, the latest requests) and the ledger."""
        return JSONResponse({"request_counts": dict(facilitator.request_counts),
                             "payments_received": facilitator.payments_received, "ledger": facilitator.ledger,
                             "recent_requests": list(facilitator.requests)[-100:]})

    return Starlette(routes=[
        Route("/supported", supported), Route("/verify", verify, methods=["POST"]),
        Route("/settle", settle, methods=["POST"]), Route("/discovery/resources", discovery),
        Route("/__reset", reset, methods=["POST"]), Route("/__payments", payments),
    ])
