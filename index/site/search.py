"""Client-side search: pagefind's indexer run over a built site (offline; the binary ships in the
`pagefind-bin` wheel that `pagefind[bin]` pulls in). Resource pages mark their article with
data-pagefind-body and their category and networks with data-pagefind-filter, so only resource pages
are indexed, filterable by category and network.

The index is built in parts (index.site.searchparts: which page is in which part, and each part's
key), each its own pagefind bundle in <site>/pagefind/<part>/, made by its own pagefind run over only
that part's pages, so a run's memory is bounded by the part's size. The parts are listed in
<site>/pagefind/parts.json; the search script (static/site.js) reads it, loads the first part's
pagefind.js and merges the others into it (mergeIndex): results and filters span every part, and a
part can be rebuilt, added or dropped without touching any page.

A part is indexed again only when its key moved (its pages' searchable text, or pagefind's version:
the merged parts are searched with the first part's WebAssembly, so they must all be of one
version). pagefind is pointed at a part's pages only: they are hard-linked into a staging folder
whose r/ holds just them, and pagefind reads that folder (SEARCHED, so a page's URL is the same as
in the site). Pointed at the whole site it would also read every list, category and origin page (a
third of the site's HTML) only to leave them out."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.site.searchparts import part_count, part_keys, part_of

SEARCHED = "r/*.html"  # the pages with data-pagefind-body (site_templates/resource.html)
BUNDLE = "pagefind"  # the folder of the parts and their list, in the site
MANIFEST = "parts.json"  # in BUNDLE: pagefind's version, the number of parts, the names of those with pages (site.js)
KEY_FILE = ".x402-search-key"  # in each part's bundle: the key of the pages it was built from
STAGE = f".{BUNDLE}-stage"  # in the site: the pages of the part being indexed (hard links)


class SearchIndexError(OSError):
    """pagefind is missing or failed."""


def pagefind_binary() -> str:
    """$PAGEFIND_BINARY_PATH, else the binary of the pagefind-bin wheel, else `pagefind` on PATH."""
    explicit = os.environ.get("PAGEFIND_BINARY_PATH")
    if explicit:
        return explicit
    try:
        from pagefind_bin import get_executable

        return str(get_executable())
    except (ImportError, FileNotFoundError, OSError):
        found = shutil.which("pagefind") or shutil.which("pagefind_extended")
        if found:
            return found
    raise SearchIndexError("pagefind binary not found: install pagefind[bin] or set PAGEFIND_BINARY_PATH")


@functools.cache
def _version(binary: str) -> str:
    try:
        proc = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SearchIndexError(f"pagefind failed: {exc}") from exc
    if proc.returncode != 0:
        raise SearchIndexError(f"pagefind --version failed: {proc.stderr.strip()}")
    return proc.stdout.strip().removeprefix("pagefind").strip()


def part_name(part: int) -> str:
    return f"p{part:03d}"


def read_manifest(site: Path) -> dict[str, Any] | None:
    """The served index's list of parts, or None when there is none (or it is not ours)."""
    try:
        data = json.loads((Path(site) / BUNDLE / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("parts"), list) or not isinstance(data.get("count"), int):
        return None
    return data


def search_keys(site: Path, slugs: Sequence[str], keys: Sequence[bytes], fingerprint: str) -> list[str]:
    """Each part's key for the pages of `slugs` (each with its page's search key), in as many parts as
    the served index has while that still fits (searchparts.part_count)."""
    served = read_manifest(site)
    return part_keys(slugs, keys, fingerprint, part_count(len(slugs), served["count"] if served else None))


@dataclass(frozen=True)
class Indexed:
    """What a search step did: its seconds, the parts served after it, the parts pagefind indexed."""

    seconds: float
    parts: int
    built: int


def build_search_index(site: Path, timeout: float = 1800, keys: Sequence[str] | None = None) -> Indexed:
    """Index the resource pages of `site` in parts: `keys` are the parts' keys from the site build
    (search_keys), one per part; without them the number of parts follows the pages and every part is
    indexed. Parts whose bundle holds their key are kept; the others are indexed one after another,
    each into a new bundle beside its served one that then takes its place (two renames), so no
    fragment of an older index is left behind and a reader never sees a half-written part. The list
    of parts is written once every part is in place; parts no longer listed are then deleted. A site
    without resource pages (an empty catalog) has nothing to index: pagefind would fail on it, so it is
    not run, and the index of an earlier build is removed (the pages hide search without it)."""
    start = time.perf_counter()
    site = Path(site)
    bundle = site / BUNDLE
    pages = _pages(site) if keys is None or keys else []  # no keys: the build made no resource page
    if not pages:
        if (bundle / MANIFEST).is_file() or (bundle / "pagefind.js").is_file():  # ours (pagefind.js: before parts)
            shutil.rmtree(bundle)
        return Indexed(time.perf_counter() - start, 0, 0)
    served = read_manifest(site)
    if keys is None:
        keys = [""] * part_count(len(pages), served["count"] if served else None)
    members: list[list[str]] = [[] for _ in keys]
    for slug in pages:
        members[part_of(slug, len(keys))].append(slug)
    binary = pagefind_binary()
    version = _version(binary)
    same_version = served is not None and served.get("pagefind") == version
    bundle.mkdir(exist_ok=True)
    names, built = [], 0
    for part, (slugs, key) in enumerate(zip(members, keys, strict=True)):
        if not slugs:
            continue
        name = part_name(part)
        names.append(name)
        if same_version and key and _holds(bundle / name, key):
            continue
        _index_part(binary, site, bundle, name, slugs, key, timeout)
        built += 1
    manifest = json.dumps({"pagefind": version, "count": len(keys), "parts": names}, indent=1).encode() + b"\n"
    target = bundle / MANIFEST
    if not target.is_file() or target.read_bytes() != manifest:
        tmp = bundle / f".{MANIFEST}.tmp"
        tmp.write_bytes(manifest)
        os.replace(tmp, target)
    kept = {*names, MANIFEST}
    for entry in os.scandir(bundle):  # older parts, and the single bundle of before parts
        if entry.name not in kept:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
    return Indexed(time.perf_counter() - start, len(names), built)


def _pages(site: Path) -> list[str]:
    """The slugs of the resource pages in `site` (SEARCHED), sorted."""
    folder = site / SEARCHED.split("/")[0]
    if not folder.is_dir():
        return []
    return sorted(e.name[:-5] for e in os.scandir(folder) if e.name.endswith(".html") and e.is_file())


def _holds(part: Path, key: str) -> bool:
    """The bundle `part` was built from pages whose searchable text had this key."""
    try:
        return (part / "pagefind.js").is_file() and (part / KEY_FILE).read_text() == key
    except OSError:
        return False


def _index_part(binary: str, site: Path, bundle: Path, name: str, slugs: list[str], key: str,
                timeout: float) -> None:
    """One part's bundle: its pages hard-linked into the staging folder, pagefind over them into a new
    bundle, renamed into place."""
    stage = site / STAGE
    pages = stage / SEARCHED.split("/")[0]
    new, old = bundle / f".{name}-new", bundle / f".{name}-old"
    for folder in (stage, new, old):
        shutil.rmtree(folder, ignore_errors=True)
    pages.mkdir(parents=True)
    try:
        src = site / SEARCHED.split("/")[0]
        for slug in slugs:
            _link(src / f"{slug}.html", pages / f"{slug}.html")
        try:
            proc = subprocess.run([binary, "--site", str(stage), "--glob", SEARCHED, "--output-path", str(new),
                                   "--quiet"], capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SearchIndexError(f"pagefind failed: {exc}") from exc
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise SearchIndexError("pagefind failed: " + " / ".join(tail))
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if key:
        (new / KEY_FILE).write_text(key)
    if (bundle / name).exists():
        os.rename(bundle / name, old)
    os.rename(new, bundle / name)
    shutil.rmtree(old, ignore_errors=True)


def _link(src: Path, dst: Path) -> None:
    """A hard link (no copy of the page), or a copy where the file system has none."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
