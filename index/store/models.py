"""Database tables (sqlmodel). SQLite by default, PostgreSQL by URL.

History is append-only: `Observation` gets one row per probe attempt and is never updated. `Resource`
and `PaymentOption` hold current state, derived from the latest good observation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Origin(SQLModel, table=True):
    """scheme://host[:port] that serves one or more resources; metadata comes from its pages."""

    __tablename__ = "origins"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(unique=True, index=True)
    host: str
    slug: str = Field(unique=True, index=True)
    title: str | None = None
    description: str | None = None
    favicon: str | None = None
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime | None = None


class Resource(SQLModel, table=True):
    """One payable thing: natural key (canonical URL, method)."""

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("url", "method", name="uq_resource_url_method"),)

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(index=True)
    method: str = "GET"
    origin_id: int = Field(foreign_key="origins.id", index=True)
    slug: str = Field(unique=True, index=True)
    # latest attempt
    status: str | None = None  # an Outcome
    last_probed_at: datetime | None = None
    # latest good (usable 402) observation
    x402_version: int | None = None
    resource_url: str | None = None  # the URL the challenge names
    description: str | None = None
    mime_type: str | None = None
    service_name: str | None = None
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSONType))
    hints: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType))
    last_paid_at: datetime | None = None
    last_good_observation_id: int | None = None
    # provenance and lifetime
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType))
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime | None = None  # last time the server answered HTTP at all
    # the due-queue (index.schedule.rules): when to probe again, failure streak, retirement
    next_probe_at: datetime | None = Field(default=None, index=True)  # None: due now
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    retired_at: datetime | None = None


class PaymentOption(SQLModel, table=True):
    """One accepts[] entry of a resource's latest good challenge, in the server's order."""

    __tablename__ = "payment_options"
    __table_args__ = (UniqueConstraint("resource_id", "position", name="uq_option_position"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resources.id", index=True)
    position: int
    scheme: str | None = None
    network: str | None = None  # as the server wrote it
    network_caip2: str | None = Field(default=None, index=True)
    asset: str | None = None
    pay_to: str | None = None
    amount_atomic: str | None = None  # digit string: uint256 does not fit a column type portably
    max_timeout_seconds: int | None = None
    mime_type: str | None = None
    description: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    verified: bool = False  # set only by a real test-buy
    verified_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class DocPage(SQLModel, table=True):
    """One page of an origin we read for discovery or documentation (latest fetch; the normalizer
    reads `extracted`)."""

    __tablename__ = "doc_pages"

    id: int | None = Field(default=None, primary_key=True)
    origin_id: int = Field(foreign_key="origins.id", index=True)
    url: str = Field(unique=True, index=True)
    kind: str  # homepage | parent_homepage | docs | well_known | openapi | llms_txt | favicon
    fetched_at: datetime = Field(default_factory=utcnow)
    status: int | None = None  # HTTP status, None when the fetch failed
    error_code: str | None = None
    content_type: str | None = None
    extracted: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))


class Observation(SQLModel, table=True):
    """One probe attempt, as it happened. Append-only."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observation_resource_time", "resource_id", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    resource_id: int = Field(foreign_key="resources.id")
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_runs.id", index=True)
    observed_at: datetime = Field(default_factory=utcnow)
    method: str = "GET"  # the method this attempt used (a probe may try several)
    attempt: int = 0  # position in the probe's plan (index.probe.plan)
    final: bool = True  # the probe's last attempt (its outcome is the probe's); earlier ones are history
    final_url: str | None = None  # where redirects led, when they did
    robots: str | None = None  # the robots.txt policy applied to this request (see crawler/spiders/probe.py)
    outcome: str
    http_status: int | None = None
    latency_ms: float | None = None
    error_code: str | None = None
    x402_version: int | None = None
    raw_headers: dict[str, str | list[str]] = Field(default_factory=dict, sa_column=Column(JSONType))  # a repeated header: every value
    raw_body: str | None = Field(default=None, sa_column=Column(Text))
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSONType))


class CrawlRun(SQLModel, table=True):
    """One crawl run: when, what its stats said, and what changed. A run killed before it finished
    has no `finished_at`; the next `crawl` resumes it."""

    __tablename__ = "crawl_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    kind: str = "full"  # full | incremental
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))
    changes: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSONType))  # counts by change kind
    before: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType))  # state at start (index.schedule.changes)
    # What the run set out to probe (index.schedule.runs.Frontier), until it finishes: a stopped run
    # resumes exactly the rest of it.
    frontier: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))


class ResourceChange(SQLModel, table=True):
    """Something that changed about a resource, found by comparing states around a crawl run."""

    __tablename__ = "resource_changes"
    __table_args__ = (Index("ix_change_time", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    crawl_run_id: int | None = Field(default=None, foreign_key="crawl_runs.id", index=True)
    resource_id: int = Field(foreign_key="resources.id", index=True)
    at: datetime
    kind: str  # added | price_changed | pay_to_changed | went_down | recovered | removed | retired
    before: Any = Field(default=None, sa_column=Column(JSONType))
    after: Any = Field(default=None, sa_column=Column(JSONType))


class TestBuy(SQLModel, table=True):
    """One `test-buy` attempt: a dry run, a refusal, or a payment sent (index.testbuy). Written before
    a payment is sent (outcome `unreconciled`) and completed from the answer, so a crash or a timeout
    leaves the possible spend on record. The daily budget is summed from these rows."""

    __test__ = False  # not a pytest test class, whatever its name
    __tablename__ = "test_buys"
    __table_args__ = (Index("ix_test_buy_time", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    resource_id: int | None = Field(default=None, foreign_key="resources.id", index=True)  # None: URL not in the catalog
    slug: str | None = None
    url: str
    method: str = "GET"
    dry_run: bool = True
    outcome: str  # dry_run | refused | success | rejected | unreconciled (index.testbuy.policy.Outcome)
    reason: str | None = None  # a short code for refusals and failures
    detail: str | None = Field(default=None, sa_column=Column(Text))  # human text (redacted), e.g. the quote diff
    x402_version: int | None = None
    option_position: int | None = None  # the live accepts[] index that was selected
    scheme: str | None = None
    network: str | None = None  # CAIP-2
    asset: str | None = None
    amount_atomic: str | None = None
    amount_usd: float | None = None
    pay_to: str | None = None
    payer: str | None = None  # our wallet's address (public), when a key was used
    nonce: str | None = None  # the EIP-3009 nonce signed (public once sent)
    valid_before: int | None = None
    payment_sha256: str | None = None  # hash of the payment header sent; the header itself is not kept
    http_status: int | None = None
    latency_ms: float | None = None
    response_type: str | None = None
    response_size: int | None = None
    tx: str | None = None  # the receipt's transaction
    receipt: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType))
