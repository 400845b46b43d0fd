"""The machine files a build publishes besides the records: their shapes as pydantic models, so each
file's JSON Schema is generated (and published under schema/) from the same code that writes it.

index.json, categories.json, metrics.json and changes.json are built from per-resource summaries
(`index.site.build.Summary`), never from a second read of the records.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from index.catalog.record import IndexEntry, schema_id

SCHEMAS = {
    "index.json": "schema/index.schema.json",
    "categories.json": "schema/categories.schema.json",
    "metrics.json": "schema/metrics.schema.json",
    "changes.json": "schema/changes.schema.json",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Counts(_Model):
    resources: int
    origins: int
    by_network: dict[str, int] = Field(description="resources accepting each CAIP-2 network")
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_trust_tier: dict[str, int]


class IndexDocument(_Model):
    """index.json: everything an agent needs to pick resources, and where each full record is."""

    schema_version: str
    generated_at: str | None
    record_schema: str = Field(description="path of the catalog record's JSON Schema")
    catalog: str = Field(description="path of catalog.jsonl (one full record per line)")
    counts: Counts
    resources: list[IndexEntry]


class CategoryInfo(_Model):
    name: str
    title: str
    resources: int
    origins: int
    min_price_usd: float | None
    median_price_usd: float | None
    page: str = Field(description="path of the category's HTML page")


class CategoriesDocument(_Model):
    schema_version: str
    generated_at: str | None
    categories: list[CategoryInfo]


class MetricsDocument(_Model):
    """In the spirit of APIs.guru's metrics.json: the catalog's size, by facet."""

    schema_version: str
    generated_at: str | None
    resources: int
    origins: int
    verified: int = Field(description="resources with at least one accept confirmed by a test-buy")
    by_network: dict[str, int]
    by_category: dict[str, int]
    by_status: dict[str, int]
    by_version: dict[str, int] = Field(description="x402 version of the latest usable 402 ('unknown' when none)")
    by_trust_tier: dict[str, int]
    priced_usd: int = Field(description="resources with a USD price")
    median_price_usd: float | None


class Change(_Model):
    kind: Literal["added", "price", "pay_to", "went_down", "recovered", "removed", "retired"]
    at: str | None = Field(description="first_seen for added; the probe time of a terms change; the build for removed")
    slug: str
    title: str
    url: str
    page: str | None = Field(description="path of the resource's HTML page; null once removed")
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)


class ChangesDocument(_Model):
    schema_version: str
    generated_at: str | None
    changes: list[Change] = Field(description="newest first")


class OriginInfo(_Model):
    slug: str
    host: str
    title: str | None
    description: str | None
    url: str
    owner_verified: bool = Field(False, description="an ownership proof of the origin verified (methodology: ownership)")
    owner_label: str | None = Field(None, description="from the owner (verified) or a claim (not verified): index.catalog.owner; "
                                                      "null when the origin said nothing about itself")


class OriginLink(_Model):
    kind: str = Field(description="homepage | well_known | openapi | llms_txt | docs")
    label: str
    url: str


class PayTo(_Model):
    address: str
    networks: list[str] = Field(description="CAIP-2 ids of the networks its accepts pay this address on")


class PriceRange(_Model):
    min: float | None
    max: float | None


class OriginHealth(_Model):
    resources: int
    usable: int = Field(description="resources whose latest probe got a usable 402")
    by_status: dict[str, int]
    probes_7d: int
    up_7d: int
    uptime_7d_pct: float | None = Field(description="up_7d / probes_7d × 100 over all its resources; null below 5 probes")
    last_checked: str | None


class OriginDocument(_Model):
    """o/<slug>.json: one origin and every resource it serves (the twin of o/<slug>.html)."""

    schema_version: str
    generated_at: str | None
    origin: OriginInfo
    links: list[OriginLink] = Field(description="its homepage, then the documents of it its resources were found in")
    listed_by: list[str] = Field(description="facilitator listings that name its resources")
    pay_to: list[PayTo]
    networks: list[str]
    categories: list[str]
    price_usd: PriceRange
    health: OriginHealth
    resources: list[IndexEntry]


ORIGIN_SCHEMA = "schema/origin.schema.json"  # of every o/<slug>.json


def origin_schema(base_url: str = "") -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id(ORIGIN_SCHEMA, base_url),
            **OriginDocument.model_json_schema()}


MODELS: dict[str, type[BaseModel]] = {
    "index.json": IndexDocument,
    "categories.json": CategoriesDocument,
    "metrics.json": MetricsDocument,
    "changes.json": ChangesDocument,
}


def schema_for(name: str, base_url: str = "") -> dict[str, Any]:
    model = MODELS[name]
    schema = model.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": schema_id(SCHEMAS[name], base_url), **schema}
