"""The writer of a build: every output path checked to stay inside the output folder, claimed once per
build, written atomically (temp file + rename), and skipped when its content hash is the last build's;
and `run_shares`, which spreads independent pieces of a build over forked processes, each writing
through the writer, their claims, hashes and counts merged back."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

class UnsafePath(ValueError):
    """A write that would land outside the output folder."""


class FolderNotOurs(ValueError):
    """The output folder holds files, and no build state says a build of ours wrote them."""


def check_out_dir(root: Path, markers: Iterable[str], force: bool = False) -> None:
    """Refuse to build into a folder that is not empty and holds none of `markers` (the files a build
    leaves: its state), unless `force`: a site written there would mix with someone's files, and a
    build deletes what it wrote before. With `force` the build writes there and still deletes only
    files a build state says it wrote (none, the first time)."""
    if force or not root.exists():
        return
    if not root.is_dir():
        raise FolderNotOurs(f"{root} is not a folder")
    names = set(os.listdir(root))
    if not names or names & set(markers):
        return
    raise FolderNotOurs(f"{root} is not empty and no build of x402-index wrote it (no build state there): "
                        "refusing to write into it; name a new or empty folder, or force it (--force)")


def safe_name(name: str) -> str:
    """A slug or category name usable as one path segment, else UnsafePath."""
    if not _NAME.match(name) or ".." in name:
        raise UnsafePath(name)
    return name


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def atomic_write(target: Path, data: bytes) -> None:
    """Write through a temp file in the target's folder, renamed over the target."""
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SiteWriter:
    """Pelican-style guards: sanitized joins, one write per path, atomic replace, and a content hash
    per file: a file whose hash equals the last build's (and still exists) is not rewritten."""

    def __init__(self, root: Path, hashes: dict[str, str] | None = None, keys: dict[str, str] | None = None,
                 owned: set[str] | None = None) -> None:
        self.root = root.resolve()
        # paths (relative, posix) the last build's state says it wrote: the only files remove_stale may
        # delete (None: any file in the folder, for callers that own the whole folder)
        self.owned = owned
        self.root.mkdir(parents=True, exist_ok=True)
        self.seen: set[str] = set()  # paths relative to the root, as claimed
        self.old_hashes = hashes or {}
        self.hashes: dict[str, str] = {}
        self.old_keys = keys or {}  # rel -> hash of the inputs of a keyed page (write_keyed)
        self.keys: dict[str, str] = {}
        self._folders: dict[str, Path] = {}
        self.written = 0
        self.unchanged = 0
        self.claimed: list[str] | None = None  # in a share's process (run_shares): its claims, sent back

    def path_for(self, rel: str) -> Path:
        if "\x00" in rel or rel.startswith(("/", "\\")):
            raise UnsafePath(rel)
        folder, _, name = rel.rpartition("/")
        if _NAME.match(name) and ".." not in name:
            # a plain file name: resolve its folder once per build, not every file (thousands of origin pages)
            base = self._folders.get(folder)
            if base is None:
                base = self._folders[folder] = self.path_for(f"{folder}/." if folder else ".")
            return base / name
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            raise UnsafePath(rel)
        return target

    def claim(self, rel: str) -> Path:
        """Reserve a path for this build (a second claim is an error)."""
        target = self.path_for(rel)
        self._claim_key(target.relative_to(self.root).as_posix())
        return target

    def claim_resource(self, slug: str) -> None:
        """Reserve r/<slug>.html and r/<slug>.json; `slug` was checked by safe_name, so no resolve."""
        self._claim_key(f"r/{slug}.html")
        self._claim_key(f"r/{slug}.json")

    def _claim_key(self, key: str) -> None:
        if key in self.seen:
            raise ValueError(f"{key} written twice in one build")
        self.seen.add(key)
        if self.claimed is not None:
            self.claimed.append(key)

    def _share_start(self) -> None:
        """In a forked share process: count only what this share does from now on."""
        self.claimed = []
        self.hashes, self.keys = {}, {}
        self.written = self.unchanged = 0

    def _share_result(self) -> tuple[list[str], dict[str, str], dict[str, str], int, int]:
        assert self.claimed is not None
        return self.claimed, self.hashes, self.keys, self.written, self.unchanged

    def _merge(self, result: tuple[list[str], dict[str, str], dict[str, str], int, int]) -> None:
        """A share's claims, hashes and counts, as if this writer had done its writes (two shares
        claiming one path is the same error as one writer claiming it twice)."""
        claimed, hashes, keys, written, unchanged = result
        for key in claimed:
            self._claim_key(key)
        self.hashes.update(hashes)
        self.keys.update(keys)
        self.written += written
        self.unchanged += unchanged

    def write(self, rel: str, content: str | bytes) -> None:
        target = self.claim(rel)
        data = content.encode("utf-8") if isinstance(content, str) else content
        h = digest(data)
        self.hashes[rel] = h
        if self.old_hashes.get(rel) == h and target.exists() or (rel not in self.old_hashes and _same(target, data)):
            self.unchanged += 1
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        self.written += 1

    def write_keyed(self, rel: str, key: str, make: Callable[[], str | bytes]) -> None:
        """Write `make()` unless the page's inputs (`key`: a hash of everything it is made from) and
        its content hash are the last build's and the file still exists: then it is not even rendered."""
        old = self.old_hashes.get(rel)
        if old is not None and self.old_keys.get(rel) == key:
            target = self.claim(rel)
            if target.exists():
                self.hashes[rel] = old
                self.keys[rel] = key
                self.unchanged += 1
                return
            self.seen.discard(target.relative_to(self.root).as_posix())
        self.write(rel, make())
        self.keys[rel] = key

    def remove_stale(self, folder: str, names: Iterable[str] | None = None) -> int:
        """Delete files in a folder that this build did not write and a build of ours wrote before
        (`owned`): a file put there by someone else stays. `names`: the folder's files as listed at the
        start of the build (every file made since then was claimed), to spare a second listing."""
        base = self.path_for(folder)
        prefix = base.relative_to(self.root).as_posix()
        owned = self.owned
        removed = 0
        if names is None:
            names = [e.name for e in os.scandir(base) if e.is_file()] if base.is_dir() else []
        for name in names:
            rel = f"{prefix}/{name}"
            if rel in self.seen or (owned is not None and rel not in owned):
                continue
            try:
                os.unlink(base / name)
            except FileNotFoundError:
                continue
            removed += 1
        return removed


