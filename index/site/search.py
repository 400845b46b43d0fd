"""Client-side search: pagefind's indexer run over a built site (offline; the binary ships in the
`pagefind-bin` wheel that `pagefind[bin]` pulls in). Resource pages mark their article with
data-pagefind-body and their category and networks with data-pagefind-filter, so only resource pages
are indexed, filterable by category and network. The bundle lands in <site>/pagefind/.

pagefind is pointed at the resource pages only (SEARCHED): it would otherwise read every list,
category and origin page (a third of the site's HTML) only to find no data-pagefind-body in them and
leave them out. The same pages and fragments either way; 28% less CPU at 20,000 records."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


SEARCHED = "r/*.html"  # the pages with data-pagefind-body (site_templates/resource.html)


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


BUNDLE = "pagefind"  # the folder pagefind writes in the site
KEY_FILE = ".x402-search-key"  # in the bundle: the key of the pages it was built from (index.site.coarse)


def search_is_current(site: Path, key: str | None) -> bool:
    """The bundle in `site` was built from pages whose searchable text had this key: running pagefind
    again would write the same index (health-only changes leave the key alone)."""
    if not key:
        return False
    bundle = Path(site) / BUNDLE
    try:
        return (bundle / "pagefind.js").is_file() and (bundle / KEY_FILE).read_text() == key
    except OSError:
        return False


def build_search_index(site: Path, timeout: float = 1800, key: str | None = None) -> float:
    """Index `site`; returns the seconds it took. pagefind writes a new bundle beside the served one,
    which then takes its place (two renames), so no fragment of an older index is left behind and a
    reader never sees a half-written bundle; `key` (the build's search key) is kept in it. A site
    without resource pages (an empty catalog) has nothing to index: pagefind would fail on it, so it is
    not run, and the bundle of an earlier build is removed (the pages hide search without it)."""
    start = time.perf_counter()
    site = Path(site)
    bundle = site / BUNDLE
    if not any(site.glob(SEARCHED)):
        if (bundle / "pagefind.js").is_file():  # ours: pagefind's entry point is in it
            shutil.rmtree(bundle)
        return time.perf_counter() - start
    new, old = site / f".{BUNDLE}-new", site / f".{BUNDLE}-old"
    shutil.rmtree(new, ignore_errors=True)
    shutil.rmtree(old, ignore_errors=True)
    try:
        proc = subprocess.run([pagefind_binary(), "--site", str(site), "--glob", SEARCHED, "--output-path", str(new),
                               "--quiet"], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise SearchIndexError(f"pagefind failed: {exc}") from exc
    if proc.returncode != 0:
        shutil.rmtree(new, ignore_errors=True)
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise SearchIndexError("pagefind failed: " + " / ".join(tail))
    if key:
        (new / KEY_FILE).write_text(key)
    if bundle.exists():
        os.rename(bundle, old)
    os.rename(new, bundle)
    shutil.rmtree(old, ignore_errors=True)
    return time.perf_counter() - start
