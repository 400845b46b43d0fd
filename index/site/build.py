"""Publish: catalog records → a static site (Jinja2) and its machine files.

Per resource: r/<slug>.html and its JSON twin r/<slug>.json. Aggregates (rebuilt every time, written
only when their content hash changed): home, list pages in two sort orders, origin pages o/<slug>.html,
category pages c/<name>.html, stats, changes, methodology, 404, index.json, catalog.jsonl,
categories.json, metrics.json, changes.json, changes.atom, sitemaps, robots.txt, llms.txt, schema/.

Incremental: `.build-state` (marshal) in the output folder keeps, per resource, a 16-byte blake2b of its
record's compact JSON keyed with the build fingerprint (templates, base URL, the builder's version), and
a second one of its page view (what its page shows: health at a coarse resolution, `coarse`), the
search key of the pages, and the content hash of every file; `.build-summaries` (marshal) keeps the
small summary per resource the aggregates are made from, read by the parent while the workers hash and
render. A twin whose record hash is unchanged is not written again, a page whose view hash is
unchanged is not rendered again (after a crawl that changed nothing: every twin, few pages); list,
origin and category pages whose members' hashes and context are unchanged are not rendered again; pages of resources no longer
in the catalog are deleted. Every write is atomic (a temp file renamed over the target), lands inside
the output folder, and happens at most once per path and build. Resource pages are created in a folder
per range of records, then renamed into place: into a staging folder renamed to r/ once (a fresh
build), or over their old versions in r/.

Large builds render resources in forked worker processes: each takes ranges of records from the
build's record source (records in memory are inherited, never pickled; the store's catalog is made
by the worker itself, a range at a time, index.catalog.build.StoreRecords), and writes its slice of
catalog.jsonl straight into place in the new file (`parallel`). The aggregates are then made in shares spread over processes forked again
(run_shares), while the parent puts catalog.jsonl in place and deletes stale pages. The phases are
the methods of `SiteBuild`; the build state between builds is `state`'s.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from index.catalog.record import SCHEMA_ID, SCHEMA_VERSION, CatalogRecord, json_schema
from index.paths import TEMPLATES_DIR
from index.site import feeds, state
from index.site.coarse import page_view
from index.site.files import SCHEMAS, schema_for
from index.site.layout import dumps, summary_of
from index.site.pages import write_pages
from index.site.queryindex import write_query_index
from index.forked import Forked
from index.site.parallel import (CatalogFile, ListRecords, RangeRenderer, RangeResult, RecordSource, adopt,
                                  present_pages, ranges)
from index.site.render import environment, fingerprint
from index.site.search import search_keys
from index.site.searchparts import combined_key
from index.site.writer import Share, SiteWriter, check_out_dir, safe_name

PARALLEL_MIN = 4000  # records below this render in the parent process


def build_site(
    records: list[CatalogRecord] | RecordSource,
    out_dir: Path,
    base_url: str = "",
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    parallel_min: int = PARALLEL_MIN,
    force: bool = False,
) -> dict[str, Any]:
    """Write the whole site for `records` (a list, or a source that makes them a slice at a time:
    index.catalog.build.StoreRecords); returns counts (resources, rendered, written, unchanged, removed)
    and `phases_s`, the wall seconds of each phase. A folder that is not empty and holds no build state
    is refused (writer.FolderNotOurs) unless `force`; only files a build state lists are ever deleted."""
    # The records and the build state are millions of long-lived objects: the build pipeline
    # (index.publish) runs this inside index.gcpolicy.no_collections().
    return SiteBuild(records, out_dir, base_url, progress, workers, parallel_min, force).run()


class SiteBuild:
    """One build of the site, phase by phase: prepare → render resources → collect → aggregates →
    save state. Each phase reads what the ones before it set on the build."""

    def __init__(self, records: list[CatalogRecord] | RecordSource, out_dir: Path, base_url: str,
                 progress: Callable[[int, int], None] | None, workers: int | None, parallel_min: int,
                 force: bool = False) -> None:
        self.source: RecordSource = ListRecords(records) if isinstance(records, list) else records
        self.force = force
        self.root = Path(out_dir).resolve()
        self.base_url = base_url.rstrip("/")
        self.progress = progress
        self.n = len(self.source)
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.parallel = (self.workers > 1 and self.n >= parallel_min
                         and "fork" in multiprocessing.get_all_start_methods())
        self.rendered = 0
        self.removed = 0
        self._block: tuple[int, list[CatalogRecord]] | None = None  # records made again (`_record`)

    def run(self) -> dict[str, Any]:
        clock = time.perf_counter
        marks = [clock()]
        for phase in (self.prepare, self.render_resources, self.collect, self.aggregates, self.save_state):
            phase()
            marks.append(clock())
        # wall seconds per phase: resource pages, twins and catalog.jsonl slices (with the preparation);
        # the workers' results merged; the aggregate pages and machine files (catalog.jsonl put in
        # place, stale pages deleted); the build state
        pages, results, aggregates, saved = (marks[2] - marks[0], marks[3] - marks[2], marks[4] - marks[3],
                                             marks[5] - marks[4])
        phases = {"pages": pages, "results": results, "aggregates": aggregates, "state": saved}
        w = self.writer
        return {"resources": self.n, "rendered": self.rendered, "written": w.written, "unchanged": w.unchanged,
                "removed": self.removed, "phases_s": {k: round(v, 3) for k, v in phases.items()},
                "search_key": self.search_key, "search_parts": self.search_parts}

    def prepare(self) -> None:
        """The last build's state, the writer, the folders pages are made in, the ranges."""
        root = self.root
        check_out_dir(root, (state.STATE_FILE, state.RUNNING_FILE, *state.OLD_STATE_FILES), self.force)
        root.mkdir(parents=True, exist_ok=True)
        self.state = state.load_state(root)
        fp = fingerprint(self.base_url)
        # A build cut off midway (killed, crashed) may have replaced pages and files its state does not
        # know of: the state's hashes then describe files that are no longer there, and a record changed
        # back to what that state saw would keep the cut-off build's page. Trust none of them: every file
        # is made again (and compared by content before it is written).
        running = root / state.RUNNING_FILE
        cut_off = running.exists()
        running.touch()
        same_fp = self.state.get("fingerprint") == fp and not cut_off
        self.old_hashes: dict[str, bytes] = self.state.get("records") or {}  # twins
        self.old_pages: dict[str, bytes] = self.state.get("pages") or {}  # pages (index.site.coarse)
        self.writer = SiteWriter(root, self.state.get("files") if same_fp else None,
                                 self.state.get("keys") if same_fp else None, state.owned(root))
        self.slugs = [safe_name(s) for s in self.source.slugs]
        if len(set(self.slugs)) != len(self.slugs):
            dup = sorted({s for s in self.slugs if self.slugs.count(s) > 1})[:5]
            raise ValueError(f"duplicate slugs: {', '.join(dup)}")
        self.rdir = root / "r"
        # A fresh build (no r/ folder yet): pages are written straight into a staging folder that is renamed
        # to r/ in one step once every page is there, instead of a temp file and a rename per file.
        self.fresh = root / ".build-r" if not self.rdir.exists() else None
        if self.fresh is not None:
            shutil.rmtree(self.fresh, ignore_errors=True)
            self.fresh.mkdir()
        self.parts = root / ".build-parts"
        shutil.rmtree(self.parts, ignore_errors=True)
        self.parts.mkdir()
        self.generated_at = self.source.generated_at
        n = self.n
        self.ranges = ranges(n, self.workers * 8) if self.parallel else ranges(n, max(1, -(-n // 500)))
        for name in ("resource.html", "_row.html"):  # compiled before the fork, shared by the workers
            environment().get_template(name)
        self.catalog = CatalogFile(self.writer, len(self.ranges), self.parallel)
        self.renderer = RangeRenderer(self.source, self.old_hashes if same_fp else {},
                                      self.old_pages if same_fp else {}, None, fp, self.parts,
                                      {"base_url": self.base_url, "schema_version": SCHEMA_VERSION}, self.catalog)
        self.old_summaries: dict[str, dict[str, Any]] = {}

    def _look_around(self) -> None:
        """List r/ (an unchanged record whose page or twin is missing is rendered again) and claim the
        pages: while the workers render."""
        self.present, self.r_files = present_pages(self.rdir)
        for s in self.slugs:
            self.writer.claim_resource(s)

    def render_resources(self) -> None:
        """Every resource's page and twin and its catalog.jsonl line, range by range."""
        dest = self.fresh if self.fresh is not None else self.rdir
        self.results: list[RangeResult] = []
        try:
            if self.parallel:
                with Forked(self.renderer.render, self.ranges, self.workers) as pending:
                    self._look_around()
                    done = 0
                    for (_, _, part), res in zip(self.ranges, pending):
                        self.results.append(res)
                        adopt(self.parts, part, dest)  # while the workers render the next ranges
                        done += len(res[0])
                        if self.progress:
                            self.progress(done, self.n)
            else:
                self._look_around()
                self.renderer.present = self.present
                for task in self.ranges:
                    self.results.append(self.renderer.render(task))
                    adopt(self.parts, task[2], dest)
                    if self.progress:
                        self.progress(task[1], self.n)
        except BaseException:
            self.catalog.abort()
            if self.fresh is not None:
                shutil.rmtree(self.fresh, ignore_errors=True)
            raise
        if self.fresh is not None:
            os.rename(self.fresh, self.rdir)

    def collect(self) -> None:
        """Each record's hash and summary from the ranges' results (a summary the ranges did not make
        comes from the last build's, or is made again)."""
        self.hashes: list[bytes] = [b""] * self.n
        self.page_hashes: list[bytes] = [b""] * self.n
        search: list[bytes] = [b""] * self.n
        self.summaries: list[dict[str, Any]] = [{}] * self.n
        writer = self.writer
        row_tpl = None
        old, old_pages = self.renderer.old, self.renderer.old_pages
        if self.old_hashes and any(summ is None for items, _, _ in self.results for *_, summ in items):
            # the last build's summaries, read only when a record's files were both unchanged: after a
            # crawl every twin changes (its health), every summary comes from the ranges, and the file
            # (a few KB per record) is not held in memory for nothing
            self.old_summaries = state.load_summaries(self.root, self.state.get("build"))
        for items, _, written in self.results:
            writer.written += written
            for i, h, ph, sk, summ in items:
                slug = self.slugs[i]
                self.hashes[i], self.page_hashes[i] = h, ph
                search[i] = sk
                if (self.renderer.present is None and slug not in self.present
                        and (old.get(slug) == h or old_pages.get(slug) == ph)):
                    # its page or twin was deleted since the last build, and the range kept the other one
                    summ = self.renderer.render_again(self._record(i), self.rdir)
                    writer.written += 2
                if summ is None:
                    writer.unchanged += 2
                    summ = self.old_summaries.get(slug)
                    if summ is None:  # the summaries file was lost or is not this state's: make it again
                        row_tpl = row_tpl or environment().get_template("_row.html")
                        rec = self._record(i)
                        summ = summary_of(rec, row_tpl.render(r=page_view(rec), root="../"))
                else:
                    self.rendered += 1
                self.summaries[i] = summ
        # per part of the search index, the key of its pages' searchable text (index.site.search)
        self.search_parts = search_keys(self.root, self.slugs, search, self.renderer.fp)
        self.search_key = combined_key(self.search_parts)

    def _record(self, i: int) -> CatalogRecord:
        """Record i, made again (a source may make records in slices from the store: records asked for
        again come in runs, e.g. all of them when the summaries file was lost, so a block is kept)."""
        lo = i - i % 500
        if self._block is None or self._block[0] != lo:
            self._block = (lo, self.source.slice(lo, min(lo + 500, self.n)))
        return self._block[1][i - lo]

    def _removed_log(self) -> list[dict[str, Any]]:
        """The recently removed resources, newest first: the last build's log and this build's removals."""
        current = set(self.slugs)
        log = [c for c in self.state.get("removed") or [] if c.get("slug") not in current]
        gone = [slug for slug in self.old_hashes if slug not in current]
        if gone and not self.old_summaries:
            self.old_summaries = state.load_summaries(self.root, self.state.get("build"))
        for slug in gone:
            summ = self.old_summaries.get(slug)
            if summ is None:
                continue
            e = summ["entry"]
            log.insert(0, {"kind": "removed", "at": self.generated_at, "slug": slug, "title": e["title"],
                           "url": e["url"], "page": None, "before": [], "after": []})
        return log[: feeds.MAX_REMOVED]

    def aggregates(self) -> None:
        """The aggregate pages and machine files; meanwhile catalog.jsonl goes in place and the pages of
        removed resources are deleted."""
        self.removed_log = self._removed_log()
        self.build_id = os.urandom(8).hex()
        writer = self.writer
        stale_pages = 0

        def write_summaries(_: SiteWriter) -> None:  # a share of its own: beside the aggregates
            state.save_summaries(self.root, self.build_id, dict(zip(self.slugs, self.summaries)))

        def write_query_file(w: SiteWriter) -> None:  # index.sqlite, beside index.json (index.site.queryindex)
            write_query_index(w, [s["entry"] for s in self.summaries], self.generated_at, SCHEMA_VERSION)

        def meanwhile() -> None:
            """The parent's part while the aggregates' shares run: catalog.jsonl put in place (replacing
            the old one frees its blocks), the range folders and the pages of removed resources deleted."""
            nonlocal stale_pages
            self.catalog.finish([r[1] for r in self.results])
            shutil.rmtree(self.parts, ignore_errors=True)
            stale_pages = writer.remove_stale("r", self.r_files)

        # the record hashes are keyed with the build fingerprint, so they also change with templates and base URL
        try:
            _write_aggregates(writer, self.summaries, self.generated_at, self.base_url, self.removed_log,
                              (self.page_hashes, self.hashes), self.workers if self.parallel else 1,
                              [write_summaries, write_query_file], meanwhile)
        except BaseException:
            self.catalog.abort()
            raise
        self.removed = (stale_pages + writer.remove_stale("o") + writer.remove_stale("c")
                        + writer.remove_stale("list"))

    def save_state(self) -> None:
        w = self.writer
        state.save_state(self.root, {"fingerprint": self.renderer.fp, "build": self.build_id, "files": w.hashes,
                                     "keys": w.keys, "removed": self.removed_log,
                                     "records": dict(zip(self.slugs, self.hashes)),
                                     "pages": dict(zip(self.slugs, self.page_hashes)), "search": self.search_key})


def _write_aggregates(writer: SiteWriter, summaries: list[dict[str, Any]], generated_at: str | None,
                      base_url: str, removed_log: list[dict[str, Any]],
                      keys: tuple[list[bytes], list[bytes]] | None = None,
                      workers: int = 1, extra: list[Share] | None = None,
                      meanwhile: Callable[[], None] | None = None) -> None:
    def schemas_and_static(w: SiteWriter) -> None:
        w.write(SCHEMA_ID, dumps(json_schema(base_url)))
        for name, rel in SCHEMAS.items():
            w.write(rel, dumps(schema_for(name, base_url)))
        static = TEMPLATES_DIR / "static"
        for path in sorted(static.iterdir()):
            if path.is_file():
                w.write(f"static/{path.name}", path.read_bytes())

    write_pages(writer, summaries, generated_at, base_url, removed_log, keys, workers, [*(extra or []), schemas_and_static],
                meanwhile)
