"""An origin's own x402 manifest: `/.well-known/x402` and the draft `/.well-known/x402.json`.

Two shapes occur (x402-protocol.md §5.2), and both are read from either path:

- x402scan's list: `{"version": 1, "resources": ["https://o/a", "POST /b", …], "ownershipProofs"?: [...],
  "instructions"?: "…"}`;
- the foundation draft: `{"x402Version": 2, "lastUpdated"?, "items": [{resource, type, accepts, input,
  output, requires}, …]}`, items shaped like facilitator discovery items.

Same-origin rule: an origin speaks only for itself. Entries on another origin are dropped, each with a
`cross_origin_entry` finding. Relative URLs are read against the manifest's URL.
"""

from __future__ import annotations

from typing import Any

from crawler.discovery import (
    MAX_KEPT_BYTES,
    Candidate,
    Discovered,
    resolve_url,
    same_origin,
    source_of,
    split_method,
)
from crawler.discovery.facilitator import item_candidate
from index.findings import finding
from index.protocol.networks import HTTP_METHODS
from index.protocol.owner_meta import read_owner_metadata
from index.protocol.ownership import read_proofs
from index.urls import canonical_url
from index.untrusted import clean_text, iso_utc, kept_value

WELL_KNOWN_PATHS = ("/.well-known/x402", "/.well-known/x402.json")
MAX_ENTRIES = 1000
MAX_INSTRUCTIONS = 4000
MAX_PROOFS = 10
MAX_PROOF = 600


def _version(obj: dict[str, Any]) -> int | None:
    for key in ("x402Version", "version"):
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 1000:
            return value
    return None


def _proofs(value: Any) -> list[str | dict[str, str]]:
    """Proof strings, and {signature, address?, network?} objects (index.protocol.ownership reads both)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    out: list[str | dict[str, str]] = []
    for v in value[:MAX_PROOFS]:
        if isinstance(v, dict):
            out.extend({k: x for k, x in vars(p).items() if x} for p in read_proofs(v))
        else:
            text = clean_text(v, MAX_PROOF)
            if text:
                out.append(text)
    return out


def _is_item(entry: dict[str, Any]) -> bool:
    """A resources[] entry that is a full discovery item rather than {url, method}."""
    return any(k in entry for k in ("accepts", "resource", "type", "extensions", "input"))


def _simple_entry(entry: Any, page_url: str, source: dict[str, Any]) -> tuple[Candidate | None, str | None]:
    """A "URL" / "METHOD URL" / {url, method?, body?} entry → (candidate or None, the URL as written)."""
    method: str | None = None
    body: Any = None
    has_body = False
    if isinstance(entry, str):
        if len(entry) > 4096:
            return None, None
        method, raw = split_method(entry)
    elif isinstance(entry, dict):
        raw = entry.get("url")
        if not isinstance(raw, str):
            return None, None
        method, raw = split_method(raw)
        declared_method = entry.get("method")
        if isinstance(declared_method, str) and declared_method.strip().upper() in HTTP_METHODS:
            method = declared_method.strip().upper()
        if "body" in entry:
            body, has_body = entry["body"], True
    else:
        return None, None
    if raw.strip().upper() in HTTP_METHODS:  # "POST" with no URL
        return None, raw
    url = resolve_url(raw, page_url)
    if url is None:
        return None, raw
    cand: Candidate = {"url": url, "method": method, "source": source}
    if has_body:
        ok, plain = kept_value(body, MAX_KEPT_BYTES)
        if ok:
            cand["body"] = plain
    return cand, raw


def parse_well_known(obj: Any, page_url: str) -> Discovered:
    """Candidates from a well-known x402 manifest (either shape), same-origin entries only.

    info: {"version"?, "instructions"?, "ownership_proofs"?, "owner"? (index.protocol.owner_meta), "last_updated"?,
    "invalid_entries", "entries_truncated"}.
    """
    found = Discovered()
    if not isinstance(obj, dict):
        found.findings.append(finding("discovery_doc_invalid", page_url, "not a JSON object"))
        return found
    try:
        _read(obj, page_url, found)
    except Exception as exc:  # noqa: BLE001 - last resort: a hostile manifest must never stop the crawl
        found.findings.append(finding("discovery_doc_invalid", page_url, f"internal error: {type(exc).__name__}"))
    return found


def _read(obj: dict[str, Any], page_url: str, found: Discovered) -> None:
    source = source_of("well_known", page_url)
    version = _version(obj)
    info: dict[str, Any] = {}
    if version is not None:
        info["version"] = version
    instructions = clean_text(obj.get("instructions"), MAX_INSTRUCTIONS)
    if instructions:
        info["instructions"] = instructions
    proofs = _proofs(obj.get("ownershipProofs"))
    if proofs:
        info["ownership_proofs"] = proofs
    owner = read_owner_metadata(obj, page_url)
    if owner:
        info["owner"] = owner
    updated = iso_utc(obj.get("lastUpdated"))
    if updated:
        info["last_updated"] = updated

    entries: list[tuple[str, Any]] = []
    listed = 0
    for key in ("resources", "items"):
        value = obj.get(key)
        if isinstance(value, list):
            listed += len(value)
            entries.extend((f"{key}[{i}]", e) for i, e in enumerate(value[:MAX_ENTRIES]))
    info["entries_truncated"] = max(0, listed - MAX_ENTRIES)
    invalid = 0
    seen: set[tuple[str, str]] = set()
    default_version = version if version in (1, 2) else None
    for where, entry in entries[:MAX_ENTRIES]:
        if isinstance(entry, dict) and _is_item(entry):
            cand = item_candidate(entry, source, page_url, default_version)
            raw = cand["url"] if cand else None
            if cand is not None and updated and "last_updated" not in cand.get("declared", {}):
                cand.setdefault("declared", {})["last_updated"] = updated
        else:
            cand, raw = _simple_entry(entry, page_url, source)
        if cand is None:
            invalid += 1
            continue
        if not same_origin(cand["url"], page_url):
            found.findings.append(finding("cross_origin_entry", where, (raw or cand["url"])[:200]))
            continue
        key = (canonical_url(cand["url"]), cand.get("method") or "")
        if key in seen:
            continue
        seen.add(key)
        found.candidates.append(cand)
    info["invalid_entries"] = invalid
    found.info = info