Share = Callable[[SiteWriter], None]
_SHARES: tuple[SiteWriter, list[Share]] | None = None


def run_shares(writer: SiteWriter, shares: list[Share], workers: int = 1,
               meanwhile: Callable[[], None] | None = None) -> None:
    """Run independent pieces of a build, each writing its own files through `writer`: in order in this
    process, or over `workers` processes forked now (they inherit everything the shares read; only
    each share's claims, hashes and counts come back), merged in share order. `meanwhile` runs in
    this process while they do (it must not claim paths)."""
    global _SHARES
    if workers <= 1 or len(shares) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        if meanwhile is not None:
            meanwhile()
        for share in shares:
            share(writer)
        return
    _SHARES = (writer, shares)
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(shares))) as pool:
            pending = pool.map_async(_run_share, range(len(shares)), chunksize=1)
            if meanwhile is not None:
                meanwhile()
            results = pending.get()
    finally:
        _SHARES = None
    for result in results:
        writer._merge(result)


def _run_share(k: int) -> tuple[list[str], dict[str, str], dict[str, str], int, int]:
    assert _SHARES is not None
    writer, shares = _SHARES
    writer._share_start()
    shares[k](writer)
    return writer._share_result()


def _same(target: Path, data: bytes) -> bool:
    try:
        return target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError:
        return False
