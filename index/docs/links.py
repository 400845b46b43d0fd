"""Links worth reading next: same-origin pages a homepage or docs page points to (llms.txt, OpenAPI,
docs, API reference, pricing), ranked by kind, tracking parameters dropped, assets and account pages
skipped."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import tldextract

from index.docs.limits import MAX_ANCHORS, MAX_LINKS, MAX_TITLE
from index.docs.text import MD_LINK, WHITESPACE
from index.untrusted import clean_text
from index.urls import MAX_URL, canonical_url, is_http_url, origin_of

LINK_KINDS = ("llms", "openapi", "docs", "reference", "api", "pricing", "other")  # best first
_ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".mjs", ".map",
                   ".woff", ".woff2", ".ttf", ".eot", ".zip", ".gz", ".tar", ".mp4", ".mp3", ".webm", ".wasm")
_JUNK_SEGMENTS = frozenset("login logout signin sign-in signup sign-up register cart checkout account privacy "
                           "privacy-policy terms terms-of-service tos cookies cookie-policy legal careers jobs "
                           "cdn-cgi".split())
_BARE_URL = re.compile(r"https?://[^\s<>\"'`)\]|]{1,2000}")
WORDS = re.compile(r"[a-z0-9]+")
_DOC_WORDS = frozenset({"docs", "doc", "documentation", "guide", "guides", "quickstart", "tutorial", "tutorials",
                        "learn", "manual", "developers", "developer", "handbook", "started"})


def absolute_url(base: str | None, href: Any) -> str | None:
    """href resolved against base: an absolute http(s) URL, or None."""
    if not isinstance(href, str) or not href.strip() or len(href) > MAX_URL:
        return None
    try:
        url = urljoin(base, href.strip()) if base else href.strip()
    except ValueError:
        return None
    if not is_http_url(url) or len(url) > MAX_URL or clean_text(url, MAX_URL) != url or " " in url:
        return None
    return url


def _kind_of_words(words: set[str], name: str) -> str | None:
    if name in ("llms.txt", "llms-full.txt"):
        return "llms"
    if words & {"openapi", "swagger"}:
        return "openapi"
    if words & {"reference", "ref"}:
        return "reference"
    if words & {"pricing", "prices", "plans", "billing"}:
        return "pricing"
    if words & _DOC_WORDS or name.endswith((".md", ".mdx")):
        return "docs"
    if words & {"api", "apis", "endpoint", "endpoints", "rest"}:
        return "api"
    return None


def _link_kind(path: str, text: str) -> str:
    """docs | api | reference | pricing | llms | openapi | other: from the path, else the link text."""
    p = unquote(path).lower().rstrip("/")
    t = (text or "").lower()
    by_text = _kind_of_words(set(WORDS.findall(t)), "llms.txt" if "llms.txt" in t else "")
    return _kind_of_words(set(WORDS.findall(p)), p.rsplit("/", 1)[-1]) or by_text or "other"


def _drop_tracking(url: str) -> str:
    """The URL without utm_* / gclid / fbclid query parameters (they make one page look like many)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith("utm_") and k.lower() not in ("gclid", "fbclid", "mc_cid", "mc_eid")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


# The Public Suffix List as tldextract ships it: never fetched (no suffix_list_urls), never cached
# to disk; decides which hosts share a registrable domain (docs.example.co.uk ~ api.example.co.uk).
_PSL = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
SIBLING_KINDS = frozenset({"docs", "reference", "api", "llms", "openapi"})


def registrable_domain(host: str | None) -> str | None:
    """`example.co.uk` for `docs.example.co.uk`; None for an IP address, a bare suffix or no host."""
    if not host or len(host) > 253:
        return None
    parts = _PSL(host.lower().rstrip("."))
    if not parts.suffix or not parts.domain:
        return None
    return f"{parts.domain}.{parts.suffix}"


def is_sibling(url: str, page_url: str) -> bool:
    """True when `url` is on another host than `page_url` under the same registrable domain (and the
    same scheme): docs.example.com for api.example.com, not example.com.evil.net."""
    try:
        a, b = urlsplit(url), urlsplit(page_url)
    except ValueError:
        return False
    if a.scheme != b.scheme or not a.hostname or a.hostname == b.hostname:
        return False
    domain = registrable_domain(a.hostname)
    return domain is not None and domain == registrable_domain(b.hostname)


