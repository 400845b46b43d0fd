"""Candidate sources as pure functions: seed lists, facilitator discovery pages, an origin's
`/.well-known/x402`, its OpenAPI document and its llms.txt.

Every reader here is pure (no Scrapy, no I/O), bounded in what it keeps, and never raises on hostile
input. What a source says about an endpoint is kept as `declared` data: it steers the probe and is
compared with the live 402 (index.protocol.declared), never trusted over it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict
from urllib.parse import urljoin, urlsplit, urlunsplit

from index.protocol.networks import HTTP_METHODS
from index.urls import MAX_URL, origin_of

# Where a candidate was learned of: Candidate["source"] = {"kind": <one of these>, "url": <page read>}.
SOURCE_KINDS = ("seed", "facilitator", "well_known", "openapi", "llms_txt", "docs", "docs-mention")

MAX_KEPT_BYTES = 64 * 1024  # compact JSON of one kept body or hints value


class Candidate(TypedDict, total=False):
    """Something to probe: a URL, the method its source declares (if any), an example body, and
    where we learned of it.

    `declared` is what the source claims about the endpoint, checked against the live 402 and never
    trusted over it:
        {"x402_version"?: 1 | 2,
         "accepts"?: [index.protocol.normalize.normalize_accept(...).model_dump(mode="json"), ...],
         "price_usd"?: "0.01",            # decimal USD as the source wrote it (no "$")
         "price_dynamic"?: bool,
         "price_min_usd"?: "0.01", "price_max_usd"?: "1.00",   # dynamic price range, when given
         "protocols"?: ["x402", ...],
         "last_updated"?: "2025-08-09T01:07:04.005Z",          # ISO-8601 UTC
         "type"?: "http" | "mcp",
         "tool"?: "<MCP tool name>"}
    """

    url: str
    method: str | None
    body: Any
    hints: dict[str, Any]  # declared input/output hints (index.protocol.hints shape), used to plan the probe
    source: dict[str, Any]  # {kind, url}
    declared: dict[str, Any]


@dataclass
class Discovered:
    """What one discovery document gave us.

    candidates: endpoints to probe. docs_links: same-origin page URLs worth reading as docs.
    findings: index.findings dicts about the document (cross-origin entries, unreadable documents).
    info: what the document says about the origin itself (title, description, instructions, …) and
    counters of what was skipped.
    """

    candidates: list[Candidate] = field(default_factory=list)
    docs_links: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def split_method(entry: str) -> tuple[str | None, str]:
    """'POST https://x/y' → ('POST', 'https://x/y'); a bare URL → (None, url)."""
    parts = entry.strip().split(None, 1)
    if len(parts) == 2 and parts[0].upper() in HTTP_METHODS:
        return parts[0].upper(), parts[1].strip()
    return None, entry.strip()


def source_of(kind: str, page_url: str) -> dict[str, Any]:
    """A Candidate source dict."""
    return {"kind": kind, "url": page_url}


# ---------------------------------------------------------------------------------------------
# URLs


def resolve_url(ref: Any, base: str) -> str | None:
    """An absolute http(s) URL for `ref` read against `base`, without fragment; None when `ref` is not a
    usable link (not a string, too long, whitespace, control characters or backslashes inside,
    credentials, another scheme, no host, a port that does not parse)."""
    if not isinstance(ref, str):
        return None
    ref = ref.strip()
    if not ref or len(ref) > MAX_URL or "\\" in ref or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in ref):
        return None
    try:
        parts = urlsplit(urljoin(base, ref))
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))
    return url if len(url) <= MAX_URL else None


def same_origin(url: str, page_url: str) -> bool:
    """True when both URLs have the same scheme, host and port (index.urls.origin_of)."""
    try:
        return origin_of(url) == origin_of(page_url)
    except ValueError:
        return False


def page_origin(page_url: str) -> str | None:
    """The origin of the page we read, or None when its URL does not parse."""
    try:
        return origin_of(page_url)
    except ValueError:
        return None
