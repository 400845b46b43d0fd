"""The demo fleet, as data: origins, resources, prices. The servers are built from this and the
tests assert against it, so a crawl is checked against what the fleet really asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from index.protocol.networks import lookup_asset, lookup_network, to_caip2

# Throwaway receiving addresses (no keys exist for them; nothing here touches a chain).
PAY_TO_WEATHER = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
PAY_TO_AI = "0x30De99fC313C68b735C8850795A5351D7A0D1aFd"
PAY_TO_CHAIN = "0xB308ed39D67D0d4BAe5BC2FAEF60c66BBb6AE429"
PAY_TO_SOLANA = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
SOLANA_FEE_PAYER = "2wKupLR9q6wXYppw8Gr2NvWxKBUqm4PPJKkQfoxHDBg4"


@dataclass(frozen=True)
class Price:
    network: str  # as written on the wire: CAIP-2 for v2, a v1 name for v1
    usd: str  # decimal dollars; USDC has 6 decimals

    @property
    def caip2(self) -> str:
        caip2 = to_caip2(self.network)
        assert caip2, self.network
        return caip2

    @property
    def network_name(self) -> str:
        """The network's display name ("Base Sepolia"), as docs pages write it."""
        network = lookup_network(self.caip2)
        return network.name if network else self.network

    @property
    def atomic(self) -> str:
        return str(int(Decimal(self.usd) * 10**6))

    @property
    def asset(self) -> str:
        asset = lookup_asset(self.caip2, _USDC[self.caip2])
        assert asset
        return asset.address


_USDC = {
    "eip155:8453": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
    "eip155:84532": "0x036CbD53842c5426634e7929541eC2318f3dCF7e",
    "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
}


@dataclass(frozen=True)
class DemoResource:
    path: str  # with an example query string where the route takes one
    method: str
    description: str
    prices: tuple[Price, ...] = ()  # empty: not paid
    pay_to: str = ""
    status: int = 402  # what an unpaid call answers
    delay: float = 0.0
    query_example: dict[str, str] = field(default_factory=dict)
    query_schema: dict[str, Any] = field(default_factory=dict)
    body_example: dict[str, Any] | None = None
    body_schema: dict[str, Any] = field(default_factory=dict)
    output_example: Any = None
    listed_by_facilitator: bool = False
    legacy_snake_case: bool = False  # v1 only: the pre-2.0 Python middleware's key style

    @property
    def paid(self) -> bool:
        return bool(self.prices) and self.status == 402

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass(frozen=True)
class DemoOrigin:
    key: str
    name: str
    tagline: str
    version: int  # 2: official SDK middleware; 1: faithful legacy v1 body
    resources: tuple[DemoResource, ...]
    tags: tuple[str, ...] = ()


