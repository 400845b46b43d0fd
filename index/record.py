"""The catalog record: the pydantic models every published JSON file is made from.

Field names and meanings follow the seed catalog records (shared/seeds/000_… and 002_…); fields we
add are measured by us. A field never measured is null, never guessed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "0.1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hints(_Model):
    input: Any = None
    output: Any = None
    source: str | None = Field(None, description="where the hints came from: bazaar | outputSchema")


class AcceptRecord(_Model):
    """One way to pay, as the seeds spell it, plus what we derive from our registries."""

    scheme: str | None
    network: str | None = Field(description="network as the server wrote it (v1 name or CAIP-2)")
    network_caip2: str | None = None
    network_name: str | None = None
    testnet: bool | None = None
    pay_to: str | None
    asset: str | None
    asset_symbol: str | None = Field(None, description="null when the asset is not in our registry")
    asset_decimals: int | None = Field(None, description="null when the asset is not in our registry")
    max_amount_required_atomic: str | None = Field(description="atomic units, digits only")
    amount: str | None = Field(None, description="human units of the asset (decimal string); null when decimals unknown")
    price_usd: float | None = Field(None, description="USD, only for known USD stablecoins")
    max_timeout_seconds: int | None = None
    mime_type: str | None = None
    description: str | None = None
    verified: bool = Field(False, description="true only after a successful test-buy of this exact option")
    verified_at: str | None = None
    hints: Hints = Field(default_factory=Hints)


class OriginRef(_Model):
    slug: str
    host: str
    title: str | None = None
    description: str | None = None
    url: str
    favicon: str | None = None


class SourceRef(_Model):
    kind: str | None
    url: str | None
    first_seen: str | None = None
    last_seen: str | None = None
    declared: dict[str, Any] | None = Field(
        None, description="what this source last claimed (price, terms), compared with the live 402, never trusted over it")


class CatalogRecord(_Model):
    slug: str
    title: str
    url: str
    method: str
    category: str
    summary: str
    example_request_body: Any = Field(None, description="an example body the server itself published; null if none")
    accepts: list[AcceptRecord]
    origin: OriginRef
    # measured by us
    status: str = Field(description="outcome of the latest probe (see methodology)")
    x402_version: int | None
    networks: list[str] = Field(description="CAIP-2 ids of every accepted network")
    price_usd: float | None = Field(None, description="cheapest accept in USD; null when no accept is in a known stablecoin")
    first_seen: str
    last_seen: str | None
    last_probed_at: str | None
    last_paid_at: str | None = Field(None, description="last time the endpoint answered a usable 402")
    findings: list[dict[str, Any]] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    generated_at: str = Field(description="time of the newest observation the build read (not a wall clock)")


class IndexEntry(_Model):
    """The compact per-resource entry of index.json."""

    slug: str
    url: str
    method: str
    title: str
    summary: str
    category: str
    networks: list[str]
    price_usd: float | None
    status: str
    x402_version: int | None
    origin: str
    href: str = Field(description="path of the record's JSON twin, relative to the site root")
    page: str = Field(description="path of the record's HTML page, relative to the site root")


def index_entry(record: CatalogRecord) -> IndexEntry:
    return IndexEntry(
        slug=record.slug, url=record.url, method=record.method, title=record.title, summary=record.summary,
        category=record.category, networks=record.networks, price_usd=record.price_usd, status=record.status,
        x402_version=record.x402_version, origin=record.origin.host,
        href=f"r/{record.slug}.json", page=f"r/{record.slug}.html",
    )
