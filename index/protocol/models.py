"""What a 402 answer says, as data: ResourceInfo, Accept, Challenge (pydantic models).

Filled by index.protocol.challenge (and normalize for each accept); read by the store, the catalog and
test-buy. `usable` is the one rule of when an option could be paid.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from index.protocol.networks import is_address, is_burn_address, namespace_of


class ResourceInfo(BaseModel):
    url: str | None = None
    description: str | None = None
    mime_type: str | None = None
    service_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    icon_url: str | None = None


class Accept(BaseModel):
    """One accepts[] entry, normalized field by field whatever version declared it."""

    scheme: str | None = None
    network: str | None = None  # as the server wrote it
    network_caip2: str | None = None
    amount_atomic: str | None = None  # digits only, or None when the server's value is not usable
    amount_raw: str | None = None  # the server's value as text, kept when it was not usable
    asset: str | None = None
    pay_to: str | None = None
    max_timeout_seconds: int | None = None
    resource_url: str | None = None
    description: str | None = None  # the accept's own, else the challenge resource's (v2 puts it there)
    mime_type: str | None = None  # likewise
    extra: dict[str, Any] = Field(default_factory=dict)
    output_schema: Any = None  # v1 outputSchema, verbatim

    @property
    def usable(self) -> bool:
        """True when a client could pay this option: an atomic amount, a CAIP-2 network, an asset and a
        payTo that are addresses of that namespace (when we know its format), a payTo that is no burn
        address, and on Solana a feePayer."""
        if self.amount_atomic is None or not self.network_caip2 or not self.pay_to or not self.asset:
            return False
        namespace = namespace_of(self.network_caip2)
        if is_address(namespace, self.pay_to) is False or is_address(namespace, self.asset) is False:
            return False
        if is_burn_address(self.pay_to):
            return False
        return namespace != "solana" or bool(is_address(namespace, self.extra.get("feePayer")))


class Challenge(BaseModel):
    """What a 402 answer says. `usable` is True when at least one accept could be paid (Accept.usable)."""

    x402_version: int | None = None
    source: str | None = None  # "header" | "body" | None
    error: str | None = None
    resource: ResourceInfo = Field(default_factory=ResourceInfo)
    accepts: list[Accept] = Field(default_factory=list)
    extensions: dict[str, Any] = Field(default_factory=dict)
    hints: dict[str, Any] = Field(default_factory=dict)  # shape: index.protocol.hints module docstring
    findings: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return any(a.usable for a in self.accepts)
