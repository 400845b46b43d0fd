"""The catalog record: the pydantic models every published JSON file is made from.

Field names and meanings follow the seed catalog records (shared/seeds/000_… and 002_…); fields we
add are measured by us. A field never measured is null, and `null_reasons` says why. The published
JSON Schema (`json_schema()`) is generated from these models and accepts the seed records as they are:
every field the seeds do not carry has a default, so it is optional in the schema.

How each field is derived is written in docs/methodology.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from index.catalog.record_rules import CAIP2, DIGITS, SLUG, family_rules, network_schema, time_format, url_format

# 1.1.0: test_buy.crawl_command, hints.input_schema; 1.2.0: index.json entries carry tags, last_verified;
# 1.3.0: owner_verified, owner, protocol, other_protocol (records and index.json entries), and index.json
# entries carry reliability (probes_7d, up_7d, uptime_7d_pct, p50_latency_ms, last_probed_at);
# 2.0.0: risk_notes is a list of strings as in the seeds (a published field changed type: major), the
# coded notes moved to `risks`; summary_source, hints.url/output_source, example_request.placeholder added;
# the schema enforces digit-string amounts, URL/time formats, networks, address families and slugs.
SCHEMA_VERSION = "2.0.0"
UPTIME_MIN_PROBES = 5  # an uptime is published as a percentage only from this many probes in its window
SCHEMA_ID = "schema/catalog-record.schema.json"  # path within a published build

TrustTier = Literal["verified", "conformant", "live", "indexed_external", "unreachable", "stale"]
PricingFlag = Literal["normal", "cheap_outlier", "expensive_outlier", "unknown"]
Severity = Literal["error", "warning", "info"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hints(BaseModel):
    """Input/output hints as the server gave them. Other catalogs add keys here (seed 000 has a
    `request` descriptor), so other keys are allowed."""

    model_config = ConfigDict(extra="allow")

    input: Any = None
    output: Any = None
    source: str | None = Field(None, description="where the hints came from: bazaar | outputSchema | openapi | well_known | "
                                                 "facilitator | docs (server-declared hints win over docs)")
    input_schema: dict[str, Any] | None = Field(
        None, description="JSON Schema of `input` as the source declared it (a bazaar schema's input, built from a v1 "
                          "outputSchema, an OpenAPI operation, or a docs page's field table); `input.body`, "
                          "`input.queryParams`… under its properties")
    url: str | None = Field(None, description="for source docs: the page the hints were read from", json_schema_extra=url_format())
    output_source: str | None = Field(None, description="set when `output` came from another source than `source` (docs)")


class AcceptRecord(_Model):
    """One way to pay, as the seeds spell it, plus what we derive from our registries."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=family_rules)

    scheme: str | None
    network: str | None = Field(description="network as the server wrote it (v1 name or CAIP-2)",
                                json_schema_extra=network_schema)
    pay_to: str | None = Field(description="address in the network's family (EVM hex, Solana base58)")
    asset: str | None
    max_amount_required_atomic: str | None = Field(description="atomic units, digits only", json_schema_extra={"pattern": DIGITS})
    max_timeout_seconds: int | None = None
    mime_type: str | None = None
    description: str | None = None
    verified: bool = Field(False, description="true only after a successful test-buy of this exact option")
    hints: Hints = Field(default_factory=Hints)
    # ours
    network_caip2: str | None = Field(None, json_schema_extra={"pattern": CAIP2})
    network_name: str | None = None
    testnet: bool | None = None
    asset_symbol: str | None = Field(None, description="null when the asset is not in our registry")
    asset_decimals: int | None = Field(None, description="null when the asset is not in our registry")
    amount: str | None = Field(None, description="human units of the asset (decimal string); null when decimals unknown")
    price_usd: float | None = Field(None, description="USD, only for known USD stablecoins")
    verified_at: str | None = Field(None, json_schema_extra=time_format())


class OriginRef(_Model):
    slug: str = Field(json_schema_extra={"pattern": SLUG})
    host: str
    title: str | None = None
    description: str | None = None
    url: str = Field(json_schema_extra=url_format())
    favicon: str | None = Field(None, json_schema_extra=url_format())


