"""Which part of the search index a resource page is in, and each part's key.

pagefind holds a whole index in memory while it builds it: one run over every resource page peaks at
11.6 GB at 100,000 pages. The index is built in parts instead, each by its own pagefind run over its
own pages (index.site.search), so a run's memory is bounded by the part's size, not the catalog's;
the browser merges the parts (pagefind's mergeIndex).

A page's part is a stable hash of its slug modulo the number of parts: parts are of about equal size
whatever the slugs look like (hosts, categories and origins are very uneven), and a page stays in its
part from build to build. The number of parts follows the catalog's size with some slack both ways
(`part_count`), so a catalog that hovers around a boundary does not regroup every page each build;
regrouping (all parts built again) happens when the catalog has about doubled or halved.

A part's key hashes the searchable text of its pages (each page's search key, index.site.coarse,
and its slug) with the build fingerprint: a part whose key did not move would be indexed into the
same bundle, so pagefind is not run for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# The most pages a part may hold on average before the parts are regrouped. pagefind's peak RSS grows
# linearly with the pages of a run, about 25 KB a page plus 20 MB with the searched text of
# site_templates/resource.html, ~115 KB a page with the text pages had before (bench/README.md, "The
# search index in parts"): a run over 5,000 pages peaks near 150 MB, and would stay under 0.6 GB even
# at the old density. The fullest part of a hash split is within a few percent of the mean.
PART_MAX = 5000
PART_TARGET = PART_MAX // 2  # pages per part on average right after a regrouping
PART_MIN = PART_MAX // 8  # below this on average, the parts are regrouped (fewer, fuller)


def part_of(slug: str, count: int) -> int:
    """The part of the page of `slug` when there are `count` parts (stable across processes and runs:
    Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(slug.encode(), digest_size=8).digest(), "big") % count


def part_count(pages: int, previous: int | None) -> int:
    """How many parts for `pages` pages: the last build's number while its parts hold between PART_MIN
    and PART_MAX pages on average, else enough parts for PART_TARGET each; 0 without pages."""
    if pages <= 0:
        return 0
    if previous and previous > 0 and PART_MIN * previous <= pages <= PART_MAX * previous:
        return previous
    return max(1, -(-pages // PART_TARGET))


def part_keys(slugs: Sequence[str], keys: Sequence[bytes], fingerprint: str, count: int) -> list[str]:
    """Per part, the hex key of its pages: each (slug, page search key) pair, in slug order (the
    catalog's order does not change the index), with the fingerprint; "" for a part without pages."""
    members: list[list[bytes]] = [[] for _ in range(count)]
    for slug, key in zip(slugs, keys, strict=True):
        members[part_of(slug, count)].append(slug.encode() + b"\0" + key)
    out = []
    for pairs in members:
        if not pairs:
            out.append("")
            continue
        h = hashlib.blake2b(fingerprint.encode(), digest_size=16)
        for pair in sorted(pairs):
            h.update(len(pair).to_bytes(4, "big") + pair)
        out.append(h.hexdigest())
    return out


def combined_key(keys: Sequence[str]) -> str:
    """One key for the whole index: it moves when any part's does (the build state keeps it)."""
    return hashlib.blake2b("\n".join(keys).encode(), digest_size=16).hexdigest()
