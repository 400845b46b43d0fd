"""Trust tiers and risk notes: published rules over measured facts (pure).

Tiers, first rule that applies wins:

0. `live`: the latest probe got a 402 in another payment protocol (L402, MPP): live, but not x402.
1. `indexed_external`: never answered a usable 402 to our probe; the terms shown are a source's listing.
2. `stale`: the last usable 402 is older than STALE_AFTER before the build's newest probe.
3. `unreachable`: the latest probe did not get a usable 402 (the last one is recent).
4. `verified`: a test-buy of an accept still offered succeeded, and the latest probe is a usable 402.
   (The store drops an accept's verification as soon as its terms change.)
5. `conformant`: a usable 402 with no error-severity conformance finding, from an origin we could
   identify (its pages gave a title or description, or its verified owner did). An ownership proof
   that does not verify is an error finding; so are disagreeing PAYMENT-REQUIRED headers
   (`header_ambiguous`) and an amount above any plausible price for its asset (`amount_implausible`,
   bounds in index.protocol.plausible).
6. `live`: a usable 402 that misses one of conformant's conditions.

Risk notes (codes in RISKS) are worded warnings for a buyer; several can apply. A record publishes
them coded (`risks`) and as sentences (`risk_notes`, the seeds' list of strings: `note_text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from index.protocol.networks import address_key, namespace_of
from index.untrusted import iso_z

STALE_AFTER = timedelta(days=7)
RECENT_CHANGE = timedelta(days=7)
TIERS = ("verified", "conformant", "live", "indexed_external", "unreachable", "stale")  # best first, for display

RISKS: dict[str, tuple[str, str]] = {
    "terms_declared_only": ("warning", "terms as a source listed them; no live 402 has confirmed them"),
    "down": ("warning", "the latest probe did not get a usable 402"),
    "stale": ("warning", "no usable 402 for more than 7 days"),
    "testnet_only": ("info", "every accept is on a testnet: no real money changes hands"),
    "insecure_http": ("warning", "plain http: the payment header crosses the network unencrypted"),
    "pay_to_differs": ("warning", "accepts on networks of one address family pay different addresses"),
    "price_changed": ("warning", "the price changed in the last 7 days"),
    "pay_to_changed": ("error", "the payTo address changed in the last 30 days"),
    "asset_not_stablecoin": ("warning", "an accept's asset is not a stablecoin we know: its value is unknown"),
    "conformance_errors": ("warning", "the 402 breaks the x402 spec (see conformance findings)"),
    "pricing_decimal_suspect": ("error", "the amount looks like a units mistake"),
    "never_verified": ("info", "no test-buy has confirmed that paying works"),
    "other_auth_path": ("info", "the docs mention another way in (API key, account or subscription)"),
    "other_protocol": ("info", "paid through another protocol than x402 (L402, MPP): x402 clients and our test-buy cannot pay it"),
    "terms_ambiguous": ("error", "the 402 sent two different sets of terms: the price shown may not be the price charged"),
    "amount_implausible": ("error", "an amount is above any plausible price for its asset: do not pay it"),
    "look_alike_text": ("warning", "a name or description mixes look-alike scripts (e.g. Cyrillic letters in a Latin name)"),
}
# finding code (index.findings) -> the risk note it raises, with the finding's detail
FINDING_RISKS = {"header_ambiguous": "terms_ambiguous", "amount_implausible": "amount_implausible",
                 "text_mixed_script": "look_alike_text"}


def risk(code: str, detail: str | None = None) -> dict[str, Any]:
    severity, message = RISKS[code]
    return {"code": code, "severity": severity, "message": message, "detail": detail}


@dataclass
class Facts:
    """What the tier and risk rules read; the normalizer fills it from the store."""

    status: str
    ever_paid: bool
    last_paid_at: datetime | None
    window_end: datetime
    url: str
    verified: bool
    origin_identified: bool
    error_findings: int
    networks_testnet: list[bool | None] = field(default_factory=list)
    pay_tos: list[str | tuple[str | None, str]] = field(default_factory=list)  # address, or (network CAIP-2, address)
    unknown_assets: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)  # health.terms_changes rows
    decimal_suspect: list[str] = field(default_factory=list)
    auth_notes: list[str] = field(default_factory=list)
    owner_verified: bool = False  # an ownership proof of the origin verified (index.protocol.ownership)
    other_protocol: str | None = None  # l402 | mpp: the latest 402 spoke another payment protocol
    findings: list[dict[str, Any]] = field(default_factory=list)  # the record's conformance findings


def tier(f: Facts) -> tuple[str, list[str]]:
    """(tier, reasons) by the rules in this module's docstring."""
    if f.other_protocol and f.status == "other_protocol":
        return "live", [f"latest probe: a 402 in another payment protocol ({f.other_protocol}), not x402"]
    if not f.ever_paid or f.last_paid_at is None:
        return "indexed_external", ["listed by a discovery source; our probe never got a usable 402"]
    if f.window_end - f.last_paid_at > STALE_AFTER:
        return "stale", [f"last usable 402 at {_iso(f.last_paid_at)}, more than {STALE_AFTER.days} days before the newest probe"]
    if f.status != "paid":
        return "unreachable", [f"latest probe: {f.status}"]
    reasons = ["latest probe: usable 402"]
    if f.owner_verified:
        reasons.append("owner verified: an ownership proof matches a payTo")
    if f.verified:
        return "verified", [*reasons, "a test-buy of a current accept succeeded"]
    if f.error_findings == 0 and f.origin_identified:
        return "conformant", [*reasons, "no conformance errors", "origin identified from its pages"]
    if f.error_findings:
        reasons.append(f"{f.error_findings} conformance error(s)")
    if not f.origin_identified:
        reasons.append("origin not identified (no title or description on its pages)")
    return "live", reasons


