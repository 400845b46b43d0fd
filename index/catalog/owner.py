"""Owner-supplied metadata: what an origin says about itself in `/.well-known/x402`, and when it wins.

Keys read (the published shapes and those seen in the wild; unknown keys are ignored):

- name: `name`, `title`, `serviceName` (the v2 `resource.serviceName`), `service_name`
- description: `description`, `summary`
- category: `category`, or the first of `categories` / `tags` that names one of our categories
- docs URL: `docs`, `docsUrl`, `documentation`, `documentationUrl`, `docs_url`
- logo: `logo`, `logoUrl`, `iconUrl` (the v2 spelling), `icon`, `image`
- per-resource descriptions: `description` on a `resources[]` / `items[]` object (or on its `resource`
  object), and a `descriptions` map of URL (or path) → text

at the top level of the document or under `service`, `serviceInfo`, `info`, `metadata`, `owner` or
`provider` (the top level wins). Text is cleaned and bounded; URLs must be http(s).

Policy (`origin_owner`, `OwnerView.words`): metadata from an owner whose ownership proof verified
(index.protocol.ownership) wins over text we derived (the provider name in titles, a templated
summary, the category we classified, the origin's title and description read off its pages), and is
labelled "from the owner". From an unverified origin the same values are shown as claims and change
nothing. Pure: plain data in and out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from index.catalog.categories import titles as category_titles
from index.findings import finding
from index.protocol.ownership import read_proofs, verify_proofs
from index.protocol.x402 import clean_text
from index.urls import canonical_url, is_http_url

MAX_NAME = 120
MAX_DESCRIPTION = 1000
MAX_URL = 2048
MAX_RESOURCES = 500
MAX_RESOURCE_DESCRIPTION = 500

SHOWN_KEYS = ("name", "description", "category", "category_claimed", "docs_url", "logo_url")  # in the record's `owner`
FROM_OWNER = "from the owner"
CLAIMED = "claimed by the origin, not verified"

_NAME_KEYS = ("name", "title", "serviceName", "service_name")
_DESCRIPTION_KEYS = ("description", "summary")
_DOCS_KEYS = ("docs", "docsUrl", "docsURL", "documentation", "documentationUrl", "docs_url")
_LOGO_KEYS = ("logo", "logoUrl", "logoURL", "iconUrl", "icon", "image")
_NESTED = ("service", "serviceInfo", "info", "metadata", "owner", "provider")
_RESOURCE_LISTS = ("resources", "items", "endpoints")


def _first(scopes: list[dict[str, Any]], keys: tuple[str, ...], limit: int) -> str | None:
    for scope in scopes:
        for key in keys:
            text = clean_text(scope.get(key), limit)
            if text:
                return text
    return None


def _url(scopes: list[dict[str, Any]], keys: tuple[str, ...], base: str) -> str | None:
    for scope in scopes:
        for key in keys:
            value = scope.get(key)
            if isinstance(value, dict):  # {"url": …} as some manifests write links
                value = value.get("url") or value.get("href")
            text = clean_text(value, MAX_URL)
            if not text or any(c.isspace() for c in text):
                continue
            absolute = urljoin(base, text)
            if is_http_url(absolute) and "@" not in absolute.split("/", 3)[2]:
                return absolute
    return None


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


def _resource_key(url: str, method: str | None = None) -> str | None:
    try:
        key = canonical_url(url)
    except ValueError:
        return None
    return f"{method.upper()} {key}" if method else key


def _resource_descriptions(obj: dict[str, Any], base: str) -> dict[str, str]:
    out: dict[str, str] = {}

    def add(raw_url: Any, method: Any, text: Any) -> None:
        if len(out) >= MAX_RESOURCES or not isinstance(raw_url, str):
            return
        parts = raw_url.strip().split(None, 1)
        if len(parts) == 2 and parts[0].isalpha() and parts[0].isupper():
            method, raw_url = parts[0], parts[1]
        description = clean_text(text, MAX_RESOURCE_DESCRIPTION)
        absolute = urljoin(base, raw_url.strip())
        if not description or not is_http_url(absolute):
            return
        key = _resource_key(absolute, method if isinstance(method, str) and method.isalpha() else None)
        if key:
            out.setdefault(key, description)

    for list_key in _RESOURCE_LISTS:
        entries = obj.get(list_key)
        if not isinstance(entries, list):
            continue
        for entry in entries[:MAX_RESOURCES]:
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource")
            url = entry.get("url") or entry.get("path") or (resource.get("url") if isinstance(resource, dict) else resource)
            text = entry.get("description")
            if text is None and isinstance(resource, dict):
                text = resource.get("description")
            add(url, entry.get("method"), text)
    mapping = obj.get("descriptions")
    if isinstance(mapping, dict):
        for raw_url, text in list(mapping.items())[:MAX_RESOURCES]:
            add(raw_url, None, text)
    return out


def read_owner_metadata(obj: Any, page_url: str) -> dict[str, Any]:
    """The owner metadata of a well-known document (shape in this module's docstring); {} when none.

    → {"name"?, "description"?, "category"?, "category_claimed"?, "docs_url"?, "logo_url"?,
       "resources"?: {"<canonical url>" | "<METHOD> <canonical url>": description}}"""
    if not isinstance(obj, dict):
        return {}
    scopes = [obj, *(obj[k] for k in _NESTED if isinstance(obj.get(k), dict))]
    out: dict[str, Any] = {}
    for key, value in (("name", _first(scopes, _NAME_KEYS, MAX_NAME)),
                       ("description", _first(scopes, _DESCRIPTION_KEYS, MAX_DESCRIPTION)),
                       ("docs_url", _url(scopes, _DOCS_KEYS, page_url)),
                       ("logo_url", _url(scopes, _LOGO_KEYS, page_url))):
        if value:
            out[key] = value
    claimed = next((s.get(k) for s in scopes for k in ("category", "categories", "tags") if s.get(k)), None)
    category = known_category(claimed)
    if category:
        out["category"] = category
    elif isinstance(claimed, str):
        text = clean_text(claimed, 60)
        if text:
            out["category_claimed"] = text
    resources = _resource_descriptions(obj, page_url)
    if resources:
        out["resources"] = resources
    return out


def resource_description(meta: dict[str, Any], url: str, method: str) -> str | None:
    """The owner's description of one resource: for its method, else for its URL."""
    resources = meta.get("resources") or {}
    key = _resource_key(url)
    if key is None:
        return None
    return resources.get(f"{method.upper()} {key}") or resources.get(key)


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
        **{k: meta[k] for k in SHOWN_KEYS if k in meta},
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


PROOF_KINDS = ("well_known", "openapi")  # where proofs are read, first wins


def origin_owner(origin_url: str, pages: list[dict[str, Any]], pay_to: list[str]) -> OwnerView | None:
    """An origin's owner: its `owner` block, the findings of its proofs that did not verify, and its
    per-resource descriptions.

    `pages`: the origin's discovery documents as {"kind", "fetched_at" (ISO), "info"} (a page item's
    `extracted.info`), read in PROOF_KINDS order; `pay_to`: the payTo addresses of its live 402s.
    None when the origin published neither proofs nor owner metadata."""
    rank = {k: i for i, k in enumerate(PROOF_KINDS)}
    ordered = sorted((p for p in pages if p.get("kind") in rank and isinstance(p.get("info"), dict)),
                     key=lambda p: (rank[p["kind"]], str(p.get("url") or "")))
    meta = next((p["info"]["owner"] for p in ordered if isinstance(p["info"].get("owner"), dict)), {})
    with_proofs = next((p for p in ordered if read_proofs(p["info"].get("ownership_proofs"))), None)
    if with_proofs is None and not any(k in meta for k in SHOWN_KEYS):
        return None  # per-resource descriptions alone count only from a verified owner
    findings: list[dict[str, Any]] = []
    verified, addresses, failed = False, [], []
    source = checked_at = None
    if with_proofs is not None:
        source, checked_at = with_proofs["kind"], with_proofs.get("fetched_at")
        verdict = verify_proofs(origin_url, read_proofs(with_proofs["info"]["ownership_proofs"]), pay_to)
        verified, addresses = verdict.verified, verdict.addresses
        for result in verdict.failed:
            failed.append(result.as_json())
            code = "ownership_proof_malformed" if result.status == "malformed" else "ownership_proof_invalid"
            findings.append(finding(code, f"{source}:ownershipProofs", f"{result.as_json()['signature']}: {result.reason}"))
    block = owner_block(meta, verified=verified, source=source, checked_at=checked_at, addresses=addresses, failed=failed)
    return OwnerView(block, findings, dict(meta.get("resources") or {}))
