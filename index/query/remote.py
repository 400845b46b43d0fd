"""A remote build's index.sqlite, downloaded once into a cache folder and revalidated on every use with
the validators its server gave (ETag → If-None-Match, Last-Modified → If-Modified-Since): a 304 costs
one small request, and the query reads the local copy.

The cache folder is $X402_INDEX_CACHE, else $XDG_CACHE_HOME/x402-index, else ~/.cache/x402-index; one
sub-folder per URL. A download is bounded (MAX_BYTES, checked while it arrives), written to a temp file, checked to be a query index of this version
(index.query.sqlindex) and only then renamed over the cached copy. A build without the file (404)
answers None, and so does a server that cannot be reached or answers an error: the caller reads
index.json (and reports its failure).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CACHE_ENV = "X402_INDEX_CACHE"
# index.sqlite is ~1.7 kB a resource (172 MB at 100k: the entries' JSON, the filter columns and the
# trigram index): room for 600k. Streamed to disk while it arrives, never held in memory.
MAX_BYTES = 1024 * 1024 * 1024


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "x402-index"


def _slot(url: str) -> Path:
    return cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:32]


def cached_file(url: str) -> Path | None:
    """The local copy of the query file at `url`, fresh as of now; None when the server has none."""
    import httpx

    from index.query.sqlindex import NotAQueryIndex, QueryIndex

    slot = _slot(url)
    data, meta_path = slot / "index.sqlite", slot / "validators.json"
    headers = {}
    try:
        meta = json.loads(meta_path.read_text()) if data.is_file() else {}
    except (OSError, ValueError):
        meta = {}
    if meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    tmp = slot / f".index.sqlite.{os.getpid()}.tmp"
    try:
        with httpx.Client(timeout=30, follow_redirects=True, verify=True) as client:
            with client.stream("GET", url, headers=headers) as resp:
                if resp.status_code == 304 and headers:
                    return data
                if resp.status_code == 404:
                    return None
                resp.raise_for_status()
                slot.mkdir(parents=True, exist_ok=True)
                size = 0
                with open(tmp, "wb") as fh:
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > MAX_BYTES:
                            raise ValueError(f"{url}: larger than {MAX_BYTES} bytes")
                        fh.write(chunk)
                validators = {"etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified")}
        try:
            QueryIndex(tmp).close()
        except NotAQueryIndex:
            return None  # not one this version reads: the build's index.json answers
        os.replace(tmp, data)
        meta_path.write_text(json.dumps(validators))
        return data
    except httpx.HTTPError:
        # no answer, or an error status: the caller reads index.json, whose failure names the index
        # the user gave (and a server that only fails for this file still answers)
        return None
    finally:
        tmp.unlink(missing_ok=True)
