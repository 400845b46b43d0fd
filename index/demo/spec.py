"""The demo fleet, as data: origins, resources, prices. The servers are built from this and the
tests assert against it, so a crawl is checked against what the fleet really asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from index.networks import lookup_asset, to_caip2

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


def paid_resources() -> list[tuple[DemoOrigin, DemoResource]]:
    return [(o, r) for o in ORIGINS for r in o.resources if r.paid]
