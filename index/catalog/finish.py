"""The catalog's last pass (pure): drafts of every record, their category-wide pricing sanity, then
trust tier, risk notes (coded and as sentences) and JSON-LD, into CatalogRecords. index.catalog.build
makes the drafts from the store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from index.catalog import pricing
from index.catalog.jsonld import json_ld
from index.catalog.record import CatalogRecord, PricingSanity
from index.catalog.trust import Facts, note_text, price_changed_recently, risk_notes, tier


@dataclass
class Draft:
    """A record before the category-wide pricing pass."""

    fields: dict[str, Any]
    facts: Facts
    primary_atomic: int | None
    primary_decimals: int | None
    primary_usd: Decimal | None
    finding_codes: list[str] = field(default_factory=list)


def finish_record(draft: Draft, check: pricing.Sanity) -> CatalogRecord:
    fields, facts = draft.fields, draft.facts
    facts.decimal_suspect = pricing.decimal_suspect(draft.primary_atomic, draft.primary_decimals,
                                                    draft.primary_usd, draft.finding_codes)
    suspect = bool(facts.decimal_suspect)
    tier_name, reasons = tier(facts)
    null_reasons = fields.pop("null_reasons")
    if check.ratio is None:
        null_reasons["pricing_sanity.ratio"] = (
            f"fewer than {pricing.MIN_PEERS} comparable prices in the category" if draft.primary_atomic is not None
            else "no price in an asset with known decimals")
    return CatalogRecord(
        **{k: v for k, v in fields.items() if k != "json_ld_parts"},
        pricing_sanity=PricingSanity(flag=check.flag, ratio=check.ratio, median_category_atomic=check.median_atomic,
                                     peers=check.peers, decimals=draft.primary_decimals),
        pricing_decimal_suspect=suspect,
        pricing_review_required=pricing.review_required(check.flag, suspect, price_changed_recently(facts)),
        trust_tier=tier_name, trust_reasons=reasons, risks=(risks := risk_notes(facts)),
        risk_notes=[note_text(n) for n in risks],
        json_ld=json_ld(**fields["json_ld_parts"]), null_reasons=null_reasons,
    )


def finish_records(drafts: Iterable[Draft]) -> list[CatalogRecord]:
    """Pricing sanity needs the whole category: peers are the other records' primary atomic prices
    in the same category on assets with the same decimals."""
    drafts = list(drafts)
    checks = pricing.catalog_sanity([(d.fields["category"], d.primary_atomic, d.primary_decimals) for d in drafts])
    return [finish_record(d, check) for d, check in zip(drafts, checks, strict=True)]
