"""Publish: catalog records → a static site (Jinja2) and its machine files.

Per resource: r/<slug>.html and its JSON twin r/<slug>.json. Aggregates (rebuilt every time, written
only when their content hash changed): home, list pages in two sort orders, origin pages o/<slug>.html,
category pages c/<name>.html, stats, changes, methodology, 404, index.json, catalog.jsonl,
categories.json, metrics.json, changes.json, changes.atom, sitemaps, robots.txt, llms.txt, schema/.

Incremental: `.build-state` (marshal) in the output folder keeps, per resource, a 16-byte blake2b of its
record's compact JSON keyed with the build fingerprint (templates, base URL, this module's version), and
the content hash of every file; `.build-summaries` (marshal) keeps the small summary per resource the
aggregates are made from, read by the parent while the workers hash and render. A record whose hash is
unchanged and whose two files exist is not rendered again; list, origin and category pages whose
members' hashes and context are unchanged are not rendered again either; pages of resources no longer
in the catalog are deleted. Every write is atomic (a temp file renamed over the target), lands inside
the output folder, and happens at most once per path and build. Resource pages are created in a folder
per range of records, then renamed into place: into a staging folder renamed to r/ once (a fresh
build), or over their old versions in r/.

Large builds render resources in forked worker processes (the records are inherited, never pickled);
each worker also writes its slice of catalog.jsonl straight into place in the new file (_CatalogFile).
The aggregates are then made in shares spread over processes forked again (run_shares), while the
parent puts catalog.jsonl in place and deletes stale pages.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import multiprocessing
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from markupsafe import Markup

from index.site import feeds
from index.gcpolicy import no_collections
from index.paths import TEMPLATES_DIR
from index.catalog.record import SCHEMA_ID, SCHEMA_VERSION, CatalogRecord, index_entry_dict, json_schema
from index.site.render import BUILD_VERSION, environment, fingerprint, format_usd, network_name, renderer
from index.site.files import SCHEMAS, schema_for
from index.site.origins import facts_of
from index.site.queryindex import write_query_index
from index.site.writer import FolderNotOurs, Share, SiteWriter, UnsafePath, atomic_write, check_out_dir, digest, safe_name

__all__ = ["PAGE_ROWS", "SORTS", "FolderNotOurs", "SiteWriter", "UnsafePath", "atomic_write", "build_site", "digest", "dumps",
           "environment", "format_usd", "network_name", "rows_markup", "safe_name", "summary_of"]

STATE_FILE = ".build-state"  # marshal: fingerprint, file hashes, record hashes (16-byte digests)
SUMMARIES_FILE = ".build-summaries"  # marshal: slug -> summary, read while the workers render
RUNNING_FILE = ".build-running"  # exists while a build runs: found at the start, the last build was cut off
OLD_STATE_FILES = (".build-state.json",)
PAGE_ROWS = 1000  # rows per list page; the home page shows the first page of the default order
PARALLEL_MIN = 4000  # records below this render in the parent process
SORTS = ("title", "price", "uptime")
_IOV_MAX = 1024  # buffers per pwritev (Linux's IOV_MAX)


def _load_marshal(path: Path) -> Any:
    try:  # marshal.loads of the bytes: marshal.load on a file object reads it in tiny pieces
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Deterministic JSON: sorted keys, UTF-8, a trailing newline."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":")) + "\n"


def _json(obj: Any) -> bytes:
    """Compact deterministic JSON for the large machine files (orjson: sorted keys, UTF-8)."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


# ---------------------------------------------------------------------------------------------
# the per-resource stage


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


@dataclass
class _Job:
    records: list[CatalogRecord]
    old: dict[str, bytes]  # slug -> hash of the last build
    present: set[str] | None  # slugs whose page and twin both exist; None: checked by the parent afterwards
    fp: str
    root: Path
    parts: Path
    ctx: dict[str, Any]
    catalog: _CatalogFile
    fresh: Path | None = None  # a fresh build: the staging folder renamed to r/ once every page is in it


_JOB: _Job | None = None


