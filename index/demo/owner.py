"""The fleet's seller origin ("Atlas Geocoding"): an owner who proves it owns its listing, and the rest
of the paid web beside it.

At start-up it makes a throwaway EVM key and a throwaway Solana key (never written, never printed).
Their addresses are the payTo of its x402 endpoints (Base Sepolia and Solana devnet USDC; the official
SDK middleware, paid through the fleet's facilitator), and its `/.well-known/x402` carries a signature
of the origin by each (`ownershipProofs`: EIP-191 and ed25519) plus owner metadata: name, description, category, docs URL, logo and per-resource descriptions. So a
crawl finds a verified owner, whose words replace the text we would otherwise derive.

Two endpoints answer 402 in other protocols, listed in the same well-known file: an L402 one (a
macaroon and a BOLT11 invoice for 10 sat; no Lightning node exists, the invoice is only well formed)
and an MPP one (`WWW-Authenticate: Payment`, a charge of 0.25 USD). A crawl records them as
`other_protocol`, never as broken x402 endpoints.

Not in the manifest's `resources` (the fleet's crawl expectations stay what they are): the manifest
lists this origin under `owner`, and `make demo` seeds it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from fastapi import FastAPI
from solders.keypair import Keypair
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from x402 import x402ResourceServer
from x402.http.middleware.fastapi import PaymentMiddlewareASGI
from x402.http.types import PaymentOption, RouteConfig
from x402.mechanisms.evm.exact import ExactEvmServerScheme
from x402.mechanisms.svm.exact import ExactSvmServerScheme

from index.demo.facilitator import DemoFacilitator
from index.demo.pages import FAVICON_PNG
from index.demo.spec import Price
from index.protocol.ownership import signed_message

NAME = "Atlas Geocoding"
DESCRIPTION = "Place names to coordinates and back, for agents that pay per lookup."
CATEGORY = "data"
L402_INVOICE_SAT = 10
# A BOLT11-shaped invoice for 100n BTC = 10 sat (hrp lnbc100n); the data part is filler: no node exists.
L402_INVOICE = "lnbc100n1p" + "q" * 52 + "sp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9qy" + "q" * 30
MPP_REQUEST = {"amount": "25", "currency": "usd", "description": "One premium tile",
               "methodDetails": {"businessNetwork": "bn_demo"}}
_SEPOLIA = Price("eip155:84532", "0.002")
SOLANA_DEVNET = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1"
SOLANA_DEVNET_USDC = "4zMMC9srt5Ri5X14GAgXhaHii3GnPAEERYPJgZJDncDU"
# What a Solana RPC would answer for getLatestBlockhash: the seller hands it out in `extra` (as an SDK
# server configured with an RPC does), so a buyer builds the transaction with no chain at all.
DEMO_BLOCKHASH = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"


@dataclass(frozen=True)
class OwnerResource:
    path: str  # with the example query
    description_402: str  # what the live 402 says ("" : nothing)
    description_owner: str  # what the owner's well-known file says
    protocol: str = "x402"  # x402 | l402 | mpp

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


RESOURCES = (
    OwnerResource("/v1/geocode?q=Lisbon", "Geocode a place name", "Coordinates, country and bounding box of a place name"),
    OwnerResource("/v1/reverse?lat=38.72&lon=-9.14", "", "The nearest address to a latitude and longitude"),
    OwnerResource("/v1/tiles/lightning", "", "A map tile, paid over Lightning (L402)", protocol="l402"),
    OwnerResource("/v1/tiles/card", "", "A map tile, paid with MPP", protocol="mpp"),
)


def _b64url(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


class OwnerOrigin:
    """The seller origin at `base` (its final URL: the proof signs it)."""

    def __init__(self, base: str, facilitator: DemoFacilitator) -> None:
        self.base = base.rstrip("/")
        self.facilitator = facilitator
        self._account = Account.create()  # throwaway: lives in this process only
        self.pay_to = self._account.address
        message = encode_defunct(text=signed_message(self.base))
        self.proof = "0x" + self._account.sign_message(message).signature.hex().removeprefix("0x")
        self._solana = Keypair()  # throwaway too: its public key is the Solana payTo
        self.solana_pay_to = str(self._solana.pubkey())
        self.solana_proof = "0x" + bytes(self._solana.sign_message(signed_message(self.base).encode())).hex()

    def well_known(self) -> dict[str, Any]:
        return {
            "version": 1,
            "name": NAME,
            "description": DESCRIPTION,
            "category": CATEGORY,
            "docsUrl": f"{self.base}/docs",
            "logo": f"{self.base}/logo.png",
            "resources": [{"url": self.base + r.path, "method": "GET", "description": r.description_owner}
                          for r in RESOURCES],
            "ownershipProofs": [self.proof, {"network": SOLANA_DEVNET, "address": self.solana_pay_to,
                                             "signature": self.solana_proof}],
            "instructions": "GET endpoints; pay per call in USDC on Base Sepolia.",
        }

    def app(self) -> Any:
        app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
        well_known = self.well_known()

        async def manifest(_: Request) -> JSONResponse:
            return JSONResponse(well_known)

        async def home(_: Request) -> HTMLResponse:
            return HTMLResponse(f"<!doctype html><title>{NAME} (demo)</title><h1>{NAME}</h1><p>{DESCRIPTION}</p>"
                                f'<p><a href="/docs">API docs</a></p>')

        async def docs(_: Request) -> HTMLResponse:
            rows = "".join(f"<li><code>GET {r.path}</code>: {r.description_owner}</li>" for r in RESOURCES)
            return HTMLResponse(f"<!doctype html><title>{NAME} API</title><h1>{NAME} API</h1><ul>{rows}</ul>")

        async def image(_: Request) -> Response:
            return Response(FAVICON_PNG, media_type="image/png")

        async def l402(_: Request) -> JSONResponse:
            macaroon = base64.b64encode(b"demo-macaroon:" + self.base.encode()).decode()
            return JSONResponse({"error": "payment required", "invoice": L402_INVOICE}, status_code=402,
                                headers={"WWW-Authenticate": f'L402 macaroon="{macaroon}", invoice="{L402_INVOICE}"'})

        async def mpp(_: Request) -> JSONResponse:
            header = (f'Payment id="demo-challenge", realm="{self.base.split("//", 1)[1]}", method="stripe", '
                      f'intent="charge", request="{_b64url(MPP_REQUEST)}"')
            return JSONResponse({"type": "https://paymentauth.org/problems/payment-required"}, status_code=402,
                                headers={"WWW-Authenticate": header})

        async def paid(_: Request) -> JSONResponse:
            return JSONResponse({"lat": 38.7223, "lon": -9.1393, "name": "Lisbon", "country": "PT"})

        for path, handler in (("/.well-known/x402", manifest), ("/", home), ("/docs", docs), ("/logo.png", image),
                              ("/favicon.ico", image)):
            app.add_api_route(path, handler, methods=["GET"])
        routes: dict[str, RouteConfig] = {}
        for res in RESOURCES:
            handler = {"x402": paid, "l402": l402, "mpp": mpp}[res.protocol]
            app.add_api_route(res.route, handler, methods=["GET"])
            if res.protocol == "x402":
                solana = PaymentOption(scheme="exact", pay_to=self.solana_pay_to, network=SOLANA_DEVNET,
                                       price={"amount": _SEPOLIA.atomic, "asset": SOLANA_DEVNET_USDC,
                                              "extra": {"recentBlockhash": DEMO_BLOCKHASH}})
                routes[f"GET {res.route}"] = RouteConfig(
                    accepts=[PaymentOption(scheme="exact", pay_to=self.pay_to, price=f"${_SEPOLIA.usd}", network=_SEPOLIA.caip2),
                             solana],
                    description=res.description_402, mime_type="application/json")
        server = x402ResourceServer(self.facilitator)
        server.register("eip155:*", ExactEvmServerScheme())
        server.register("solana:*", ExactSvmServerScheme())
        app.add_middleware(PaymentMiddlewareASGI, routes=routes, server=server)
        return app


def owner_manifest(origin: OwnerOrigin) -> dict[str, Any]:
    """The seller origin in the fleet manifest: what a crawl seeded with `seeds` must find."""
    return {
        "url": origin.base, "name": NAME, "description": DESCRIPTION, "category": CATEGORY,
        "pay_to": origin.pay_to, "solana_pay_to": origin.solana_pay_to, "seeds": [origin.base],
        "resources": [{"url": origin.base + r.path, "method": "GET", "protocol": r.protocol,
                       "description_402": r.description_402 or None, "description_owner": r.description_owner,
                       "expect_outcome": "paid" if r.protocol == "x402" else "other_protocol"}
                      for r in RESOURCES],
        "l402_price_sat": str(L402_INVOICE_SAT), "mpp_price": {"amount": MPP_REQUEST["amount"], "unit": "usd"},
    }