_CITY_SCHEMA = {"properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]}

ORIGINS: tuple[DemoOrigin, ...] = (
    DemoOrigin(
        key="weather", name="Skycast Weather", version=2, tags=("weather",),
        tagline="Hyper-local forecasts and air quality for agents, paid per call in USDC.",
        resources=(
            DemoResource("/v1/forecast?city=Lisbon", "GET", "Seven-day weather forecast for a city",
                         (Price("eip155:84532", "0.001"), Price("eip155:8453", "0.001")), PAY_TO_WEATHER,
                         query_example={"city": "Lisbon"}, query_schema=_CITY_SCHEMA,
                         output_example={"city": "Lisbon", "days": [{"date": "2026-11-23", "high_c": 19, "low_c": 12}]}),
            DemoResource("/v1/air-quality?city=Lisbon", "GET", "Current air quality index and pollutants for a city",
                         (Price("eip155:8453", "0.002"),), PAY_TO_WEATHER,
                         query_example={"city": "Lisbon"}, query_schema=_CITY_SCHEMA,
                         output_example={"city": "Lisbon", "aqi": 31, "pm2_5": 6.2}),
            DemoResource("/v1/history", "POST", "Historical daily weather for a city and date range",
                         (Price("eip155:84532", "0.01"),), PAY_TO_WEATHER,
                         body_example={"city": "Lisbon", "from": "2026-01-01", "to": "2026-01-31"},
                         body_schema={"properties": {"city": {"type": "string"}, "from": {"type": "string", "format": "date"},
                                                     "to": {"type": "string", "format": "date"}}, "required": ["city", "from"]},
                         output_example={"city": "Lisbon", "days": []}),
            DemoResource("/v1/slow-report?region=iberia", "GET", "Regional climate report (slow to answer)",
                         (Price("eip155:8453", "0.005"),), PAY_TO_WEATHER, delay=1.5,
                         query_example={"region": "iberia"},
                         query_schema={"properties": {"region": {"type": "string"}}, "required": ["region"]},
                         output_example={"region": "iberia", "summary": "dry autumn"}),
            DemoResource("/v1/status", "GET", "Service status (free)", status=200),
            DemoResource("/v1/retired-endpoint", "GET", "An endpoint that no longer exists", status=404),
        ),
    ),
    DemoOrigin(
        key="ai", name="Lexa AI", version=2, tags=("ai", "llm"),
        tagline="OpenAI-compatible inference for agents: chat, embeddings, images. No API key, pay per call.",
        resources=(
            DemoResource("/v1/chat/completions", "POST", "Streaming chat completions in OpenAI-compatible format",
                         (Price("eip155:8453", "0.000001"),), PAY_TO_AI, listed_by_facilitator=True,
                         body_example={"model": "lexa-small", "messages": [{"role": "user", "content": "Explain x402"}], "stream": True},
                         body_schema={"properties": {"model": {"type": "string"}, "messages": {"type": "array"},
                                                     "stream": {"type": "boolean"}}, "required": ["model", "messages"]},
                         output_example={"id": "chatcmpl-1", "object": "chat.completion", "choices": []}),
            DemoResource("/v1/embeddings", "POST", "Text embeddings, 768 dimensions",
                         (Price("eip155:8453", "0.0001"),), PAY_TO_AI, listed_by_facilitator=True,
                         body_example={"input": "hello world"},
                         body_schema={"properties": {"input": {"type": "string"}}, "required": ["input"]},
                         output_example={"data": [{"embedding": [0.01, -0.02]}]}),
            DemoResource("/v1/images/generations", "POST", "Generate a 1024x1024 image from a text prompt",
                         (Price("eip155:8453", "1"),), PAY_TO_AI, listed_by_facilitator=True,
                         body_example={"prompt": "a lighthouse at dusk"},
                         body_schema={"properties": {"prompt": {"type": "string"}}, "required": ["prompt"]},
                         output_example={"data": [{"url": "https://example.invalid/image.png"}]}),
            DemoResource("/v1/summarize", "POST", "Summarize a document into five bullet points",
                         (Price("eip155:84532", "0.02"),), PAY_TO_AI, listed_by_facilitator=True,
                         body_example={"text": "Long document text"},
                         body_schema={"properties": {"text": {"type": "string"}}, "required": ["text"]},
                         output_example={"bullets": ["..."]}),
        ),
    ),
    DemoOrigin(
        key="chain", name="ChainLens Data", version=1, tags=("crypto", "data"),
        tagline="On-chain market data and wallet analytics over legacy x402 v1.",
        resources=(
            DemoResource("/api/price?symbol=ETH", "GET", "Spot price of a crypto asset in USD",
                         (Price("base", "0.0005"),), PAY_TO_CHAIN, listed_by_facilitator=True,
                         query_example={"symbol": "ETH"}, query_schema={"properties": {"symbol": {"type": "string"}}},
                         output_example={"symbol": "ETH", "usd": 3120.55}),
            DemoResource("/api/wallet/risk", "POST", "Risk score for a wallet address",
                         (Price("base-sepolia", "0.05"),), PAY_TO_CHAIN, listed_by_facilitator=True,
                         body_example={"address": "0x0000000000000000000000000000000000000001"},
                         body_schema={"properties": {"address": {"type": "string", "description": "EVM address"}},
                                      "required": ["address"]},
                         output_example={"score": 12, "labels": []}),
            DemoResource("/api/solana/top-tokens", "GET", "Top Solana SPL tokens by 24h volume",
                         (Price("solana", "0.003"),), PAY_TO_SOLANA, listed_by_facilitator=True,
                         output_example={"tokens": [{"mint": "So11111111111111111111111111111111111111112", "volume_usd": 1.0}]}),
            DemoResource("/api/news?topic=defi", "GET", "Latest crypto news headlines for a topic",
                         (Price("base", "0.02"),), PAY_TO_CHAIN, legacy_snake_case=True,
                         query_example={"topic": "defi"}, query_schema={"properties": {"topic": {"type": "string"}}},
                         output_example={"headlines": ["..."]}),
        ),
    ),
)


# The resource `make demo` invites a test-buy of: v2 (official SDK), Base Sepolia first, $0.001.
DEMO_TEST_BUY = ("weather", "/v1/forecast?city=Lisbon")


def paid_resources() -> list[tuple[DemoOrigin, DemoResource]]:
    return [(o, r) for o in ORIGINS for r in o.resources if r.paid]


# ---------------------------------------------------------------------------------------------
# The misbehaving part of the fleet: a hostile origin (index/demo/hostile.py) and an HTTPS origin
# with a self-signed certificate (index/demo/tls.py). Not in ORIGINS: the well-behaved fleet's
# counts stay what they were. Each resource says what a crawl of it must record.

PAY_TO_HOSTILE = "0x6262b1cd933cCb889D872C39A06FdF5aEC5984E7"
PAY_TO_TLS = "0xD1f734a5dE8Eb1A8c55508F89aFb61708ab9405c"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
METADATA_URL = "http://169.254.169.254/latest/meta-data/"  # cloud metadata; only ever named, never served

PICKY_BODY_SCHEMA: dict[str, Any] = {
    "properties": {"query": {"type": "string", "description": "What to search for"},
                   "limit": {"type": "integer", "minimum": 1, "description": "How many results"}},
    "required": ["query", "limit"],
}


@dataclass(frozen=True)
class HostileResource:
    """One misbehaviour of the hostile origin and the crawl result it must produce."""

    path: str
    method: str
    description: str
    outcome: str  # expected probe outcome (index.probe.outcomes.Outcome value)
    findings: tuple[str, ...] = ()  # finding codes that must be present
    status: int | None = None  # status line an unpaid probe gets first (None: no status line)
    version: int | None = None  # x402 version of the challenge it sends, if any
    prices: tuple[Price, ...] = ()  # terms of the usable challenge, when it sends one
    pay_to: str = PAY_TO_HOSTILE
    listed_by_facilitator: bool = False
    # Redirects off 127.0.0.1: the expected `blocked` needs the SSRF guard on (only 127.0.0.1 allowed).
    needs_ssrf_guard: bool = False
    # Redirects outside 127.0.0.0/8: must never be crawled with the guard lifted (--allow-private).
    leaves_loopback: bool = False
    # Seeded as a bare URL (no method), so the crawler must find the method itself; `method` is the
    # one the resource must end up recorded under.
    undeclared: bool = False

    def as_demo(self) -> DemoResource:
        """The same resource in the shape the wire helpers (index.demo.wire) take."""
        return DemoResource(self.path, self.method, self.description, self.prices, self.pay_to,
                            status=self.status or 0, listed_by_facilitator=self.listed_by_facilitator)


_SEPOLIA_1000 = (Price("eip155:84532", "0.001"),)
_V1_SEPOLIA_1000 = (Price("base-sepolia", "0.001"),)

HOSTILE_RESOURCES: tuple[HostileResource, ...] = (
    HostileResource("/drip", "GET", "402 headers, then one body byte per second", "timeout", status=402),
    HostileResource("/silent", "GET", "Reads the request and never answers", "timeout"),
    HostileResource("/content-length-4g", "GET", "Announces a 4 GiB body", "too_large", status=402),
    HostileResource("/oversized", "GET", "3 MiB chunked body without Content-Length", "too_large", status=402),
    HostileResource("/gzip-bomb", "GET", "64 MiB of zeros, gzip-compressed", "too_large", status=402),
    HostileResource("/truncated", "GET", "Promises 1000 bytes, sends 20, closes", "unreachable", status=402),
    HostileResource("/reset", "GET", "Resets the connection after reading the request", "unreachable"),
    HostileResource("/bad-base64", "GET", "PAYMENT-REQUIRED header that is not base64", "paid_invalid",
                    ("header_invalid_base64",), status=402),
    # Measured (Twisted 26.10, Scrapy 2.19): Twisted's HTTP client parser is a LineReceiver with
    # MAX_LENGTH 16384, so a 100 KiB header line closes the connection before any response exists
    # (Agent: ResponseFailed[ConnectionDone]; Scrapy: DownloadFailedError). Our 64 KiB cap never runs.
    HostileResource("/huge-header", "GET", "100 KiB PAYMENT-REQUIRED header (valid base64 JSON)", "unreachable",
                    status=402, version=2),
    HostileResource("/redirect-loop", "GET", "302 to itself, forever", "other_status", status=302),
    HostileResource("/redirect-file", "GET", "302 to file:///etc/passwd", "other_status", status=302),
    HostileResource("/redirect-private", "GET", "302 to another loopback address (the hit counter)", "blocked",
                    status=302, needs_ssrf_guard=True),
    HostileResource("/redirect-metadata", "GET", "302 to the cloud metadata address", "blocked",
                    status=302, needs_ssrf_guard=True, leaves_loopback=True),
    HostileResource("/redirect-decimal", "GET", "302 to the hit counter's address in decimal form", "blocked",
                    status=302, needs_ssrf_guard=True),
    HostileResource("/absurd-amounts", "GET", "Float, decimal, negative, huge, NaN and boolean amounts",
                    "paid_invalid", ("amount_not_atomic", "timeout_invalid", "pay_to_zero"), status=402, version=2),
    HostileResource("/nested-json", "GET", "402 body of 200,000 opening brackets", "paid_invalid",
                    ("body_invalid_json",), status=402),
    HostileResource("/invalid-utf8", "GET", "v1 JSON body with invalid UTF-8 bytes", "paid_invalid",
                    ("invalid_encoding",), status=402),
    HostileResource("/bidi-text", "GET", "Valid v1 challenge whose description is 5,000 chars of bidi, control and script",
                    "paid", ("text_truncated", "description_too_long"), status=402, version=1, prices=_V1_SEPOLIA_1000),
    HostileResource("/v2-body-only", "GET", "Valid v2 challenge in the body, no PAYMENT-REQUIRED header", "paid",
                    ("v2_in_body_only",), status=402, version=2, prices=_SEPOLIA_1000),
    HostileResource("/conflict", "GET", "v2 header and a v1 body asking a different amount", "paid",
                    ("header_body_conflict",), status=402, version=2, prices=_SEPOLIA_1000),
    HostileResource("/many-accepts", "GET", "v1 body with thousands of identical accepts", "paid",
                    ("accepts_too_many",), status=402, version=1, prices=_V1_SEPOLIA_1000),
    HostileResource("/rate-limited-once", "GET", "429 Retry-After: 1 once per server lifetime, then a valid 402",
                    "paid", status=429, version=2, prices=_SEPOLIA_1000),
    HostileResource("/rate-limited-long", "GET", "Always 429 Retry-After: 3600", "rate_limited", status=429),
    HostileResource("/server-error", "GET", "Always 500", "server_error", status=500),
    HostileResource("/auth", "GET", "Always 401", "auth_required", status=401),
    HostileResource("/post-only", "POST", "Answers 405 to GET; its 402 comes to POST (seeded without a method)",
                    "paid", status=405, version=2, prices=_SEPOLIA_1000, undeclared=True),
    HostileResource("/needs-token", "GET", "Answers 400 to every request shape we can build: unprobeable, not dead",
                    "unprobeable", status=400, undeclared=True),
    HostileResource("/v1/search", "POST", "Search that validates its JSON body before asking for payment", "paid",
                    status=402, version=2, prices=_SEPOLIA_1000, listed_by_facilitator=True),
    # markup bait in the challenge's tags (and on the origin's homepage): index.demo.bait
    HostileResource("/bait-tags", "GET", "Valid v2 challenge whose tags carry markup and javascript: URLs", "paid",
                    status=402, version=2, prices=_SEPOLIA_1000),
)

TLS_ORIGIN = DemoOrigin(
    key="tls", name="Vault Quotes", version=2, tags=("finance",),
    tagline="Signed FX quotes over HTTPS (with a self-signed certificate).",
    resources=(
        DemoResource("/v1/secure-quote", "GET", "A signed EUR/USD quote", _SEPOLIA_1000, PAY_TO_TLS,
                     output_example={"pair": "EURUSD", "bid": 1.08, "ask": 1.09}),
    ),
)
TLS_EXPECT_OUTCOME = "tls_invalid"  # the crawler verifies certificates