class SourceRef(_Model):
    kind: str | None
    url: str | None = Field(description="the page read, or where a seed came from (cli:--seed, a seeds file)")
    first_seen: str | None = Field(None, json_schema_extra=time_format())
    last_seen: str | None = Field(None, json_schema_extra=time_format())
    declared: dict[str, Any] | None = Field(
        None, description="what this source last claimed (price, terms, hints), compared with the live 402, never trusted over it")


class Seo(_Model):
    title: str
    description: str


class PricingSanity(_Model):
    flag: PricingFlag
    ratio: float | None = Field(description="price / median_category_atomic, 4 significant digits; null when unknown")
    median_category_atomic: int | None = Field(
        description="median atomic price of the category's other resources on assets with the same decimals")
    peers: int | None = Field(None, description="how many prices the median was taken over")
    decimals: int | None = Field(None, description="decimals of the asset the comparison was made in")


class RiskNote(_Model):
    code: str
    severity: Severity
    message: str
    detail: str | None = None


class Finding(_Model):
    code: str
    severity: Severity
    message: str
    where: str | None = None
    detail: str | None = None


class Conformance(_Model):
    grade: Literal["A", "B", "C"] | None = Field(
        description="A: no error or warning findings; B: warnings only; C: at least one error; null: never answered a usable 402")
    errors: int = 0
    warnings: int = 0
    findings: list[Finding] = Field(default_factory=list)


class HealthWindow(_Model):
    window: str = Field(description="24h | 7d | 30d, ending at `health.window_end`")
    samples: int = Field(description="probes in the window (our own SSRF refusals excluded)")
    up: int = Field(description="probes answered with a usable 402")
    uptime_pct: float | None = Field(description="up / samples × 100, 2 decimals; null when no samples")
    p50_latency_ms: float | None = Field(description="median latency of the probes answered with a usable 402")
    p95_latency_ms: float | None = None
    reason: str | None = Field(None, description="why the figures are null")


class Health(_Model):
    window_end: str = Field(description="end of every window: the newest probe time of the build", json_schema_extra=time_format())
    windows: list[HealthWindow]


class TermsChange(_Model):
    at: str = Field(json_schema_extra=time_format())
    field: Literal["price", "pay_to"]
    before: list[str]
    after: list[str]


class StatusChange(_Model):
    at: str = Field(description="end of the crawl run that saw it", json_schema_extra=time_format())
    kind: Literal["went_down", "recovered", "removed", "retired"]
    before: str | None = Field(description="status before")
    after: str | None = Field(description="status after")


class ExampleRequest(_Model):
    method: str
    url: str = Field(description="the resource URL with example query parameters, if any", json_schema_extra=url_format())
    content_type: str | None = None
    body: Any = None
    source: Literal["bazaar", "docs", "openapi", "schema", "outputSchema", "probe"] | None
    placeholder: bool = Field(False, description="true when the example holds placeholders (a type name or filler "
                                                 "such as \"content\": \"string\") rather than real values")


class BuyInstructions(_Model):
    command: str = Field(description="dry run: prints what would be signed, signs nothing")
    pay_command: str
    crawl_command: str | None = Field(None, description="run once first: puts the resource in the local "
                                                        "catalog that test-buy checks the live quote against")
    page: str = Field(description="our page section with the test-buy instructions")


class OwnerRecord(_Model):
    """What the origin's owner says about itself, and whether an ownership proof backs it
    (index.catalog.owner, index.protocol.ownership)."""

    verified: bool = Field(description="an ownership proof verified against a payTo of the origin's live 402s")
    label: str = Field(description='"from the owner" when verified, else "claimed by the origin, not verified"')
    proof_source: str | None = Field(None, description="the document the proofs were read from: well_known | openapi")
    checked_at: str | None = Field(None, description="when we read the proofs checked (that document's fetch time)")
    addresses: list[str] = Field(default_factory=list, description="the payTo addresses a proof verified for")
    failed_proofs: list[dict[str, Any]] = Field(default_factory=list, description="proofs that did not verify, and why")
    name: str | None = None
    description: str | None = None
    category: str | None = Field(None, description="one of our categories, as the owner named it")
    category_claimed: str | None = Field(None, description="the owner's category when it is none of ours")
    docs_url: str | None = None
    logo_url: str | None = None


class OtherProtocolPrice(_Model):
    amount: str = Field(description="as the challenge states it: satoshis (L402) or base units of `unit` (MPP)")
    unit: str = Field(description="sat, an ISO 4217 code, or a token identifier")
    source: str = Field(description="invoice | x-l402-price | request")
    decimal: str | None = Field(None, description="the amount in whole units of `unit`, when the challenge says how")