def _render_range(lo: int, hi: int, part: int) -> tuple[list[tuple[int, bytes, dict[str, Any] | None]], str, int]:
    """Hash records lo..hi; render and write the changed ones; write their catalog.jsonl slice.
    Returns ([(index, hash, summary or None when unchanged)], slice hash, files written)."""
    job = _JOB
    assert job is not None
    render_page = renderer("resource.html")
    render_row = renderer("_row.html")
    to_json = CatalogRecord.__pydantic_serializer__.to_json  # = model_dump_json() as bytes, without the str round trip
    key = job.fp.encode()[:64]
    blake2b = hashlib.blake2b
    old = job.old
    present = job.present
    out: list[tuple[int, bytes, dict[str, Any] | None]] = []
    written = 0
    # Every range creates its pages in a folder of its own, moved into place by the parent (_adopt)
    # while the workers render the next ranges: two processes creating files in one folder spin on its
    # lock in the kernel (perf: most of the system time of a parallel fresh build), and replacing a
    # page frees the old one's blocks, which on this machine's disk (ext4 mounted with `discard`) waits
    # ~0.2 ms per file on the device: the parent waits, the workers go on rendering.
    rdir = _range_dir(job.parts, part)
    rdir.mkdir()
    records = job.records[lo:hi]
    lines = [to_json(rec) for rec in records]
    # the next range's slice starts where this one ends (each line and its newline)
    job.catalog.publish(part, sum(map(len, lines)) + len(lines))
    for i, rec, js in zip(range(lo, hi), records, lines):
        h = blake2b(js, digest_size=16, key=key).digest()
        slug = rec.slug
        if old.get(slug) == h and (present is None or slug in present):
            out.append((i, h, None))
            continue
        html = render_page(r=rec, root="../", generated_at=rec.generated_at, **job.ctx).encode()
        _create(rdir / f"{slug}.json", js + b"\n")
        _create(rdir / f"{slug}.html", html)
        written += 2
        out.append((i, h, summary_of(rec, render_row(r=rec, root="../"))))
    job.catalog.write(part, lines)
    # the slice's hash from its records' hashes (already keyed hashes of these very lines): hashing the
    # slice's bytes again cost a second pass over the whole catalog (~1 CPU s per 100k records)
    return out, digest(b"".join(h for _, h, _ in out)), written


def _render_again(rec: CatalogRecord, rdir: Path, ctx: dict[str, Any]) -> dict[str, Any]:
    """An unchanged record's page and twin, written again (one of them was missing); its summary."""
    js = CatalogRecord.__pydantic_serializer__.to_json(rec)
    atomic_write(rdir / f"{rec.slug}.json", js + b"\n")
    atomic_write(rdir / f"{rec.slug}.html", renderer("resource.html")(
        r=rec, root="../", generated_at=rec.generated_at, **ctx).encode())
    return summary_of(rec, renderer("_row.html")(r=rec, root="../"))


def _create(path: Path, data: bytes) -> None:
    """A new file (never one that exists) with `data`: os.open/os.write, no Python file object."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _range_dir(parts: Path, part: int) -> Path:
    return parts / f"pages-{part:06d}"


def _adopt(parts: Path, part: int, dest: Path) -> None:
    """Move a finished range's pages and twins from its own folder into `dest` (a fresh build's staging
    folder, or r/, where a changed page replaces its old version)."""
    src = _range_dir(parts, part)
    for entry in os.scandir(src):
        os.replace(entry.path, dest / entry.name)
    os.rmdir(src)


def _ranges(n: int, chunks: int) -> list[tuple[int, int, int]]:
    size = max(1, -(-n // chunks)) if n else 1
    return [(lo, min(lo + size, n), k) for k, lo in enumerate(range(0, n, size))]


def _present(rdir: Path) -> tuple[set[str], list[str]]:
    """(slugs whose page and twin both exist, names of every file in the folder)."""
    html: set[str] = set()
    js: set[str] = set()
    files: list[str] = []
    if rdir.is_dir():
        for entry in os.scandir(rdir):
            if not entry.is_file():
                continue
            name = entry.name
            files.append(name)
            if name.endswith(".html"):
                html.add(name[:-5])
            elif name.endswith(".json"):
                js.add(name[:-5])
    return html & js, files


def _load_state(path: Path) -> dict[str, Any]:
    state = _load_marshal(path)
    return state if isinstance(state, dict) and state.get("version") == BUILD_VERSION else {}


def _owned(path: Path) -> set[str]:
    """Every file the last build's state (of any version) says that build wrote: the only ones a
    build deletes."""
    state = _load_marshal(path)
    if not isinstance(state, dict):
        return set()
    files = state.get("files") if isinstance(state.get("files"), dict) else {}
    records = state.get("records") if isinstance(state.get("records"), dict) else {}
    return {*files, *(f"r/{slug}.{ext}" for slug in records for ext in ("html", "json"))}


def _load_summaries(path: Path, build_id: Any) -> dict[str, dict[str, Any]]:
    """The last build's summaries, if they belong to the state that was read (same build id)."""
    data = _load_marshal(path)
    if isinstance(data, dict) and data.get("build") == build_id and isinstance(data.get("summaries"), dict):
        return data["summaries"]
    return {}


