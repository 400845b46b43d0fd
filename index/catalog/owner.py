"""An origin's owner in the catalog: its proofs checked, its metadata labelled, and when its words win.

Policy (`origin_owner`, `OwnerView.words`): metadata an origin publishes (index.protocol.owner_meta)
from an owner whose ownership proof verified (index.protocol.ownership) wins over text we derived (the
provider name in titles, a templated summary, the category we classified, the origin's title and
description read off its pages), and is labelled "from the owner". From an unverified origin the same
values are shown as claims and change nothing. The owner's category counts only when it names one of
our categories (data/categories.yaml). Pure: plain data in and out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.catalog.categories import titles as category_titles
from index.findings import finding
from index.protocol.owner_meta import resource_description
from index.protocol.ownership import read_proofs, verify_proofs

SHOWN_KEYS = ("name", "description", "category", "category_claimed", "docs_url", "logo_url")  # in the record's `owner`
FROM_OWNER = "from the owner"
CLAIMED = "claimed by the origin, not verified"


def known_category(value: Any) -> str | None:
    """One of our category names for an owner's category word (name or title, any case)."""
    names = category_titles()
    candidates = value if isinstance(value, list) else [value]
    for item in candidates[:20]:
        if not isinstance(item, str):
            continue
        word = item.strip().lower()
        for name, title in names.items():
            if word in (name, title.lower()):
                return name
    return None


def owner_categories(meta: dict[str, Any]) -> dict[str, str]:
    """{"category": one of ours} when a category the owner names is ours, else {"category_claimed": its
    first word}; {} when it names none."""
    claimed = meta.get("categories") or []
    ours = known_category(claimed)
    if ours:
        return {"category": ours}
    return {"category_claimed": claimed[0]} if claimed else {}


def owner_block(meta: dict[str, Any], *, verified: bool, source: str | None, checked_at: str | None,
                addresses: list[str], failed: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The record's `owner` value: whether the owner is verified, how (proof source, check time, the
    payTo addresses proven) and what the owner says, labelled as from the owner or as claims."""
    return {
        "verified": verified,
        "label": FROM_OWNER if verified else CLAIMED,
        "proof_source": source,
        "checked_at": checked_at,
        "addresses": list(addresses),
        "failed_proofs": list(failed or []),
        **{k: v for k, v in {**meta, **owner_categories(meta)}.items() if k in SHOWN_KEYS},
    }


@dataclass
class OwnerView:
    """An origin's owner as the catalog uses it: the record's `owner` block, the findings of proofs
    that did not verify, and the owner's per-resource descriptions."""

    block: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.block.get("verified"))

    def words(self, url: str, method: str) -> dict[str, str]:
        """The owner's text that replaces ours for one resource: {"name"?, "description"?,
        "category"?, "resource_description"?}; {} unless the owner is verified."""
        if not self.verified:
            return {}
        out = {k: self.block[k] for k in ("name", "description", "category") if self.block.get(k)}
        described = resource_description({"resources": self.resources}, url, method)
        if described:
            out["resource_description"] = described
        return out


PROOF_KINDS = ("well_known", "openapi")  # where proofs are read, in this order


def origin_owner(origin_url: str, pages: list[dict[str, Any]], pay_to: list[str]) -> OwnerView | None:
    """An origin's owner: its `owner` block, the findings of its proofs that did not verify, and its
    per-resource descriptions.

    `pages`: the origin's discovery documents as {"kind", "fetched_at" (ISO), "info"} (a page item's
    `extracted.info`), read in PROOF_KINDS order: one proof that verifies, in any of them, is enough;
    every one that does not is a finding. `pay_to`: the payTo addresses of its live 402s.
    None when the origin published neither proofs nor owner metadata."""
    rank = {k: i for i, k in enumerate(PROOF_KINDS)}
    ordered = sorted((p for p in pages if p.get("kind") in rank and isinstance(p.get("info"), dict)),
                     key=lambda p: (rank[p["kind"]], str(p.get("url") or "")))
    meta = next((p["info"]["owner"] for p in ordered if isinstance(p["info"].get("owner"), dict)), {})
    with_proofs = [p for p in ordered if read_proofs(p["info"].get("ownership_proofs"))]
    if not with_proofs and not any(k in meta for k in (*SHOWN_KEYS, "categories")):
        return None  # per-resource descriptions alone count only from a verified owner
    findings: list[dict[str, Any]] = []
    verified, addresses, failed = False, [], []
    source = checked_at = None
    for page in with_proofs:  # every document's proofs; the source is the first that verified, else the first read
        verdict = verify_proofs(origin_url, read_proofs(page["info"]["ownership_proofs"]), pay_to)
        if source is None or (verdict.verified and not verified):
            source, checked_at = page["kind"], page.get("fetched_at")
        verified = verified or verdict.verified
        addresses += [a for a in verdict.addresses if a not in addresses]
        for result in verdict.failed:
            failed.append(result.as_json())
            code = "ownership_proof_malformed" if result.status == "malformed" else "ownership_proof_invalid"
            findings.append(finding(code, f"{page['kind']}:ownershipProofs", f"{result.as_json()['signature']}: {result.reason}"))
    block = owner_block(meta, verified=verified, source=source, checked_at=checked_at, addresses=addresses, failed=failed)
    return OwnerView(block, findings, dict(meta.get("resources") or {}))
