"""What the resource pages and the aggregate pages of a build share: rows per list page, the sort
orders, the JSON encodings of the machine files, and a record's summary (what the aggregates are
made from, kept between builds) with its pre-rendered table row."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import orjson
from markupsafe import Markup

from index.catalog.record import CatalogRecord, index_entry_dict
from index.site.origins import facts_of

PAGE_ROWS = 1000  # rows per list page; the home page shows the first page of the default order
SORTS = ("title", "price", "uptime")


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Deterministic JSON: sorted keys, UTF-8, a trailing newline."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")) + "\n"


def compact_json(obj: Any) -> bytes:
    """Compact deterministic JSON for the large machine files (orjson: sorted keys, UTF-8)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def summary_of(rec: CatalogRecord, row: str) -> dict[str, Any]:
    """What the aggregates need of one record (kept in the build state between builds)."""
    o = rec.origin
    return {
        "entry": index_entry_dict(rec),
        "first_seen": rec.first_seen,
        "origin": {"slug": o.slug, "host": o.host, "title": o.title, "description": o.description, "url": o.url,
                   "owner_verified": rec.owner_verified, "owner_label": rec.owner.label if rec.owner else None},
        "changes": [c.model_dump(mode="json") for c in rec.terms_changes]
        + [{"field": c.kind, "at": c.at, "before": [c.before] if c.before else [], "after": [c.after] if c.after else []}
           for c in rec.status_changes],
        "row": row,
        "facts": facts_of(rec),  # payTo and links, for the origin pages
    }


def rows_markup(rows: Iterable[str], depth: int) -> Markup:
    """Pre-rendered table rows (made for pages one folder deep) for a page at `depth`."""
    joined = "".join(rows)
    if depth == 0:
        joined = joined.replace('="../', '="')
    return Markup(joined)