class OtherProtocol(_Model):
    """A 402 in another payment protocol than x402 (index.protocol.other402)."""

    protocol: Literal["l402", "mpp"]
    price: OtherProtocolPrice | None = None
    challenges: list[dict[str, Any]] = Field(default_factory=list)


class CatalogRecord(_Model):
    # the seeds' fields
    generated_at: str = Field(description="time of the newest observation the build read (not a wall clock)",
                              json_schema_extra=time_format())
    slug: str = Field(json_schema_extra={"pattern": SLUG})
    title: str
    url: str = Field(json_schema_extra=url_format())
    category: str
    summary: str
    seo: Seo
    use_cases: list[str] = Field(description="built from what we measured or read of this resource; empty (with "
                                             "null_reasons.use_cases) when nothing specific is known")
    ideal_buyer: str | None
    example_prompt: str | None = Field(description="what a user might ask an agent that leads to this call: the example's "
                                                   "user message, never a system prompt or a placeholder")
    example_request_body: Any = Field(description="an example body, see example_request.source for where it came from")
    risk_notes: list[str] = Field(description="risk notes as sentences, as the seeds carry them; coded in `risks`")
    pricing_sanity: PricingSanity
    pricing_review_required: bool
    pricing_decimal_suspect: bool
    trust_tier: TrustTier
    accepts: list[AcceptRecord]
    origin: OriginRef
    json_ld: dict[str, Any]
    axon_deep_link: str | None = Field(
        None, description="the seeds' link that starts a buy; null (see null_reasons) where we have none: our "
                          "test-buy instructions are under test_buy", json_schema_extra=url_format())
    # ours: identity and derivation
    schema_version: str = SCHEMA_VERSION
    summary_source: Literal["challenge", "owner", "docs", "openapi", "origin", "template"] | None = Field(
        None, description="where the summary came from, best first: the 402's description, the verified owner's "
                          "description of the resource, the docs section that documents the endpoint, its OpenAPI "
                          "operation, the origin's description, our template")
    risks: list[RiskNote] = Field(default_factory=list, description="the risk notes, coded (index.catalog.trust.RISKS)")
    method: str = "GET"
    tags: list[str] = Field(default_factory=list)
    trust_reasons: list[str] = Field(default_factory=list, description="why this tier, rule by rule")
    derived_fields: list[str] = Field(
        default_factory=list, description="fields written by our templates and extractors rather than by the server")
    example_request: ExampleRequest | None = None
    test_buy: BuyInstructions | None = None
    null_reasons: dict[str, str] = Field(default_factory=dict, description="why each null field is null")
    # ours: measured
    status: str = Field("unknown", description="outcome of the latest probe (see methodology)")
    terms_source: str = Field(
        "probe", description="probe: accepts are from our own probe; declared:<kind>: as a source listed them, not confirmed live")
    x402_version: int | None = None
    networks: list[str] = Field(default_factory=list, description="CAIP-2 ids of every accepted network",
                                json_schema_extra={"items": {"type": "string", "pattern": CAIP2}})
    price_usd: float | None = Field(None, description="cheapest accept in USD; null when no accept is in a known stablecoin")
    first_seen: str | None = Field(None, json_schema_extra=time_format())
    last_seen: str | None = Field(None, description="last time the server answered HTTP at all", json_schema_extra=time_format())
    last_probed_at: str | None = Field(None, json_schema_extra=time_format())
    last_paid_at: str | None = Field(None, description="last time the endpoint answered a usable 402", json_schema_extra=time_format())
    last_verified: str | None = Field(None, description="last successful test-buy of an accept still offered",
                                      json_schema_extra=time_format())
    conformance: Conformance | None = None
    health: Health | None = None
    terms_changes: list[TermsChange] = Field(
        default_factory=list, description="price and payTo changes seen in the last 30 days of probes")
    status_changes: list[StatusChange] = Field(
        default_factory=list, description="went down, recovered, removed, retired: from the last 30 days of crawl runs")
    retired_at: str | None = Field(
        None, description="when repeated failures retired it (index.schedule.rules); it stays listed with a notice",
        json_schema_extra=time_format())
    sources: list[SourceRef] = Field(default_factory=list)
    # ours: sellers and other protocols
    owner_verified: bool = Field(False, description="the origin proved it owns a payTo of this resource (ownership proof)")
    owner: OwnerRecord | None = Field(None, description="the origin's own metadata, verified or as claims; null when it published none")
    owner_fields: list[str] = Field(default_factory=list, description="fields whose text is the verified owner's, not ours")
    protocol: str = Field("x402", description="x402, or the other payment protocol the latest 402 spoke (l402, mpp)")
    other_protocol: OtherProtocol | None = None


