"""Canonical URLs and slugs: pure functions, one home for both."""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
MAX_SLUG = 80
MAX_URL = 2048  # longer URLs are never kept or followed


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no trailing dot on the host (`host.` is `host`), no default port,
    no fragment, query pairs in a stable order."""
    if type(url) is str and len(url) <= MAX_URL:
        return _canonical_cached(url)
    return _canonical(url)


# An http(s) URL that canonical_url returns unchanged, told without parsing it: lower-case scheme and
# host (letters, digits, '-', '_', dot-separated labels, no trailing dot), a port of 1-5 digits without
# a leading zero, a path, printable ASCII, no query ('?') and no fragment ('#'). Nothing in it is
# stripped, removed or normalized by urlsplit; the port's value is checked apart (default, range).
_CANONICAL_HTTP = re.compile(r"(https?)://[a-z0-9_\-]+(?:\.[a-z0-9_\-]+)*(?::([1-9][0-9]{0,4}))?/[!-\"$->@-~]*\Z")


def is_canonical_http(url: str) -> bool:
    """True when `url` is an http(s) URL with a path and no query or fragment that canonical_url
    returns as it is (most probed URLs): the fast path of canonical_url, origin_of and the challenge's
    resource URL check."""
    match = _CANONICAL_HTTP.match(url)
    if match is None:
        return False
    port = match.group(2)
    return port is None or (int(port) <= 65535 and _DEFAULT_PORTS[match.group(1)] != int(port))


def _canonical(url: str) -> str:
    if isinstance(url, str) and is_canonical_http(url):
        return url
    return _canonical_parsed(url)


def _canonical_parsed(url: str) -> str:
    """canonical_url's rule itself, by urlsplit."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = host.rstrip(".") or host
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    path = parts.path or "/"
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    out = urlunsplit((scheme, netloc, path, query, ""))
    return url if out == url else out  # the same object when already canonical: a crawl keeps one per resource


# A crawl canonicalizes each URL about five times (the request, the challenge's resource checks, the
# item, its origin): a pure function of a str, so the last few thousand answers are kept (bounded).
_canonical_cached = lru_cache(maxsize=4096)(_canonical)


def resource_key(candidate: Mapping[str, Any]) -> tuple[str, str] | None:
    """What makes a resource one: (canonical URL, upper-case method, GET when none is named), or None
    when the candidate has no URL or its URL does not parse."""
    try:
        return canonical_url(candidate["url"]), (candidate.get("method") or "GET").upper()
    except (KeyError, ValueError):
        return None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, canonical."""
    url = canonical_url(url)
    if is_canonical_http(url):  # scheme://netloc/path: the origin ends before the path's first '/'
        return url[:url.index("/", url.index("//") + 2)]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# A plain absolute http(s) URL: scheme, "//", a first host character, then printable ASCII without the
# brackets of IPv6 literals: nothing urlsplit would strip, remove, normalize or refuse. Such a URL is
# answered without urlsplit (a site build asks ~5 times per resource page); anything else takes it.
_PLAIN_HTTP = re.compile(r"https?://(?![/?#])[!-Z\\^-~]+\Z")


def is_http_url(value: object) -> bool:
    """True for absolute http(s) URLs with a host: the only URLs we ever render as links."""
    if not isinstance(value, str):
        return False
    if _PLAIN_HTTP.match(value):
        return True
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def slugify(text: str, limit: int = MAX_SLUG) -> str:
    """ASCII, lowercase, dash-separated, never empty, never containing '/', '..' or NUL."""
    slug = _SLUG_JUNK.sub("-", text.lower()).strip("-")
    slug = slug[:limit].rstrip("-")
    return slug or "resource"


def origin_slug(origin_url: str) -> str:
    parts = urlsplit(origin_url)
    return slugify(parts.netloc)


def resource_slug(url: str, method: str = "GET", with_method: bool = False) -> str:
    """Slug from host and path (the query is not part of a resource's identity on the page)."""
    parts = urlsplit(canonical_url(url))
    base = f"{parts.netloc}{parts.path}"
    if with_method:
        base = f"{method}-{base}"
    return slugify(base)
