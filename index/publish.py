"""The build pipeline, in one home: store → catalog records → site → search index.

`build`, `run` and `demo` all call `build()`. Both the catalog and the site stage allocate many
small long-lived objects; one `no_collections()` block spans both, so the collector, back on between
them, does not first walk every record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def build(db_url: str, out_dir: Path, base_url: str = "", *, search: bool = True,
          progress: Callable[[int, int], None] | None = None, force: bool = False) -> dict[str, Any]:
    """Build the catalog from the database at `db_url` into `out_dir`; the site writer's counts.
    `force` writes into a non-empty folder no build of ours wrote (index.site.writer.check_out_dir)."""
    from index.catalog.build import build_records
    from index.gcpolicy import no_collections
    from index.site.build import build_site
    from index.site.search import build_search_index
    from index.store.engine import init_db

    with no_collections():
        records = build_records(init_db(db_url), site_url=base_url)
        counts = build_site(records, out_dir, base_url, progress=progress, force=force)
    if search:
        # the index is in parts (index.site.search); pagefind runs only for the parts whose key, the
        # searchable text of their pages (index.site.coarse), is not the one their served bundle was built from
        done = build_search_index(out_dir, keys=counts.get("search_parts"))
        counts["search"] = "built" if done.built else "unchanged"
        counts["search_s"] = round(done.seconds, 3)
        counts["search_built"] = done.built
        counts["search_count"] = done.parts
    return counts
