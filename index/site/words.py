"""The site's own words for the codes of a record, as a buyer reads them: statuses, trust tiers and
where terms came from. methodology.html defines each (its glossary, #status-…, #tier-…, #terms-from);
the codes themselves stay in the machine files."""

from __future__ import annotations

# trust tiers as a buyer reads them (index.catalog.trust.TIERS), where the code says little
TIER_LABELS = {"indexed_external": "listed, unconfirmed"}

# what each status (the outcome of our latest probe, index.probe.outcomes.Outcome) means to a buyer
STATUS_WORDS = {
    "paid": "answered 402 Payment Required with usable x402 terms: it can be paid",
    "paid_invalid": "answered 402, but its terms could not be read or were unusable",
    "free": "answered without asking for payment",
    "auth_required": "asked for a login or an API key (401 or 403)",
    "not_found": "answered 404 or 410",
    "method_not_allowed": "refused the method (405)",
    "unprobeable": "refused every request we could make without knowing its input (400 or 422)",
    "rate_limited": "asked us to slow down (429)",
    "server_error": "failed on its side (5xx)",
    "other_status": "answered with another HTTP status",
    "timeout": "did not answer in time",
    "unreachable": "could not be reached (name lookup or connection failed)",
    "tls_invalid": "offered an invalid TLS certificate",
    "too_large": "answered with more data than we read",
    "blocked": "was not probed: its address is private or reserved",
    "unknown": "never probed",
}
TIER_WORDS = {
    "verified": "a test-buy paid it successfully, and it still answers with usable terms",
    "conformant": "answers with usable x402 terms with no protocol error, from a provider whose pages say who they are",
    "live": "answers with usable x402 terms, but misses a condition of conformant",
    "indexed_external": "a directory or document lists it with payment terms, but our own probe has not confirmed them",
    "unreachable": "our latest probe did not get usable terms",
    "stale": "no usable terms for more than 7 days",
}


def tier_label(tier: str) -> str:
    return TIER_LABELS.get(tier, tier)


_SOURCE_WORDS = {"well_known": "the origin's /.well-known/x402", "openapi": "the origin's OpenAPI document",
                 "llms_txt": "the origin's llms.txt", "docs": "the origin's docs", "facilitator": "a facilitator's listing",
                 "seed": "our seed list"}


def terms_from(source: str) -> str:
    """`terms_source` in words: probe → our own probe; declared:<kind> → that source, unconfirmed."""
    if source == "probe":
        return "our own unpaid probe (the live 402)"
    kind = source.split(":", 1)[1] if source.startswith("declared:") else source
    return f"what {_SOURCE_WORDS.get(kind, kind)} declared; our probe has not confirmed them"
