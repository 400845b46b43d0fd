"""What discovery reads at most from one server, and the finding when a server offers more.

A facilitator's listing is read page after page, each page naming the next offset; a listing that
never ends (ten million one-item pages) or that serves the same page whatever offset it is asked
for would keep a crawl reading for ever. `ListingWalk` ends a listing after `max_pages` pages
(`discovery_capped`) or at the first page whose items repeat an earlier page (`discovery_repeated`).

Documents an origin publishes about itself (well-known, OpenAPI, llms.txt) are read once per crawl
and their parsers keep at most a fixed number of entries each; docs links are followed up to a
budget per origin. `capped_finding` says when one of those limits cut what a server offered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from index.findings import finding


class ListingWalk:
    """One facilitator listing in one crawl. Memory: one 16-byte digest per page read."""

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max(1, max_pages)
        self.pages = 0
        self._digests: set[bytes] = set()

    def read(self, items: Iterable[dict[str, Any]], page_url: str, more: bool) -> dict[str, Any] | None:
        """Record a page (its candidates); `more`: the listing says a next page exists. None: read
        the next page (if any); otherwise the finding that ends the listing here."""
        self.pages += 1
        keys = sorted((str(c.get("url")), str(c.get("method") or "").upper()) for c in items)
        digest = hashlib.blake2b(repr(keys).encode(), digest_size=16).digest()
        if digest in self._digests:
            return finding("discovery_repeated", page_url, f"page {self.pages} repeats an earlier page")
        self._digests.add(digest)
        if more and self.pages >= self.max_pages:
            return finding("discovery_capped", page_url, f"listing read up to its limit of {self.max_pages} pages")
        return None


def listing_page(facilitator_origin: str, page_url: str, status: int, stop: dict[str, Any]) -> dict[str, Any]:
    """The page item that stores why a listing was not read to its end (on the facilitator's origin)."""
    return {"kind": "page", "origin": facilitator_origin, "url": page_url, "page_kind": "facilitator",
            "fetched_at": datetime.now(UTC).isoformat(), "status": status, "error_code": stop["code"],
            "content_type": None, "extracted": {"findings": [stop]}}


def capped_finding(kind: str, info: dict[str, Any], candidates: int, docs_links: int, page_url: str,
                   max_links: int) -> dict[str, Any] | None:
    """The `discovery_capped` finding for an origin document whose parser dropped entries at its
    limit: well-known entries, OpenAPI operations, llms.txt links (`max_links` each)."""
    detail = None
    if kind == "well_known" and info.get("entries_truncated"):
        detail = f"{info['entries_truncated']} entries past the limit"
    elif kind == "openapi" and info.get("operations_truncated"):
        detail = f"{info['operations_truncated']} paid operations past the limit"
    elif kind == "llms_txt" and max(candidates, docs_links) >= max_links:
        detail = f"links kept up to the limit of {max_links}"
    return finding("discovery_capped", page_url, detail) if detail else None


def docs_budget_finding(origin: str, budget: int) -> dict[str, Any]:
    """When an origin offered more docs pages than the crawl reads from one origin."""
    return finding("discovery_capped", origin, f"docs pages read up to the limit of {budget} for this origin")
