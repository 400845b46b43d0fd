"""Resource pages in ranges of records: rendered in this process or in forked workers.

A range takes its records from the build's record source (a list in memory, or the store's catalog
made a slice at a time: index.catalog.build.StoreRecords), hashes them, renders and writes the changed
ones into a folder of its own, and writes its slice of catalog.jsonl straight into place
(CatalogFile). Forked workers inherit the source and the renderer (nothing is pickled on the way in);
only each range's hashes and summaries come back.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from index.catalog.record import CatalogRecord
from index.site.coarse import SEARCH_FIELDS, page_view
from index.site.layout import summary_of
from index.site.render import renderer
from index.site.writer import SiteWriter, atomic_write, digest

_IOV_MAX = 1024  # buffers per pwritev (Linux's IOV_MAX)

# per record: (index, twin hash, page hash, search key, summary or None when neither file changed)
RangeResult = tuple[list[tuple[int, bytes, bytes, bytes, dict[str, Any] | None]], str, int]


RANGE_MAX = 1000  # records per range at most: what one worker holds at a time


class RecordSource(Protocol):
    """The records of one build in slug order: how many, their slugs and build time up front, and any
    slice on demand."""

    slugs: list[str]
    generated_at: str | None

    def __len__(self) -> int: ...

    def slice(self, lo: int, hi: int) -> list[CatalogRecord]: ...


class ListRecords:
    """Records already in memory, as a source."""

    def __init__(self, records: list[CatalogRecord]) -> None:
        self.records = records
        self.slugs = [r.slug for r in records]
        self.generated_at = max((r.generated_at for r in records), default=None)

    def __len__(self) -> int:
        return len(self.records)

    def slice(self, lo: int, hi: int) -> list[CatalogRecord]:
        return self.records[lo:hi]


def ranges(n: int, chunks: int, most: int = RANGE_MAX) -> list[tuple[int, int, int]]:
    """(lo, hi, part) of at least `chunks` ranges of about equal size over n records, each of at most
    `most` records."""
    size = min(most, max(1, -(-n // chunks))) if n else 1
    return [(lo, min(lo + size, n), k) for k, lo in enumerate(range(0, n, size))]


def range_dir(parts: Path, part: int) -> Path:
    return parts / f"pages-{part:06d}"


def adopt(parts: Path, part: int, dest: Path) -> None:
    """Move a finished range's pages and twins from its own folder into `dest` (a fresh build's staging
    folder, or r/, where a changed page replaces its old version)."""
    src = range_dir(parts, part)
    for entry in os.scandir(src):
        os.replace(entry.path, dest / entry.name)
    os.rmdir(src)


def present_pages(rdir: Path) -> tuple[set[str], list[str]]:
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


def _create(path: Path, data: bytes) -> None:
    """A new file (never one that exists) with `data`: os.open/os.write, no Python file object."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


@dataclass
class RangeRenderer:
    """Everything a range needs, set before any worker is forked."""

    source: RecordSource
    old: dict[str, bytes]  # slug -> hash of the last build's twin (the record)
    old_pages: dict[str, bytes]  # slug -> hash of the last build's page (the record's page view)
    present: set[str] | None  # slugs whose page and twin both exist; None: checked by the parent afterwards
    fp: str  # the build fingerprint: the key of every record hash
    parts: Path  # where each range creates its pages
    ctx: dict[str, Any]  # template context of every resource page
    catalog: CatalogFile

    def render(self, task: tuple[int, int, int]) -> RangeResult:
        """Hash records lo..hi; write the twins that changed and render the pages whose view changed
        (index.site.coarse); write their catalog.jsonl slice. Returns ([(index, twin hash, page hash,
        search key, summary or None when unchanged)], slice hash, files written)."""
        lo, hi, part = task
        render_page = renderer("resource.html")
        render_row = renderer("_row.html")
        to_json = CatalogRecord.__pydantic_serializer__.to_json  # = model_dump_json() as bytes, without the str round trip
        key = self.fp.encode()[:64]
        blake2b = hashlib.blake2b
        old, old_pages = self.old, self.old_pages
        present = self.present
        out: list[tuple[int, bytes, bytes, bytes, dict[str, Any] | None]] = []
        written = 0
        # Every range creates its pages in a folder of its own, moved into place by the parent (adopt)
        # while the workers render the next ranges: two processes creating files in one folder spin on
        # its lock in the kernel, and replacing a page frees the old one's blocks, which on a disk
        # mounted with `discard` waits on the device: the parent waits, the workers go on rendering.
        rdir = range_dir(self.parts, part)
        rdir.mkdir()
        records = self.source.slice(lo, hi)
        lines = [to_json(rec) for rec in records]
        # the next range's slice starts where this one ends (each line and its newline)
        self.catalog.publish(part, sum(map(len, lines)) + len(lines))
        for i, rec, js in zip(range(lo, hi), records, lines):
            h = blake2b(js, digest_size=16, key=key).digest()
            view = page_view(rec)
            ph = blake2b(to_json(view), digest_size=16, key=key).digest()
            sk = blake2b(to_json(rec, include=SEARCH_FIELDS), digest_size=16, key=key).digest()
            slug = rec.slug
            here = present is None or slug in present
            twin_same, page_same = here and old.get(slug) == h, here and old_pages.get(slug) == ph
            if twin_same and page_same:
                out.append((i, h, ph, sk, None))
                continue
            if not twin_same:
                _create(rdir / f"{slug}.json", js + b"\n")
                written += 1
            if not page_same:
                _create(rdir / f"{slug}.html", render_page(r=view, root="../", generated_at=view.generated_at,
                                                           **self.ctx).encode())
                written += 1
            out.append((i, h, ph, sk, summary_of(rec, render_row(r=view, root="../"))))
        self.catalog.write(part, lines)
        # the slice's hash from its records' hashes (already keyed hashes of these very lines): hashing
        # the slice's bytes again would be a second pass over the whole catalog
        return out, digest(b"".join(h for _, h, _, _, _ in out)), written

    def render_again(self, rec: CatalogRecord, rdir: Path) -> dict[str, Any]:
        """An unchanged record's page and twin, written again (one of them was missing); its summary."""
        js = CatalogRecord.__pydantic_serializer__.to_json(rec)
        view = page_view(rec)
        atomic_write(rdir / f"{rec.slug}.json", js + b"\n")
        atomic_write(rdir / f"{rec.slug}.html", renderer("resource.html")(
            r=view, root="../", generated_at=view.generated_at, **self.ctx).encode())
        return summary_of(rec, renderer("_row.html")(r=view, root="../"))


class CatalogFile:
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
