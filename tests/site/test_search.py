"""The search index: pagefind over a built site indexes the resource pages, and only them, in parts
(index.site.searchparts); a build indexes again only the parts whose searchable text moved."""

from __future__ import annotations

import gzip
import json
import os
import stat
from pathlib import Path

import pytest

from index.site import searchparts
from index.site.build import build_site
from index.site.search import BUNDLE, MANIFEST, SearchIndexError, build_search_index, read_manifest
from index.site.searchparts import part_count, part_keys, part_of
from tests.support.records import sample_record


def _records(n: int, **fields: str) -> list:
    return [sample_record(slug=f"api-example-com-v1-thing-{i}", url=f"https://api.example.com/v1/thing-{i}",
                          title=fields.get("title", "Thing {i}").format(i=i), summary=f"Zebraword {i} for agents",
                          category=("data", "ai", "weather")[i % 3]) for i in range(n)]


@pytest.fixture()
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of about 4 pages, so a test catalog spans several."""
    monkeypatch.setattr(searchparts, "PART_MAX", 8)
    monkeypatch.setattr(searchparts, "PART_TARGET", 4)
    monkeypatch.setattr(searchparts, "PART_MIN", 1)


def _urls(part: Path) -> set[str]:
    urls = set()
    for fragment in (part / "fragment").iterdir():
        data = gzip.decompress(fragment.read_bytes()).removeprefix(b"pagefind_dcd")
        urls.add(json.loads(data)["url"])
    return urls


def _stamps(site: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (site / BUNDLE).iterdir()}


def test_pagefind_indexes_every_resource_page_and_nothing_else(tmp_path: Path) -> None:
    build_site(_records(3), tmp_path, "https://x402-index.example")
    done = build_search_index(tmp_path)
    assert (done.parts, done.built) == (1, 1)
    assert read_manifest(tmp_path)["parts"] == ["p000"]
    part = tmp_path / BUNDLE / "p000"
    entry = json.loads((part / "pagefind-entry.json").read_text())
    assert [lang["page_count"] for lang in entry["languages"].values()] == [3]
    assert _urls(part) == {f"/r/api-example-com-v1-thing-{i}.html" for i in range(3)}
    assert not (tmp_path / ".pagefind-stage").exists()


def test_each_page_is_in_one_part_by_the_hash_of_its_slug(tmp_path: Path, small_parts: None) -> None:
    counts = build_site(_records(20), tmp_path)
    keys = counts["search_parts"]
    assert len(keys) == 5 and all(keys) and counts["search_key"]
    done = build_search_index(tmp_path, keys=keys)
    manifest = read_manifest(tmp_path)
    assert manifest["count"] == 5 and manifest["parts"] == [f"p{i:03d}" for i in range(5)]
    assert (done.parts, done.built) == (5, 5)
    seen: dict[str, int] = {}
    for k, name in enumerate(manifest["parts"]):
        for url in _urls(tmp_path / BUNDLE / name):
            slug = url.removeprefix("/r/").removesuffix(".html")
            assert slug not in seen and part_of(slug, 5) == k
            seen[slug] = k
    assert sorted(seen) == sorted(f"api-example-com-v1-thing-{i}" for i in range(20))


def test_only_the_parts_whose_searchable_text_moved_are_indexed_again(tmp_path: Path, small_parts: None) -> None:
    records = _records(20)
    first = build_site(records, tmp_path)
    build_search_index(tmp_path, keys=first["search_parts"])
    before = _stamps(tmp_path)
    # a price and the health moved: nothing a searcher types, no part indexed again
    repriced = [r.model_copy(update={"price_usd": 0.5, "status": "timeout", "last_probed_at": "2026-11-25T00:00:00Z"})
                for r in records]
    quiet = build_site(repriced, tmp_path)
    assert quiet["search_parts"] == first["search_parts"] and quiet["search_key"] == first["search_key"]
    assert build_search_index(tmp_path, keys=quiet["search_parts"]).built == 0
    assert _stamps(tmp_path) == before
    # one title moved: its part alone is indexed again, and swapped in
    retitled = [r.model_copy(update={"title": "Quokkaword"}) if i == 7 else r for i, r in enumerate(repriced)]
    moved = build_site(retitled, tmp_path)
    changed = [k for k, (a, b) in enumerate(zip(first["search_parts"], moved["search_parts"])) if a != b]
    assert changed == [part_of("api-example-com-v1-thing-7", 5)]
    done = build_search_index(tmp_path, keys=moved["search_parts"])
    assert (done.parts, done.built) == (5, 1)
    after = _stamps(tmp_path)
    name = f"p{changed[0]:03d}"
    assert after[name] != before[name]
    assert {k: v for k, v in after.items() if k not in (name, MANIFEST)} == \
        {k: v for k, v in before.items() if k not in (name, MANIFEST)}
    assert sorted(os.listdir(tmp_path / BUNDLE)) == sorted([*before])  # no temp folders left


def test_a_catalog_that_shrinks_drops_its_parts_and_the_bundle_of_before_parts(tmp_path: Path, small_parts: None) -> None:
    counts = build_site(_records(40), tmp_path)
    (tmp_path / BUNDLE / "fragment").mkdir(parents=True)  # the single bundle of an earlier version
    (tmp_path / BUNDLE / "pagefind.js").write_text("old")
    build_search_index(tmp_path, keys=counts["search_parts"])
    assert sorted(os.listdir(tmp_path / BUNDLE)) == sorted([MANIFEST, *(f"p{i:03d}" for i in range(10))])
    counts = build_site(_records(3), tmp_path)
    assert len(counts["search_parts"]) == 1  # 3 pages in 10 parts: fewer than PART_MIN each
    done = build_search_index(tmp_path, keys=counts["search_parts"])
    assert (done.parts, done.built) == (1, 1)
    assert sorted(os.listdir(tmp_path / BUNDLE)) == ["p000", MANIFEST]
    assert _urls(tmp_path / BUNDLE / "p000") == {f"/r/api-example-com-v1-thing-{i}.html" for i in range(3)}


def test_another_pagefind_version_indexes_every_part_again(tmp_path: Path, small_parts: None) -> None:
    counts = build_site(_records(12), tmp_path)
    build_search_index(tmp_path, keys=counts["search_parts"])
    manifest = tmp_path / BUNDLE / MANIFEST
    manifest.write_text(manifest.read_text().replace('"pagefind": "', '"pagefind": "0.'))
    assert build_search_index(tmp_path, keys=counts["search_parts"]).built == 3


def test_a_failed_run_keeps_the_served_part(tmp_path: Path, small_parts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    records = _records(12)
    counts = build_site(records, tmp_path)
    build_search_index(tmp_path, keys=counts["search_parts"])
    before = _stamps(tmp_path)
    fake = tmp_path / "fake-pagefind"
    version = read_manifest(tmp_path)["pagefind"]
    fake.write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "pagefind {version}" && exit 0\necho boom >&2\nexit 3\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(fake))
    moved = build_site([r.model_copy(update={"summary": "Other words"}) if i == 0 else r for i, r in enumerate(records)],
                       tmp_path)
    with pytest.raises(SearchIndexError, match="boom"):
        build_search_index(tmp_path, keys=moved["search_parts"])
    assert _stamps(tmp_path) == before
    assert not (tmp_path / ".pagefind-stage").exists()


def test_the_number_of_parts_follows_the_catalog_with_slack() -> None:
    most, target, least = searchparts.PART_MAX, searchparts.PART_TARGET, searchparts.PART_MIN
    assert part_count(0, None) == 0 and part_count(0, 7) == 0
    assert part_count(1, None) == 1 and part_count(target, None) == 1 and part_count(target + 1, None) == 2
    assert part_count(100_000, None) == -(-100_000 // target)
    # kept while the parts hold between PART_MIN and PART_MAX on average: a catalog that hovers
    # around a boundary is not regrouped every build
    assert part_count(10 * most, 10) == 10 and part_count(10 * least, 10) == 10
    assert part_count(10 * most + 1, 10) == -(-(10 * most + 1) // target)
    assert part_count(10 * least - 1, 10) == -(-(10 * least - 1) // target)
    # a part's pages are within a few percent of the mean at the catalog sizes that matter
    slugs = [f"host-{i % 997}-example-com-v{i}" for i in range(100_000)]
    count = part_count(len(slugs), None)
    sizes = [0] * count
    for slug in slugs:
        sizes[part_of(slug, count)] += 1
    assert max(sizes) <= 1.1 * len(slugs) / count and min(sizes) >= 0.9 * len(slugs) / count


def test_a_parts_key_is_its_pages_keys_in_any_order() -> None:
    slugs, keys = [f"s-{i}" for i in range(50)], [bytes([i]) * 16 for i in range(50)]
    a = part_keys(slugs, keys, "fp", 4)
    assert a == part_keys(slugs[::-1], keys[::-1], "fp", 4)
    assert a != part_keys(slugs, keys, "other fp", 4)
    moved = part_keys(slugs, [b"\0" * 16 if i == 9 else k for i, k in enumerate(keys)], "fp", 4)
    assert [x != y for x, y in zip(a, moved)] == [k == part_of("s-9", 4) for k in range(4)]
    assert part_keys([], [], "fp", 2) == ["", ""]
    assert part_of("api-example-com-v1-thing-7", 5) == part_of("api-example-com-v1-thing-7", 5) < 5