def find_links(candidates: list[tuple[Any, Any, bool]], base: str | None, page_url: str | None) -> list[dict[str, Any]]:
    """Same-origin http(s) links, canonical, deduped, junk dropped; best kinds first, capped. Links
    to documentation on a sibling host (is_sibling) are kept too, marked `"sibling": true`.

    Each candidate is (href, text, bare): bare URLs found in prose are kept only when their kind
    says they are documentation.
    """
    if not page_url:
        return []
    try:
        origin = origin_of(page_url)
        page = canonical_url(page_url)
    except ValueError:
        return []
    seen: set[str] = {page}
    ranked: list[tuple[int, int, dict[str, Any]]] = []
    for order, (href, text, bare) in enumerate(candidates):
        url = absolute_url(base or page_url, href)
        if url is None:
            continue
        try:
            url = canonical_url(_drop_tracking(url))
            parts = urlsplit(url)
            sibling = origin_of(url) != origin
            if sibling and not is_sibling(url, page_url):
                continue
        except ValueError:
            continue
        if url in seen or len(url) > MAX_URL:
            continue
        path = parts.path
        if path.lower().endswith(_ASSET_SUFFIXES) or set(path.lower().split("/")) & _JUNK_SEGMENTS:
            continue
        label = clean_text(WHITESPACE.sub(" ", text) if isinstance(text, str) else None, MAX_TITLE)
        kind = _link_kind(path, label or "")
        if (bare and kind in ("other", "api")) or (sibling and kind not in SIBLING_KINDS):
            continue
        seen.add(url)
        link = {"url": url, "text": label, "kind": kind, **({"sibling": True} if sibling else {})}
        ranked.append((LINK_KINDS.index(kind), order, link))
        if len(seen) > 10 * MAX_LINKS:
            break
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in ranked[:MAX_LINKS]]


# API-reference viewers that load an OpenAPI document by URL: Redoc, RapiDoc, Stoplight Elements, and
# Swagger UI's script (`SwaggerUIBundle({url: "…"})`). Their document is the page's OpenAPI link.
_SPEC_ELEMENTS = {"redoc": "spec-url", "rapi-doc": "spec-url", "elements-api": "apidescriptionurl"}
_SWAGGER_UI = re.compile(r"SwaggerUIBundle\s*\(\s*\{[^{}]{0,2000}?\burl\s*:\s*[\"']([^\"'\s]{1,2000})[\"']")


def html_link_candidates(root: Any) -> list[tuple[Any, Any, bool]]:
    out: list[tuple[Any, Any, bool]] = []
    for tag, attr in _SPEC_ELEMENTS.items():
        for el in root.iter(tag):
            if el.get(attr):
                out.append((el.get(attr), "OpenAPI", False))
    for el in root.iter("script"):
        m = _SWAGGER_UI.search((el.text or "")[:100_000])
        if m:
            out.append((m.group(1), "OpenAPI", False))
    for el in root.iter("a"):
        href = el.get("href")
        if href:
            text = el.text_content()[:500].strip() or el.get("title") or el.get("aria-label") or ""
            out.append((href, text, False))
            if len(out) >= MAX_ANCHORS:
                break
    return out


# Doc-site includes that embed an OpenAPI document: GitBook `{% openapi src="openapi.yaml" … %}` and its
# older `{% swagger src=… %}`; the document they name is read as the origin's OpenAPI (same origin only).
_OPENAPI_INCLUDE = re.compile(r"\{%-?[ \t]*(?:openapi|swagger)[ \t]+[^%\n]{0,500}?\bsrc[ \t]*=[ \t]*[\"']([^\"'\s]{1,2000})[\"']")


def text_link_candidates(text: str) -> list[tuple[Any, Any, bool]]:
    out: list[tuple[Any, Any, bool]] = []
    for m in _OPENAPI_INCLUDE.finditer(text):
        out.append((m.group(1), "OpenAPI", False))
        if len(out) >= 20:
            break
    for m in MD_LINK.finditer(text):
        out.append((m.group(2), m.group(1), False))
        if len(out) >= MAX_ANCHORS:
            return out
    for m in _BARE_URL.finditer(text):
        out.append((m.group().rstrip(".,;:!?*"), "", True))
        if len(out) >= 2 * MAX_ANCHORS:
            break
    return out
