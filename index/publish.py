"""The build pipeline, in one home: store → catalog records → site → search index.

`build`, `run` and `demo` all call `build()`. The catalog is never held whole: the plan of the whole
catalog (index.catalog.plan: slugs, pricing checks, a few values per resource) is made first, then
the site build makes the records a slice at a time from the store, in its forked render workers
(index.catalog.build.StoreRecords), so the memory of a build does not grow with the records' size.
The builds allocate many small long-lived objects; one `no_collections()` block spans them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def build(db_url: str, out_dir: Path, base_url: str = "", *, search: bool = True,
          progress: Callable[[int, int], None] | None = None, force: bool = False) -> dict[str, Any]:
    """Build the catalog from the database at `db_url` into `out_dir`; the site writer's counts.
    `force` writes into a non-empty folder no build of ours wrote (index.site.writer.check_out_dir)."""
    from index.catalog.build import StoreRecords
    from index.gcpolicy import no_collections
    from index.site.build import build_site
    from index.site.search import build_search_index
    from index.store.engine import init_db

    with no_collections():
        start = time.perf_counter()
        records = StoreRecords(init_db(db_url), site_url=base_url)
        planned = time.perf_counter() - start
        counts = build_site(records, out_dir, base_url, progress=progress, force=force)
    counts["phases_s"] = {"plan": round(planned, 3), **counts.get("phases_s", {})}
    if search:
        # the index is in parts (index.site.search); pagefind runs only for the parts whose key, the
        # searchable text of their pages (index.site.coarse), is not the one their served bundle was built from
        done = build_search_index(out_dir, keys=counts.get("search_parts"))
        counts["search"] = "built" if done.built else "unchanged"
        counts["search_s"] = round(done.seconds, 3)
        counts["search_built"] = done.built
        counts["search_count"] = done.parts
    return counts