# ---------------------------------------------------------------------------------------------


def build_site(
    records: list[CatalogRecord],
    out_dir: Path,
    base_url: str = "",
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
    parallel_min: int = PARALLEL_MIN,
    force: bool = False,
) -> dict[str, Any]:
    """Write the whole site for `records`; returns counts (resources, rendered, written, unchanged, removed)
    and `phases_s`, the wall seconds of each phase. A folder that is not empty and holds no build state
    is refused (FolderNotOurs) unless `force`; only files a build state lists are ever deleted."""
    # The records and the build state are millions of long-lived objects: the cyclic collector would walk
    # them again and again while pages are rendered (measured: most of a 100k build).
    with no_collections():
        return _build_site(records, out_dir, base_url, progress, workers, parallel_min, force)


def _build_site(records: list[CatalogRecord], out_dir: Path, base_url: str,
                progress: Callable[[int, int], None] | None, workers: int | None, parallel_min: int,
                force: bool = False) -> dict[str, Any]:
    global _JOB
    clock = time.perf_counter
    t0 = clock()
    base_url = base_url.rstrip("/")
    root = Path(out_dir).resolve()
    check_out_dir(root, (STATE_FILE, RUNNING_FILE, *OLD_STATE_FILES), force)
    root.mkdir(parents=True, exist_ok=True)
    state_path = root / STATE_FILE
    state = _load_state(state_path)
    fp = fingerprint(base_url)
    # A build cut off midway (killed, crashed) may have replaced pages and files its state does not
    # know of: the state's hashes then describe files that are no longer there, and a record changed
    # back to what that state saw would keep the cut-off build's page. Trust none of them: every file
    # is made again (and compared by content before it is written).
    running = root / RUNNING_FILE
    cut_off = running.exists()
    running.touch()
    same_fp = state.get("fingerprint") == fp and not cut_off
    old_hashes: dict[str, bytes] = state.get("records") or {}
    old = old_hashes if same_fp else {}
    writer = SiteWriter(root, state.get("files") if same_fp else None, state.get("keys") if same_fp else None,
                        _owned(state_path))

    slugs = [safe_name(r.slug) for r in records]
    if len(set(slugs)) != len(slugs):
        dup = sorted({s for s in slugs if slugs.count(s) > 1})[:5]
        raise ValueError(f"duplicate slugs: {', '.join(dup)}")
    rdir = root / "r"
    # A fresh build (no r/ folder yet): pages are written straight into a staging folder that is renamed
    # to r/ in one step once every page is there, instead of a temp file and a rename per file.
    fresh = root / ".build-r" if not rdir.exists() else None
    if fresh is not None:
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir()
    parts = root / ".build-parts"
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir()
    generated_at = max((r.generated_at for r in records), default=None)
    ctx = {"base_url": base_url, "schema_version": SCHEMA_VERSION}

    n = len(records)
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    parallel = n_workers > 1 and n >= parallel_min and "fork" in multiprocessing.get_all_start_methods()
    ranges = _ranges(n, n_workers * 8) if parallel else _ranges(n, max(1, -(-n // 500)))
    for name in ("resource.html", "_row.html"):  # compiled before the fork, shared by the workers
        environment().get_template(name)
    catalog = _CatalogFile(writer, len(ranges), parallel)
    _JOB = _Job(records, old, None, fp, root, parts, ctx, catalog, fresh)
    dest = fresh if fresh is not None else rdir
    results: list[tuple[list[tuple[int, bytes, dict[str, Any] | None]], str, int]] = []
    old_summaries: dict[str, dict[str, Any]] = {}
    try:
        if parallel:
            with multiprocessing.get_context("fork").Pool(n_workers) as pool:
                pending = pool.imap(_star_render, ranges)
                # the workers are busy: meanwhile list r/ (an unchanged record whose page or twin is
                # missing is rendered again below), claim the pages, and read what the aggregates
                # need of unchanged records
                present, r_files = _present(rdir)
                for s in slugs:
                    writer.claim_resource(s)
                if old_hashes:
                    old_summaries = _load_summaries(root / SUMMARIES_FILE, state.get("build"))
                done = 0
                for (_, _, part), res in zip(ranges, pending):
                    results.append(res)
                    _adopt(parts, part, dest)  # while the workers render the next ranges
                    done += len(res[0])
                    if progress:
                        progress(done, n)
        else:
            present, r_files = _present(rdir)
            _JOB.present = present
            for s in slugs:
                writer.claim_resource(s)
            if old_hashes:
                old_summaries = _load_summaries(root / SUMMARIES_FILE, state.get("build"))
            for lo, hi, k in ranges:
                results.append(_render_range(lo, hi, k))
                _adopt(parts, k, dest)
                if progress:
                    progress(hi, n)
    except BaseException:
        catalog.abort()
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        raise
    finally:
        _JOB = None
    if fresh is not None:
        os.rename(fresh, rdir)
    t_pages = clock()

    hashes: list[bytes] = [b""] * n
    summaries: list[dict[str, Any]] = [{}] * n
    rendered = 0
    row_tpl = None
    for items, _, written in results:
        writer.written += written
        for i, h, summ in items:
            slug = slugs[i]
            hashes[i] = h
            if summ is None and slug not in present:  # its page or twin was deleted since the last build
                summ = _render_again(records[i], rdir, ctx)
                writer.written += 2
            if summ is None:
                writer.unchanged += 2
                summ = old_summaries.get(slug)
                if summ is None:  # the summaries file was lost or is not this state's: make it again
                    row_tpl = row_tpl or environment().get_template("_row.html")
                    summ = summary_of(records[i], row_tpl.render(r=records[i], root="../"))
            else:
                rendered += 1
            summaries[i] = summ
    t_catalog = clock()

    current = set(slugs)
    removed_log = [c for c in state.get("removed") or [] if c.get("slug") not in current]
    gone = [slug for slug in old_hashes if slug not in current]
    if gone and not old_summaries:
        old_summaries = _load_summaries(root / SUMMARIES_FILE, state.get("build"))
    for slug in gone:
        summ = old_summaries.get(slug)
        if summ is None:
            continue
        e = summ["entry"]
        removed_log.insert(0, {"kind": "removed", "at": generated_at, "slug": slug, "title": e["title"],
                               "url": e["url"], "page": None, "before": [], "after": []})
    removed_log = removed_log[: feeds.MAX_REMOVED]

    build_id = os.urandom(8).hex()

    def write_summaries(_: SiteWriter) -> None:  # a share of its own: beside the aggregates
        atomic_write(root / SUMMARIES_FILE, marshal.dumps({"build": build_id, "summaries": dict(zip(slugs, summaries))}))

    def write_query_file(w: SiteWriter) -> None:  # index.sqlite, beside index.json (index.site.queryindex)
        write_query_index(w, [s["entry"] for s in summaries], generated_at, SCHEMA_VERSION)

    stale_pages = 0

    def meanwhile() -> None:
        """The parent's part while the aggregates' shares run: catalog.jsonl put in place (replacing
        the old one frees its blocks), the range folders and the pages of removed resources deleted."""
        nonlocal stale_pages
        catalog.finish([r[1] for r in results])
        shutil.rmtree(parts, ignore_errors=True)
        stale_pages = writer.remove_stale("r", r_files)

    # the record hashes are keyed with the build fingerprint, so they also change with templates and base URL
    try:
        _write_aggregates(writer, summaries, generated_at, base_url, removed_log, hashes,
                          n_workers if parallel else 1, [write_summaries, write_query_file], meanwhile)
    except BaseException:
        catalog.abort()
        raise
    removed = stale_pages + writer.remove_stale("o") + writer.remove_stale("c") + writer.remove_stale("list")
    t_aggregates = clock()
    new_state = {"version": BUILD_VERSION, "fingerprint": fp, "build": build_id, "files": writer.hashes,
                 "keys": writer.keys, "removed": removed_log, "records": dict(zip(slugs, hashes))}
    atomic_write(state_path, marshal.dumps(new_state))
    running.unlink()
    for name in OLD_STATE_FILES:
        (root / name).unlink(missing_ok=True)
    end = clock()
    # wall seconds per phase: resource pages, twins and catalog.jsonl slices; the workers' results
    # merged; the aggregate pages and machine files (catalog.jsonl put in place, stale pages deleted);
    # the build state
    phases = {"pages": t_pages - t0, "results": t_catalog - t_pages, "aggregates": t_aggregates - t_catalog,
              "state": end - t_aggregates}
    return {"resources": n, "rendered": rendered, "written": writer.written, "unchanged": writer.unchanged,
            "removed": removed, "phases_s": {k: round(v, 3) for k, v in phases.items()}}


def _star_render(args: tuple[int, int, int]) -> tuple[list[tuple[int, bytes, dict[str, Any] | None]], str, int]:
    return _render_range(*args)


class _CatalogFile:
    """catalog.jsonl, written by the ranges straight into one temp file, each slice at its offset: a
    range publishes its slice's size as soon as its records are serialized, and writes the slice
    (pwrite) once the sizes of every range before it are known, which is soon, since ranges start in
    order. No slice is written twice or copied. Its content hash is the hash of the slices' hashes,
    each the hash of its records' hashes; a catalog that did not change is not replaced."""

    REL = "catalog.jsonl"
    WAIT_S = 600  # a range waiting longer for the ranges before it: one of them died

    def __init__(self, writer: SiteWriter, n_parts: int, shared: bool) -> None:
        self.writer = writer
        self.target = writer.claim(self.REL)
        self.tmp = self.target.with_name(f".{self.target.name}.{os.getpid()}.tmp")
        if shared:  # seen by forked workers
            ctx = multiprocessing.get_context("fork")
            self.sizes: Any = ctx.RawArray("q", [-1] * n_parts)
            self.cond: Any = ctx.Condition()
        else:
            self.sizes = [-1] * n_parts
            self.cond = threading.Condition()
        self.fd: int | None = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)

    def publish(self, part: int, size: int) -> None:
        with self.cond:
            self.sizes[part] = size
            self.cond.notify_all()

    def write(self, part: int, lines: list[bytes]) -> None:
        """The slice: each line and a newline, at its offset (pwritev: no joined copy of the slice)."""
        with self.cond:
            while True:
                before = self.sizes[:part]
                if min(before, default=0) >= 0:
                    break
                if not self.cond.wait(self.WAIT_S):
                    raise TimeoutError(f"catalog.jsonl: the ranges before {part} never told their sizes")
        assert self.fd is not None
        offset = sum(before)
        buffers: list[bytes] = []
        for line in lines:
            buffers += (line, b"\n")
        for lo in range(0, len(buffers), _IOV_MAX):
            chunk = buffers[lo:lo + _IOV_MAX]
            want = sum(map(len, chunk))
            done = os.pwritev(self.fd, chunk, offset)
            if done < want:  # a short write (not seen on a regular file): the rest one buffer at a time
                data = memoryview(b"".join(chunk))[done:]
                while data:
                    n = os.pwrite(self.fd, data, offset + done)
                    data, done = data[n:], done + n
            offset += want

    def finish(self, part_hashes: list[str]) -> None:
        h = digest("".join(part_hashes).encode())
        self.writer.hashes[self.REL] = h
        if self.writer.old_hashes.get(self.REL) == h and self.target.exists():
            self.abort()
            self.writer.unchanged += 1
            return
        try:
            assert self.fd is not None
            os.ftruncate(self.fd, sum(self.sizes))
            os.close(self.fd)
            self.fd = None
            os.replace(self.tmp, self.target)
        except BaseException:
            self.abort()
            raise
        self.writer.written += 1

    def abort(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        self.tmp.unlink(missing_ok=True)


def _write_aggregates(writer: SiteWriter, summaries: list[dict[str, Any]], generated_at: str | None,
                      base_url: str, removed_log: list[dict[str, Any]], keys: list[bytes] | None = None,
                      workers: int = 1, extra: list[Share] | None = None,
                      meanwhile: Callable[[], None] | None = None) -> None:
    from index.site.pages import write_pages

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


def rows_markup(rows: Iterable[str], depth: int) -> Markup:
    """Pre-rendered table rows (made for pages one folder deep) for a page at `depth`."""
    joined = "".join(rows)
    if depth == 0:
        joined = joined.replace('="../', '="')
    return Markup(joined)
