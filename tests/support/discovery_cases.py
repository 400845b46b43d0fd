"""Golden discovery documents: tests/fixtures/discovery/<case>/{document, meta.json, expected.json}.

`document` is the body as a server sends it; `meta.json` says which reader reads it and from where:
    {"reader": "well_known" | "openapi" | "llms_txt" | "facilitator", "url": <the URL it was read from>,
     "offset"?: n, "limit"?: n, "page"?: n}    # facilitator pages: the request's paging
`expected.json` is everything the reader returns (candidates, docs_links, findings, info; for a
facilitator page also next_offset). Adding a case is adding a folder: draft its expected.json with
    python -m tests.support.discovery_cases CASE
and check every value against the document before committing it.
"""

from __future__ import annotations

from tests.support import FIXTURES
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from crawler.discovery.facilitator import parse_discovery_response
from crawler.discovery.llms import parse_llms_txt
from crawler.discovery.openapi import parse_openapi
from crawler.discovery.wellknown import parse_well_known
from index.untrusted import safe_json_loads

CASES_DIR = FIXTURES / "discovery"
READERS = ("well_known", "openapi", "llms_txt", "facilitator")


def read_case(case: Path) -> dict[str, Any]:
    """What the case's reader makes of its document, as the spiders call it (a JSON document that does
    not parse reaches no JSON reader: the spider records the fetch as failed)."""
    meta = json.loads((case / "meta.json").read_text())
    body = (case / "document").read_bytes()
    reader, url = meta["reader"], meta["url"]
    if reader == "openapi":
        return asdict(parse_openapi(body, url))
    if reader == "llms_txt":
        return asdict(parse_llms_txt(body[:1_000_000].decode("utf-8", "replace"), url))
    obj = safe_json_loads(body)
    if reader == "well_known":
        return asdict(parse_well_known(obj, url))
    if reader == "facilitator":
        found, nxt = parse_discovery_response(obj, url, meta.get("offset", 0), meta.get("limit", 100), meta.get("page", 0))
        return {**asdict(found), "next_offset": nxt}
    raise ValueError(f"{case.name}: unknown reader {reader!r} (one of {READERS})")


def cases() -> list[str]:
    return sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


if __name__ == "__main__":
    for name in sys.argv[1:] or cases():
        print(f"== {name}")
        print(json.dumps(read_case(CASES_DIR / name), indent=2, ensure_ascii=False))
