"""The search index: pagefind over a built site indexes the resource pages, and only them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from index.site.search import build_search_index
from index.site.build import build_site
from tests.support.records import sample_record


def test_pagefind_indexes_every_resource_page_and_nothing_else(tmp_path: Path) -> None:
    records = [sample_record(slug=f"api-example-com-v1-thing-{i}", url=f"https://api.example.com/v1/thing-{i}",
                             title=f"Thing {i}", summary=f"Zebraword {i} for agents") for i in range(3)]
    build_site(records, tmp_path, "https://x402-index.example")
    build_search_index(tmp_path)
    entry = json.loads((tmp_path / "pagefind" / "pagefind-entry.json").read_text())
    assert [lang["page_count"] for lang in entry["languages"].values()] == [3]
    urls = set()
    for fragment in (tmp_path / "pagefind" / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd")
        urls.add(json.loads(data)["url"])
    assert urls == {f"/r/api-example-com-v1-thing-{i}.html" for i in range(3)}