class IndexEntry(_Model):
    """The compact per-resource entry of index.json."""

    slug: str
    url: str
    method: str
    title: str
    summary: str
    category: str
    tags: list[str] = Field(default_factory=list, description="the resource's tags, as its record has them")
    networks: list[str]
    price_usd: float | None
    status: str
    trust_tier: str
    verified: bool
    last_verified: str | None = Field(None, description="when a test-buy last paid one of its current accepts")
    retired: bool = Field(False, description="retired after repeated failures: hidden from the default view")
    x402_version: int | None
    probes_7d: int = Field(0, description="our probes of the last 7 days (health window 7d)")
    up_7d: int = Field(0, description="of them, answered with a usable 402")
    uptime_7d_pct: float | None = Field(
        None, description=f"up_7d / probes_7d × 100, 2 decimals; null below {UPTIME_MIN_PROBES} probes (too few to say)")
    p50_latency_ms: float | None = Field(None, description="median latency of the usable 402s of the last 7 days")
    last_probed_at: str | None = Field(None, description="time of our latest probe (ISO-8601)")
    origin: str
    owner_verified: bool = False
    protocol: str = "x402"
    href: str = Field(description="path of the record's JSON twin, relative to the site root")
    page: str = Field(description="path of the record's HTML page, relative to the site root")


def week_health(record: CatalogRecord) -> tuple[int, int, float | None, float | None]:
    """(probes, up, uptime % or None below UPTIME_MIN_PROBES, p50 latency ms) of the record's 7-day window."""
    health = record.health
    window = next((w for w in health.windows if w.window == "7d"), None) if health is not None else None
    if window is None:
        return 0, 0, None, None
    pct = window.uptime_pct if window.samples >= UPTIME_MIN_PROBES else None
    return window.samples, window.up, pct, window.p50_latency_ms


def index_entry(record: CatalogRecord) -> IndexEntry:
    return IndexEntry(**index_entry_dict(record))


def index_entry_dict(record: CatalogRecord) -> dict[str, Any]:
    """`index_entry(record).model_dump(mode="json")` without the model: a record's fields are already
    valid and JSON-ready, and the site build makes one per record (a third of the time)."""
    probes, up, uptime, p50 = week_health(record)
    return {
        "slug": record.slug, "url": record.url, "method": record.method, "title": record.title,
        "summary": record.summary, "category": record.category, "tags": list(record.tags),
        "networks": list(record.networks), "price_usd": record.price_usd, "status": record.status,
        "trust_tier": record.trust_tier, "verified": any(a.verified for a in record.accepts),
        "last_verified": record.last_verified, "retired": record.retired_at is not None,
        "x402_version": record.x402_version, "probes_7d": probes, "up_7d": up, "uptime_7d_pct": uptime,
        "p50_latency_ms": p50, "last_probed_at": record.last_probed_at, "origin": record.origin.host,
        "owner_verified": record.owner_verified, "protocol": record.protocol,
        "href": f"r/{record.slug}.json", "page": f"r/{record.slug}.html",
    }


def schema_id(rel: str, base_url: str = "") -> str:
    """The `$id` of a schema published at `rel` in a build: its absolute URL when the build knows its
    public URL, else the file's own name, a reference that resolves to the file wherever it is read
    from (the folder path itself would resolve to schema/schema/…)."""
    return f"{base_url.rstrip('/')}/{rel}" if base_url else rel.rsplit("/", 1)[-1]


def json_schema(base_url: str = "") -> dict[str, Any]:
    """The published JSON Schema (2020-12) of a catalog record."""
    schema = CatalogRecord.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id(SCHEMA_ID, base_url),
        "title": "x402-index catalog record",
        "description": "One paid endpoint as x402-index publishes it. Rules: methodology.html.",
        "x-schema-version": SCHEMA_VERSION,
        **{k: v for k, v in schema.items() if k != "title"},
    }
