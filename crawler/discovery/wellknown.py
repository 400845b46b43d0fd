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

import re
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
from index.protocol.networks import BODY_METHODS, HTTP_METHODS
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


_TEMPLATED = re.compile(r"/(?::[A-Za-z_]\w*|[^/]*(?:\{|%7[Bb])[^/]*)(?:/|$)")


def _method_resource(entry: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """An item whose `resource` is "METHOD /path" (seen in the wild: AgentResolver, x402-books) as an
    item with the path as its resource, and the method it names."""
    res = entry.get("resource")
    if not isinstance(res, str) or len(res) > 4096:
        return entry, None
    method, raw = split_method(res)
    return ({**entry, "resource": raw}, method) if method else (entry, None)


def _schema_hints(entry: dict[str, Any], cand: Candidate) -> None:
    """An item's own `inputSchema` (a JSON Schema of the body) and `examples` ([body, …]) as hints and
    an example body, when it declared no bazaar or outputSchema hints."""
    schema, examples = entry.get("inputSchema"), entry.get("examples")
    method = (cand.get("method") or "").upper()
    if cand.get("hints") or not isinstance(schema, dict) or method not in BODY_METHODS:
        return
    inp: dict[str, Any] = {"type": "http", "method": method, "bodyType": "json"}
    example = examples[0] if isinstance(examples, list) and examples and isinstance(examples[0], dict) else None
    if example is not None:
        inp["body"] = example
    ok, hints = kept_value({"source": "well_known", "input": inp,
                            "input_schema": {"type": "object", "properties": {"body": schema}}}, MAX_KEPT_BYTES)
    if ok:
        cand["hints"] = hints
        if example is not None:
            cand["body"] = hints["input"]["body"]


def parse_well_known(obj: Any, page_url: str) -> Discovered:
    """Candidates from a well-known x402 manifest (either shape), same-origin entries only.

    info: {"version"?, "instructions"?, "ownership_proofs"?, "owner"? (index.protocol.owner_meta), "last_updated"?,
    "invalid_entries", "templated_skipped" (entries whose path is a template such as /read/:id), "entries_truncated"}.
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
    invalid = templated = 0
    seen: set[tuple[str, str]] = set()
    default_version = version if version in (1, 2) else None
    for where, entry in entries[:MAX_ENTRIES]:
        if isinstance(entry, dict) and _is_item(entry):
            entry, said_method = _method_resource(entry)
            cand = item_candidate(entry, source, page_url, default_version)
            if cand is not None:
                cand["method"] = cand.get("method") or said_method
                _schema_hints(entry, cand)
            raw = cand["url"] if cand else None
            if cand is not None and updated and "last_updated" not in cand.get("declared", {}):
                cand.setdefault("declared", {})["last_updated"] = updated
        else:
            cand, raw = _simple_entry(entry, page_url, source)
        if cand is None:
            invalid += 1
            continue
        if _TEMPLATED.search(cand["url"].split("?", 1)[0]):  # /providers/{name}, /read/:id: a route, not a call
            templated += 1
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
    info["templated_skipped"] = templated
    found.info = info
