"""Publish: catalog records → a static site (Jinja2) and its machine files.

Output: index.html, r/<slug>.html with its JSON twin r/<slug>.json, index.json, catalog.jsonl,
static/. Writes are atomic, never outside the output folder, never twice to one path, and skipped
when the content is unchanged. Pages of resources no longer in the catalog are removed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from index.categories import categories
from index.networks import lookup_network
from index.paths import TEMPLATES_DIR
from index.record import SCHEMA_ID, SCHEMA_VERSION, CatalogRecord, index_entry, json_schema
from index.urls import is_http_url


class UnsafePath(ValueError):
    """A write that would land outside the output folder."""


class SiteWriter:
    """Pelican-style guards: sanitized joins, one write per path, atomic replace, skip unchanged."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.seen: set[Path] = set()
        self.written = 0
        self.unchanged = 0

    def path_for(self, rel: str) -> Path:
        if "\x00" in rel or rel.startswith(("/", "\\")):
            raise UnsafePath(rel)
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            raise UnsafePath(rel)
        return target

    def write(self, rel: str, content: str | bytes) -> None:
        target = self.path_for(rel)
        if target in self.seen:
            raise ValueError(f"{rel} written twice in one build")
        self.seen.add(target)
        data = content.encode("utf-8") if isinstance(content, str) else content
        if target.exists() and target.read_bytes() == data:
            self.unchanged += 1
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.written += 1

    def remove_stale(self, folder: str) -> int:
        """Delete files in a folder that this build did not write."""
        base = self.path_for(folder)
        removed = 0
        if base.is_dir():
            for path in base.iterdir():
                if path.is_file() and path.resolve() not in self.seen:
                    path.unlink()
                    removed += 1
        return removed


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Deterministic JSON: sorted keys, UTF-8, a trailing newline."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")) + "\n"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    env.tests["http_url"] = is_http_url
    env.filters["network_name"] = lambda caip2: (lookup_network(caip2).name if lookup_network(caip2) else caip2)
    env.filters["usd"] = format_usd
    env.filters["pretty_json"] = lambda obj: json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)
    return env


def format_usd(value: float | None) -> str:
    """$0.000001, $0.01, $1 — no float noise, no scientific notation; '—' when unknown."""
    if value is None:
        return "—"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return f"${text}"


def build_site(
    records: list[CatalogRecord],
    out_dir: Path,
    base_url: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the whole site for `records`; returns counts (resources, written, unchanged, removed)."""
    env = _environment()
    writer = SiteWriter(out_dir)
    base_url = base_url.rstrip("/")
    generated_at = records[0].generated_at if records else None
    entries = [index_entry(r).model_dump(mode="json") for r in records]
    ctx = {"base_url": base_url, "generated_at": generated_at, "schema_version": SCHEMA_VERSION}

    resource_tpl = env.get_template("resource.html")
    total = len(records)
    for i, record in enumerate(records, 1):
        data = record.model_dump(mode="json")
        writer.write(f"r/{record.slug}.json", dumps(data))
        writer.write(f"r/{record.slug}.html", resource_tpl.render(r=data, root="../", **ctx))
        if progress and (i % 500 == 0 or i == total):
            progress(i, total)

    counts = _counts(records)
    writer.write("index.html", env.get_template("index.html").render(entries=entries, counts=counts, root="", **ctx))
    writer.write("index.json", dumps({
        "schema_version": SCHEMA_VERSION, "generated_at": generated_at, "counts": counts, "resources": entries,
    }))
    writer.write(SCHEMA_ID, dumps(json_schema()))
    writer.write("catalog.jsonl", "".join(dumps(r.model_dump(mode="json"), indent=None) for r in records))
    static = TEMPLATES_DIR / "static"
    for path in sorted(static.iterdir()):
        if path.is_file():
            writer.write(f"static/{path.name}", path.read_bytes())
    removed = writer.remove_stale("r")
    return {"resources": total, "written": writer.written, "unchanged": writer.unchanged, "removed": removed}


def _counts(records: list[CatalogRecord]) -> dict[str, Any]:
    by_network: dict[str, int] = {}
    by_category: dict[str, int] = {}
    by_status: dict[str, int] = {}
    for r in records:
        for n in r.networks:
            by_network[n] = by_network.get(n, 0) + 1
        by_category[r.category] = by_category.get(r.category, 0) + 1
        by_status[r.status] = by_status.get(r.status, 0) + 1
    order = [c.name for c in categories()]
    return {
        "resources": len(records),
        "origins": len({r.origin.url for r in records}),
        "by_network": dict(sorted(by_network.items())),
        "by_category": {k: by_category[k] for k in order if k in by_category},
        "by_status": dict(sorted(by_status.items())),
    }

