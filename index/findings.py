"""Conformance finding codes: the one table every component and the site read.

A finding is a plain dict {code, severity, message, where?, detail?}. Codes are stable: never reuse or
rename one; add new ones at the end of their group.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


# group -> code -> (severity, one-line message). The groups are for documentation only.
_GROUPS: dict[str, dict[str, tuple[Severity, str]]] = {
    "transport": {
        "no_challenge": (Severity.ERROR, "402 answer carries no x402 challenge (no PAYMENT-REQUIRED header, no x402 JSON body)"),
        "header_too_large": (Severity.ERROR, "PAYMENT-REQUIRED header is larger than the size we accept"),
        "header_invalid_base64": (Severity.ERROR, "PAYMENT-REQUIRED header is not base64 (characters outside the alphabet or a broken length)"),
        "header_invalid_json": (Severity.ERROR, "PAYMENT-REQUIRED header does not decode to a JSON object"),
        "body_invalid_json": (Severity.ERROR, "402 body is not valid JSON"),
        "invalid_encoding": (Severity.ERROR, "challenge is not valid UTF-8"),
        "v2_in_body_only": (Severity.WARNING, "v2 challenge sent in the body without a PAYMENT-REQUIRED header; reference clients reject this"),
        "header_body_conflict": (Severity.WARNING, "PAYMENT-REQUIRED header and JSON body disagree; the header wins"),
        "version_unsupported": (Severity.ERROR, "x402Version is missing or not 1 or 2"),
        "v1_only": (Severity.INFO, "endpoint speaks x402 v1 only (legacy, still payable)"),
        "header_base64_lenient": (Severity.WARNING, "PAYMENT-REQUIRED header decodes only after removing whitespace or fixing padding"),
        "version_fields_mixed": (Severity.WARNING, "accepts use field names of the other x402 version (e.g. maxAmountRequired in a v2 challenge)"),
        "text_unstorable": (Severity.WARNING, "the answer held NUL or lone UTF-16 surrogates, which no database stores; they were replaced by U+FFFD"),
        "store_failed": (Severity.ERROR, "the database refused this answer as sent; only its outcome was kept"),
        "header_ambiguous": (Severity.ERROR, "PAYMENT-REQUIRED was sent more than once with different values: which terms a client pays is ambiguous; the first is shown"),
    },
    "accepts": {
        "accepts_empty": (Severity.ERROR, "accepts is missing or empty: nothing can be paid"),
        "accepts_too_many": (Severity.WARNING, "more accepts entries than we keep"),
        "accept_not_object": (Severity.ERROR, "an accepts entry is not a JSON object"),
        "missing_field": (Severity.ERROR, "a required field is missing"),
        "amount_not_atomic": (Severity.ERROR, "amount is not an atomic integer string (decimal, float, negative or exponent)"),
        "amount_not_string": (Severity.WARNING, "amount is a JSON number, not a string"),
        "amount_zero": (Severity.WARNING, "amount is zero"),
        "network_unknown": (Severity.WARNING, "network is not in our registry"),
        "network_not_caip2": (Severity.WARNING, "v2 challenge uses a v1 network name instead of CAIP-2"),
        "asset_unknown": (Severity.INFO, "asset is not a stablecoin we know on this network; no USD price"),
        "timeout_invalid": (Severity.WARNING, "maxTimeoutSeconds is missing, not a positive integer, or absurd"),
        "scheme_unknown": (Severity.WARNING, "scheme is not a known x402 payment scheme"),
        "asset_not_address": (Severity.ERROR, "asset is not a token address for its network (e.g. the symbol \"USDC\")"),
        "pay_to_invalid": (Severity.ERROR, "payTo is not an address for its network"),
        "pay_to_zero": (Severity.ERROR, "payTo is a zero, burn or system address: a payment would be lost"),
        "evm_extra_missing": (Severity.WARNING, "EVM exact accept without extra.name / extra.version (the token's EIP-712 domain)"),
        "evm_extra_mismatch": (Severity.WARNING, "extra.name / extra.version differ from the known EIP-712 domain of this token"),
        "svm_fee_payer_missing": (Severity.ERROR, "Solana accept without a valid extra.feePayer: clients cannot build the transaction"),
        "accepts_duplicate": (Severity.WARNING, "two accepts entries are identical in scheme, network, asset, payTo and amount"),
        "testnet_only": (Severity.INFO, "every usable accept is on a testnet: no real money changes hands"),
        "amount_implausible": (Severity.ERROR, "amount is above any plausible price for its asset (a units mistake, an overflow or a trap)"),
    },
    "resource": {
        "resource_missing": (Severity.WARNING, "challenge does not name its resource URL"),
        "description_missing": (Severity.INFO, "no description of the resource"),
        "text_truncated": (Severity.INFO, "a text field was longer than we keep and was truncated"),
        "resource_url_mismatch": (Severity.WARNING, "the challenge's resource URL names another host or path than the URL probed"),
        "resource_insecure": (Severity.WARNING, "resource URL is http:// although the endpoint was probed over https"),
        "description_too_long": (Severity.WARNING, "description is over 500 characters (the CDP facilitator rejects these)"),
        "mime_type_missing": (Severity.INFO, "no mimeType for the resource"),
        "service_metadata_invalid": (Severity.INFO, "serviceName, tags or iconUrl break the bazaar limits and were dropped"),
        "text_mixed_script": (Severity.WARNING, "a word mixes letters of different scripts (e.g. Cyrillic in a Latin name): a look-alike of another name"),
    },
    "hints": {
        "bazaar_invalid": (Severity.WARNING, "extensions.bazaar is malformed, or its info does not validate against its schema"),
        "no_input_schema": (Severity.INFO, "no description of the request input (no bazaar input, no v1 outputSchema.input): not agent-callable"),
        "route_template_invalid": (Severity.WARNING, "bazaar routeTemplate is not a safe path template and was dropped"),
        "hints_too_large": (Severity.WARNING, "input/output hints are larger than we keep; parts were dropped"),
        "docs_hints_disagree": (Severity.INFO, "the docs describe the input differently from the server's declared schema; the server's is published"),
    },
    "discovery": {
        "cross_origin_entry": (Severity.WARNING, "an origin's discovery document lists an endpoint on another origin; the entry was dropped"),
        "discovery_doc_invalid": (Severity.WARNING, "a discovery document (well-known, OpenAPI, llms.txt) could not be read: malformed, too large or too complex"),
        "declared_price_mismatch": (Severity.WARNING, "the price a discovery source declares differs from the live 402 price beyond rounding"),
        "declared_terms_mismatch": (Severity.WARNING, "a declared accept's network, asset or payTo matches no live accept"),
        "discovery_capped": (Severity.WARNING, "a discovery listing or document offered more than we read (pages, entries, links); the rest was not read"),
        "discovery_repeated": (Severity.WARNING, "a facilitator listing served a page it had already served; reading it stopped there"),
    },
    "owner": {
        "ownership_proof_invalid": (Severity.ERROR, "an ownership proof is signed by a key that is none of the origin's payTo addresses, or not for this origin"),
        "ownership_proof_malformed": (Severity.ERROR, "an ownership proof is not a signature (an address, an id or a placeholder)"),
    },
}

# code -> (severity, one-line message)
CODES: dict[str, tuple[Severity, str]] = {code: spec for group in _GROUPS.values() for code, spec in group.items()}


def table() -> list[dict[str, str]]:
    """Every code as a documentation row {group, code, severity, message}, in table order."""
    return [{"group": group, "code": code, "severity": str(severity), "message": message}
            for group, codes in _GROUPS.items() for code, (severity, message) in codes.items()]


def finding(code: str, where: str | None = None, detail: str | None = None) -> dict[str, Any]:
    """A finding for a registered code; unknown codes are a programming error."""
    severity, message = CODES[code]
    out: dict[str, Any] = {"code": code, "severity": str(severity), "message": message}
    if where:
        out["where"] = where
    if detail:
        out["detail"] = detail
    return out


def worst(findings: list[dict[str, Any]]) -> str | None:
    """The most severe severity among findings, or None."""
    order = [Severity.ERROR, Severity.WARNING, Severity.INFO]
    present = {f["severity"] for f in findings}
    for s in order:
        if s in present:
            return str(s)
    return None