def risk_notes(f: Facts) -> list[dict[str, Any]]:
    """Every risk note that applies, in RISKS order."""
    notes: list[dict[str, Any]] = []
    if f.other_protocol and f.status == "other_protocol":
        notes.append(risk("other_protocol", f.other_protocol))
    elif not f.ever_paid:
        notes.append(risk("terms_declared_only"))
    elif f.last_paid_at is not None and f.window_end - f.last_paid_at > STALE_AFTER:
        notes.append(risk("stale", f"last usable 402 at {_iso(f.last_paid_at)}"))
    elif f.status != "paid":
        notes.append(risk("down", f"latest probe: {f.status}"))
    if f.networks_testnet and all(t is True for t in f.networks_testnet):
        notes.append(risk("testnet_only"))
    if f.url.lower().startswith("http://"):
        notes.append(risk("insecure_http"))
    differing = pay_to_differs(f.pay_tos)
    if differing:
        notes.append(risk("pay_to_differs", ", ".join(differing)))
    recent = [c for c in f.changes if f.window_end - _parse(c["at"]) <= RECENT_CHANGE]
    price = [c for c in recent if c["field"] == "price"]
    if price:
        notes.append(risk("price_changed", f"{_terms(price[-1]['before'])} → {_terms(price[-1]['after'])} at {price[-1]['at']}"))
    pay = [c for c in f.changes if c["field"] == "pay_to"]
    if pay:
        notes.append(risk("pay_to_changed", f"{', '.join(pay[-1]['before'])} → {', '.join(pay[-1]['after'])} at {pay[-1]['at']}"))
    if f.unknown_assets:
        notes.append(risk("asset_not_stablecoin", f"{f.unknown_assets} accept(s)"))
    if f.error_findings:
        notes.append(risk("conformance_errors", f"{f.error_findings} error(s)"))
    if f.decimal_suspect:
        notes.append(risk("pricing_decimal_suspect", "; ".join(f.decimal_suspect)))
    if f.ever_paid and not f.verified:
        notes.append(risk("never_verified"))
    if f.auth_notes:
        notes.append(risk("other_auth_path", f.auth_notes[0][:300]))
    raised: dict[str, list[str]] = {}
    for found in f.findings:
        code = FINDING_RISKS.get(str(found.get("code")))
        if code:
            raised.setdefault(code, []).append(" ".join(filter(None, [found.get("where"), found.get("detail")])))
    for code in (c for c in RISKS if c in raised):
        notes.append(risk(code, "; ".join(raised[code])[:300] or None))
    return notes


def pay_to_differs(pay_tos: list[str | tuple[str | None, str]]) -> list[str]:
    """The payTo addresses of the first address family whose accepts pay more than one address; [] when
    none does. EVM is compared with EVM (case-insensitively), Solana with Solana: a seller paid at its
    EVM and its Solana address pays one party, not two."""
    families: dict[str, dict[str, str]] = {}
    for entry in pay_tos:
        network, address = entry if isinstance(entry, tuple) else (None, entry)
        if not address:
            continue
        family = namespace_of(network) or ("eip155" if address.startswith("0x") else "other")
        families.setdefault(family, {}).setdefault(address_key(address) or address, address)
    for family in sorted(families):
        if len(families[family]) > 1:
            return sorted(families[family].values())
    return []


def note_text(note: dict[str, Any]) -> str:
    """A coded risk note as one sentence, the seeds' `risk_notes` form."""
    message = str(note.get("message") or "")
    text = message[:1].upper() + message[1:]
    if note.get("detail"):
        detail = str(note["detail"]).rstrip()
        return f"{text}: {detail}" + ("" if detail.endswith((".", "!", "?", "…")) else ".")
    return f"{text}."


def price_changed_recently(f: Facts) -> bool:
    return any(c["field"] == "price" and f.window_end - _parse(c["at"]) <= RECENT_CHANGE for c in f.changes)


def _terms(items: list[str]) -> str:
    return "; ".join(items) if items else "none"


def _iso(value: datetime) -> str:
    return iso_z(value)


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
