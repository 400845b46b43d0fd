"""An origin's `/llms.txt`: prose in markdown, read for docs pages and endpoint mentions.

- Markdown links `[text](url)` and bare URLs, same-origin only (cross-origin links are ignored: this is
  prose, not a manifest, so they earn no finding).
- Links that look like documentation (`.md`, `.html`, `/docs`, `/api-reference`, `/guide`…) → docs_links.
- Endpoint mentions → candidates: `POST /v1/x` or `GET https://o/v1/x` anywhere on a line (code blocks
  included), and links whose text or line names an HTTP method in capitals; links under `/api/` or
  `/v1/`-like paths without a method become candidates with no declared method. Templated paths
  (`/users/{id}`, `/users/:id`) cannot be probed and are counted, not kept.
- info: the H1 title and the first blockquote (the llms.txt summary).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from crawler.discovery import Candidate, Discovered, resolve_url, same_origin, source_of
from index.docs.links import is_sibling
from index.findings import finding
from index.urls import canonical_url
from index.untrusted import clean_text

LLMS_PATH = "/llms.txt"
MAX_TEXT_CHARS = 512 * 1024
MAX_LINES = 20_000
MAX_LINE = 4000
MAX_LINKS = 200  # candidates, and separately docs links, kept from one file

_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_URL_CHARS = r"[^\s`<>()\[\]\"'|\\^]"
_LINK_TITLE = r"(?:\s+(?:\"[^\"\n]{0,300}\"|'[^'\n]{0,300}'))?"  # [text](url "title")
_MD_LINK = re.compile(r"\[([^\[\]\n]{0,500})\]\(\s*<?(" + _URL_CHARS + r"{1,2048})>?" + _LINK_TITLE + r"\s*\)")
_BARE_URL = re.compile(r"https?://" + _URL_CHARS + r"{1,2048}")
_METHOD_TARGET = re.compile(r"(?<![A-Za-z])(" + _METHODS + r")\s{1,8}`?"  # "POST /v1/x", "GET https://o/v1/x"
                            r"(https?://" + _URL_CHARS + r"{1,2048}|/" + _URL_CHARS + r"{1,2048})")
_METHOD_WORD = re.compile(r"(?<![A-Za-z])(" + _METHODS + r")(?![A-Za-z])")
_TRAILING = ".,;:!?*_'\"`"

_DOCS_SUFFIXES = (".md", ".mdx", ".markdown", ".html", ".htm", ".txt", ".pdf", ".rst")
_DOCS_SEGMENTS = frozenset({
    "docs", "doc", "documentation", "api-reference", "api-docs", "apidocs", "reference", "references", "guide",
    "guides", "tutorial", "tutorials", "learn", "quickstart", "getting-started", "faq", "help", "manual",
    "handbook", "examples", "changelog", "blog", "swagger", "redoc",
})
_DOCS_PATH = re.compile(r"(?:^|/)(?:docs?|documentation|reference|guides?|api-reference)(?:/|$)|\.(?:md|mdx|html?)$", re.I)
_API_SEGMENT = re.compile(r"api|v[0-9]{1,3}|rpc|mcp")


def _path_segments(url: str) -> list[str]:
    path = url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
    return [s.lower() for s in path.split("/") if s]


def looks_like_docs(url: str) -> bool:
    """A documentation page: a markdown/html/text file, or a path under docs/, guide/, api-reference/…"""
    segments = _path_segments(url)
    if segments and segments[-1].endswith(_DOCS_SUFFIXES):
        return True
    return any(s in _DOCS_SEGMENTS for s in segments)


def looks_like_api(url: str) -> bool:
    """A path under api/, v1/, rpc/ or mcp/ (and not a docs page)."""
    return any(_API_SEGMENT.fullmatch(s) for s in _path_segments(url)) and not looks_like_docs(url)


def _templated(url: str) -> bool:
    return "{" in url or "}" in url or any(s.startswith(":") for s in _path_segments(url))


class _Collector:
    """Candidates and docs links of one file, deduplicated and capped."""

    def __init__(self, page_url: str) -> None:
        self.page_url = page_url
        self.found = Discovered()
        self.source = source_of("llms_txt", page_url)
        self.seen: set[tuple[str, str]] = set()
        self.docs_seen: set[str] = set()
        self.page_key = _key(page_url)
        self.templated = 0
        self.cross_origin: set[str] = set()

    def url(self, raw: str) -> str | None:
        url = resolve_url(raw.rstrip(_TRAILING), self.page_url)
        if url is None:
            return None
        if not same_origin(url, self.page_url):
            if is_sibling(url, self.page_url) and _DOCS_PATH.search(urlsplit(url).path):
                self.docs(url)  # documentation on a sibling host (docs.example.com for api.example.com)
                return None
            if len(self.cross_origin) < 10_000:
                self.cross_origin.add(_key(url))
            return None
        return url

    def candidate(self, method: str | None, url: str) -> bool:
        if _templated(url):
            self.templated += 1
            return False
        key = (_key(url), method or "")
        if key in self.seen or len(self.found.candidates) >= MAX_LINKS:
            return key in self.seen
        self.seen.add(key)
        cand: Candidate = {"url": url, "method": method, "source": self.source}
        self.found.candidates.append(cand)
        return True

    def docs(self, url: str) -> None:
        key = _key(url)
        if key != self.page_key and key not in self.docs_seen and len(self.found.docs_links) < MAX_LINKS:
            self.docs_seen.add(key)
            self.found.docs_links.append(url)


def _key(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _read_line(line: str, out: _Collector) -> None:
    endpoint_urls: set[str] = set()
    for match in _METHOD_TARGET.finditer(line):
        url = out.url(match.group(2))
        if url is not None and out.candidate(match.group(1), url):
            endpoint_urls.add(_key(url))
    line_method = _METHOD_WORD.search(line)
    links = [(m.group(1), m.group(2)) for m in _MD_LINK.finditer(line)]
    prose = _MD_LINK.sub(" ", line)
    links += [("", m.group(0)) for m in _BARE_URL.finditer(prose)]
    for text, raw in links:
        url = out.url(raw)
        if url is None or _key(url) in endpoint_urls:
            continue
        if looks_like_docs(url):
            out.docs(url)
            continue
        text_method = _METHOD_WORD.search(text)
        method = (text_method or line_method).group(1) if (text_method or line_method) else None
        if method or looks_like_api(url):
            out.candidate(method, url)


def parse_llms_txt(text: str, page_url: str) -> Discovered:
    """Docs links and endpoint candidates from an llms.txt (same-origin only, capped at MAX_LINKS each).

    info: {"title"?, "description"?, "templated_skipped", "cross_origin_ignored"}.
    """
    out = _Collector(page_url)
    if isinstance(text, bytes | bytearray):
        text = bytes(text[: MAX_TEXT_CHARS * 4]).decode("utf-8", "replace")
    if not isinstance(text, str):
        out.found.findings.append(finding("discovery_doc_invalid", page_url, "not text"))
        return out.found
    info: dict[str, Any] = {}
    try:
        for number, line in enumerate(text[:MAX_TEXT_CHARS].splitlines()):
            if number >= MAX_LINES:
                break
            line = line[:MAX_LINE]
            stripped = line.strip()
            if "title" not in info and stripped.startswith("# "):
                title = clean_text(stripped[2:], 200)
                if title:
                    info["title"] = title
            elif "description" not in info and stripped.startswith(">"):
                description = clean_text(stripped.lstrip(">").strip(), 2000)
                if description:
                    info["description"] = description
            _read_line(line, out)
    except Exception as exc:  # noqa: BLE001 - last resort: hostile text must never stop the crawl
        out.found.findings.append(finding("discovery_doc_invalid", page_url, f"internal error: {type(exc).__name__}"))
    info["templated_skipped"] = out.templated
    info["cross_origin_ignored"] = len(out.cross_origin)
    out.found.info = info
    return out.found
