"""Facilitator discovery: `GET {facilitator}/discovery/resources`, paginated, read field by field."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crawler.discovery import Candidate
from index.hints import extract_hints


def discovery_url(facilitator: str, offset: int = 0, limit: int = 100) -> str:
    base = facilitator.rstrip("/")
    return f"{base}/discovery/resources?{urlencode({'type': 'http', 'limit': limit, 'offset': offset})}"


def _declared_method(item: dict[str, Any]) -> str | None:
    """The method an item declares: bazaar info first, then a v1 outputSchema in any accept."""
    bazaar = (item.get("extensions") or {}).get("bazaar") if isinstance(item.get("extensions"), dict) else None
    if isinstance(bazaar, dict):
        method = ((bazaar.get("info") or {}).get("input") or {}).get("method")
        if isinstance(method, str):
            return method.upper()
    for acc in item.get("accepts") or []:
        if isinstance(acc, dict):
            schema = acc.get("outputSchema") or acc.get("output_schema") or {}
            method = (schema.get("input") or {}).get("method") if isinstance(schema, dict) else None
            if isinstance(method, str):
                return method.upper()
    return None


def _item_url(item: dict[str, Any]) -> str | None:
    res = item.get("resource")
    if isinstance(res, dict):
        res = res.get("url")
    return res if isinstance(res, str) and res else None


def parse_discovery_page(obj: Any, page_url: str, offset: int, limit: int) -> tuple[list[Candidate], int | None]:
    """Candidates on one page, and the next offset (None when this was the last page)."""
    if not isinstance(obj, dict):
        return [], None
    items = obj.get("items") if isinstance(obj.get("items"), list) else obj.get("resources")
    items = items if isinstance(items, list) else []
    out: list[Candidate] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type", "http") != "http":
            continue
        url = _item_url(item)
        if url:
            cand: Candidate = {"url": url, "method": _declared_method(item), "source": {"kind": "facilitator", "url": page_url}}
            # Declared hints steer the probe (method, example or schema-built body); the live 402 decides.
            extensions = item.get("extensions") if isinstance(item.get("extensions"), dict) else {}
            accepts = item.get("accepts") if isinstance(item.get("accepts"), list) else []
            hints = extract_hints(extensions, accepts[:20])
            if hints:
                cand["hints"] = hints
            out.append(cand)
    pagination = obj.get("pagination") if isinstance(obj.get("pagination"), dict) else {}
    total = pagination.get("total")
    if isinstance(total, int) and not isinstance(total, bool):
        next_offset = offset + limit
        return out, next_offset if next_offset < total and items else None
    return out, None
