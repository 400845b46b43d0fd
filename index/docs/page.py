"""Docs pages read into facts: what a homepage or docs page says about an origin's paid endpoints.

`extract_page` turns one fetched page (HTML, markdown or plain text, as bytes + URL + content
type) into one JSON-able dict: page metadata (title, description, canonical, favicon, lang,
OpenGraph, microdata, JSON-LD), same-origin links worth reading next, and what the prose
documents: request examples (curl, fetch, Python), request field tables, response examples,
notes (other ways to authenticate, rate limits, free quotas) and the endpoints it names.
`docs_for` merges several pages' extracts into what they say about one resource.

Pure and bounded: no I/O, never raises on hostile input, caps the input and every list, and
uses linear-time regexes only; every scanner moves forward past what it has read, so a megabyte
of brackets or pipes costs about what a megabyte of prose does.

HTML is first rendered to markdown-like text (headings as `#`, <pre> as fenced blocks, <table>
rows as pipe rows, <li> as `- `, <dd> as `: `), so one text reader serves every kind of page.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import extruct
from lxml import etree
from parsel import Selector
from w3lib.encoding import html_to_unicode

from index.urls import canonical_url, is_http_url, origin_of
from index.protocol.networks import HTTP_METHODS as METHODS
from index.protocol.normalize import MAX_DESCRIPTION
from index.urls import MAX_URL
from index.untrusted import MAX_JSON_DEPTH, clean_text, safe_copy, safe_json_loads, scrub_text

MAX_BODY_BYTES = 2 * 1024 * 1024  # bytes of a page we read; the rest is ignored (truncated: true)
MAX_TEXT_CHARS = 2_000_000
MAX_LINE = 4000  # longer lines are never headings, table rows, fields or notes
MAX_BLOCK = 64 * 1024  # one JSON block
MAX_CALL = 16 * 1024  # one curl command or fetch/requests call
MAX_SCANS = 500  # attempts per scanner (curl, fetch, requests)
MAX_LINKS = 50
MAX_ANCHORS = 5000
MAX_EXAMPLES = 20
MAX_FIELDS = 100
MAX_RESPONSES = 20
MAX_NOTES = 20
MAX_NOTE = 300
MAX_ENDPOINTS = 100
MAX_JSONLD = 20
MAX_JSONLD_BLOCK = 256 * 1024
MAX_ITEMSCOPES = 200
MAX_ITEMSCOPE_DEPTH = 8
MAX_TITLE = 200
MAX_FIELD_DESCRIPTION = 1000
MAX_RAW_BODY = 4000
MAX_HEADER_VALUE = 1000
MAX_PATH = 300
MAX_KEEP_NODES = 5000  # JSON nodes kept per value (examples, JSON-LD objects)
MAX_KEEP_ITEMS = 200  # items kept per JSON array or object
MAX_KEEP_DEPTH = 32
REDACTED = "<redacted>"
LINK_KINDS = ("llms", "openapi", "docs", "reference", "api", "pricing", "other")  # best first

PAGE_KEYS = ("url", "kind", "truncated", "title", "description", "canonical", "favicon", "lang",
             "opengraph", "microdata", "jsonld", "jsonld_errors", "links", "examples", "fields",
             "response_fields", "responses", "notes", "endpoints", "failed_stages")


# ---------------------------------------------------------------------------------------------
# text hygiene and decoding

_WS = re.compile(r"\s+")
_MULTI_SPACE = re.compile(r" {2,}")
# Brackets excluded inside both parts, so scans from different `[` never overlap (linear on `[[[[`).
_MD_LINK = re.compile(r"!?\[([^\[\]\n]{0,300})\]\(([^()\[\]\s]{0,1000})(?:[ \t]+\"[^\"\n]{0,200}\")?\)")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _plain(text: str) -> str:
    """Inline markdown made plain: links become their text; bold markers and backticks go."""
    return _MD_LINK.sub(r"\1", text).replace("**", "").replace("`", "")


def _decode(body: bytes | str, content_type: str | None) -> str:
    if isinstance(body, str):
        return body
    try:
        return html_to_unicode(content_type if isinstance(content_type, str) else None, body)[1]
    except Exception:  # noqa: BLE001 - w3lib on a hostile header or body; fall back to UTF-8
        return body.decode("utf-8", "replace")


def _keep(value: Any) -> Any:
    """A bounded, cleaned JSON copy of a value found on a page (index.untrusted.safe_copy)."""
    return safe_copy(value, MAX_KEEP_NODES, MAX_KEEP_DEPTH, MAX_KEEP_ITEMS, MAX_DESCRIPTION, MAX_TITLE)


def _content_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strict_json(text: str) -> Any:
    """Parsed JSON object or array, or None."""
    text = text.strip()
    if not text or text[0] not in "{[" or len(text) > MAX_BLOCK:
        return None
    try:
        value = safe_json_loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


# ---------------------------------------------------------------------------------------------
# page kind and HTML metadata


def _page_kind(raw: bytes | str, url: str, content_type: str | None) -> str:
    """'html', 'markdown' or 'text', from the content type, the URL's suffix, else the first bytes."""
    ctype = content_type.lower() if isinstance(content_type, str) else ""
    try:
        path = urlsplit(url).path.lower() if isinstance(url, str) else ""
    except ValueError:
        path = ""
    if "html" in ctype:
        return "html"
    if "markdown" in ctype or path.endswith((".md", ".mdx", ".markdown")):
        return "markdown"
    if not ctype or "octet-stream" in ctype or "unknown" in ctype:
        head = raw[:1024].lower() if isinstance(raw, bytes) else raw[:1024].lower().encode("utf-8", "replace")
        head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith((b"<!doctype html", b"<html")) or b"<head" in head or b"<body" in head:
            return "html"
    return "text"


def _selector(text: str) -> Selector | None:
    try:
        sel = Selector(text=text if text.strip() else "<html></html>", type="html")
    except Exception:  # noqa: BLE001 - lxml refuses some documents outright
        return None
    return sel if sel.root is not None else None


def _xfirst(sel: Selector, *queries: str) -> str | None:
    for query in queries:
        try:
            values = sel.xpath(query).getall()
        except ValueError:
            continue
        for value in values[:5]:
            if isinstance(value, str) and value.strip():
                return value
    return None


def _abs_url(base: str | None, href: Any) -> str | None:
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


_LOWER = "translate(@{a},'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')"
_LANG_OK = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}")


def _html_meta(sel: Selector, url: str | None) -> dict[str, Any]:
    """Title (og:title, <title>, first <h1>), description, canonical, favicon, lang and base URL."""
    rel = _LOWER.format(a="rel")
    title = _xfirst(sel, "//meta[@property='og:title']/@content", "//title//text()", "//h1//text()")
    description = _xfirst(sel, f"//meta[{_LOWER.format(a='name')}='description']/@content",
                          "//meta[@property='og:description']/@content")
    base_href = _xfirst(sel, "//base/@href")
    base = _abs_url(url, base_href) if base_href else None
    base = base or url
    canonical = _xfirst(sel, f"//link[{rel}='canonical']/@href")
    icon = _xfirst(sel, f"//link[contains(concat(' ', normalize-space({rel}), ' '), ' icon ')]/@href",
                   f"//link[{rel}='apple-touch-icon']/@href", f"//link[{rel}='apple-touch-icon-precomposed']/@href")
    lang = clean_text(_xfirst(sel, "/html/@lang", "//html/@lang"), 35)
    return {
        "title": clean_text(title, MAX_TITLE),
        "description": clean_text(description, MAX_DESCRIPTION),
        "canonical": _abs_url(base, canonical),
        "favicon": _abs_url(base, icon),
        "lang": lang if lang and _LANG_OK.fullmatch(lang) else None,
        "base": base,
    }


def page_meta(body: bytes | str, url: str) -> dict[str, Any]:
    """An HTML page's title, description, canonical and favicon (what a homepage says of its origin)."""
    raw = body[:MAX_BODY_BYTES] if isinstance(body, bytes | str) else b""
    sel = _selector(scrub_text(_decode(raw, "text/html")))
    meta = _html_meta(sel, url if is_http_url(url) else None) if sel is not None else {}
    return {key: meta.get(key) for key in ("title", "description", "canonical", "favicon")}


# extruct 0.18.0 (verified here): with errors="log" one malformed JSON-LD block, or even an empty
# <script type="application/ld+json"></script>, drops the whole "json-ld" key, good blocks included.
# So JSON-LD is parsed here one <script> at a time, and extruct reads OpenGraph and microdata only.
def _jsonld(root: Any) -> tuple[list[Any], int]:
    """Objects of every JSON-LD <script>, parsed one at a time, and how many scripts failed."""
    objects: list[Any] = []
    errors = 0
    for el in root.iter("script"):
        if (el.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (el.text or "").strip()
        for wrapper in (("<!--", "-->"), ("<![CDATA[", "]]>")):
            if raw.startswith(wrapper[0]) and raw.endswith(wrapper[1]):
                raw = raw[len(wrapper[0]):-len(wrapper[1])].strip()
        raw = raw.rstrip(";").strip()
        if not raw:
            continue
        value: Any = None
        if len(raw) <= MAX_JSONLD_BLOCK:
            for attempt in (raw, raw.replace("\n", " ").replace("\t", " ")):  # raw newlines in strings
                try:
                    value = safe_json_loads(attempt)
                    break
                except ValueError:
                    continue
        items = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict)]
        if not items:
            errors += 1
            continue
        objects.extend(_keep(v) for v in items[:MAX_JSONLD - len(objects)])
        if len(objects) >= MAX_JSONLD:
            break
    return objects, errors


def _extruct(root: Any, base: str | None) -> tuple[dict[str, Any], list[Any]]:
    """OpenGraph (one merged dict) and microdata (list) via extruct on the parsed tree."""
    syntaxes = ["opengraph"]
    # extruct's microdata reader is cubic in nested itemscopes (800 nested took 33 s here): read
    # microdata only when a page has a sane number of them, nested a few deep at most.
    deep = f"boolean(//*[@itemscope][count(ancestor::*[@itemscope]) > {MAX_ITEMSCOPE_DEPTH}])"
    if root.xpath("count(//*[@itemscope])") <= MAX_ITEMSCOPES and not root.xpath(deep):
        syntaxes.append("microdata")
    try:
        data = extruct.extract(root, base_url=base, syntaxes=syntaxes, errors="ignore", uniform=True)
    except Exception:  # noqa: BLE001 - extruct on a broken page: nothing rather than a crash
        return {}, []
    og: dict[str, Any] = {}
    for obj in data.get("opengraph") or []:
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key != "@context" and key not in og and len(og) < MAX_KEEP_ITEMS:
                    og[key] = value
    micro = [obj for obj in data.get("microdata") or [] if isinstance(obj, dict)][:MAX_JSONLD]
    return _keep(og), [_keep(obj) for obj in micro]


# ---------------------------------------------------------------------------------------------
# HTML to markdown-like text

_SKIP_TAGS = frozenset("script style noscript template svg head iframe object canvas math select button".split())
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center details dialog div dl dt fieldset figcaption "
    "figure footer form header hgroup hr legend li main nav ol p section summary ul".split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACED_INLINE = frozenset({"span", "code", "kbd", "samp", "var", "label", "small", "sup", "sub"})
_MAX_TABLE_ROWS = 500


def _hidden(el: Any) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return el.get("hidden") is not None or el.get("aria-hidden") == "true" or "display:none" in style


def _cell_text(cell: Any) -> str:
    if cell.find(".//table") is not None:
        return ""  # a nested table is rendered by its own rows
    return _WS.sub(" ", cell.text_content()[:MAX_LINE]).strip().replace("|", "\\|")


def _table_text(table: Any) -> str:
    rows: list[str] = []
    for tr in table.iter("tr"):
        cells = [_cell_text(c) for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")][:20]
        if not cells:
            continue
        rows.append("| " + " | ".join(cells) + " |")
        if len(rows) == 1:
            rows.append("|" + "---|" * len(cells))
        if len(rows) >= _MAX_TABLE_ROWS:
            break
    return "\n".join(rows)


def _pre_text(pre: Any) -> str:
    """A <pre>'s text with its lines: highlighters end lines with <br> or wrap each in a <div>."""
    for el in pre.iter():
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if el is not pre and (tag == "br" or (tag in ("div", "p") and not (el.tail or "").startswith("\n"))):
            el.tail = "\n" + (el.tail or "")
    return pre.text_content()


def _render_html(root: Any) -> str:
    """Visible text of a parsed page as markdown-like lines (no scripts, styles or hidden parts)."""
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # keeps their tails
    out: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if not tag or tag in _SKIP_TAGS or _hidden(el):
                walker.skip_subtree()
                continue
            if tag == "pre":
                out.append("\n```\n" + _pre_text(el).strip("\n") + "\n```\n")
                walker.skip_subtree()
                continue
            if tag == "table":
                out.append("\n" + _table_text(el) + "\n")
                walker.skip_subtree()
                continue
            if tag in _HEADINGS:
                out.append("\n\n" + "#" * _HEADINGS[tag] + " ")
            elif tag == "li":
                out.append("\n- ")
            elif tag == "dd":
                out.append("\n: ")
            elif tag == "br":
                out.append("\n")
            elif tag in _BLOCK_TAGS:
                out.append("\n")
            elif tag in _SPACED_INLINE:
                out.append(" ")
            if el.text:
                out.append(_WS.sub(" ", el.text))
        else:
            if tag and tag not in _SKIP_TAGS:
                if tag in _HEADINGS or tag in _BLOCK_TAGS or tag in ("pre", "table", "dd"):
                    out.append("\n")
                elif tag in _SPACED_INLINE:
                    out.append(" ")
            if el.tail:
                out.append(_WS.sub(" ", el.tail))
    lines: list[str] = []
    fenced = False
    for line in "".join(out).split("\n"):
        if line.strip().startswith("```"):
            fenced = not fenced
            lines.append(line.strip())
        else:
            lines.append(line.rstrip() if fenced else _MULTI_SPACE.sub(" ", line).strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")[:MAX_TEXT_CHARS]


# ---------------------------------------------------------------------------------------------
# links

_ASSET_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".mjs", ".map",
                   ".woff", ".woff2", ".ttf", ".eot", ".zip", ".gz", ".tar", ".mp4", ".mp3", ".webm", ".wasm")
_JUNK_SEGMENTS = frozenset("login logout signin sign-in signup sign-up register cart checkout account privacy "
                           "privacy-policy terms terms-of-service tos cookies cookie-policy legal careers jobs "
                           "cdn-cgi".split())
_BARE_URL = re.compile(r"https?://[^\s<>\"'`)\]|]{1,2000}")
_WORDS = re.compile(r"[a-z0-9]+")


_DOC_WORDS = frozenset({"docs", "doc", "documentation", "guide", "guides", "quickstart", "tutorial", "tutorials",
                        "learn", "manual", "developers", "developer", "handbook", "started"})


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
    by_text = _kind_of_words(set(_WORDS.findall(t)), "llms.txt" if "llms.txt" in t else "")
    return _kind_of_words(set(_WORDS.findall(p)), p.rsplit("/", 1)[-1]) or by_text or "other"


def _drop_tracking(url: str) -> str:
    """The URL without utm_* / gclid / fbclid query parameters (they make one page look like many)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith("utm_") and k.lower() not in ("gclid", "fbclid", "mc_cid", "mc_eid")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(pairs), parts.fragment))


def _links(candidates: list[tuple[Any, Any, bool]], base: str | None, page_url: str | None) -> list[dict[str, Any]]:
    """Same-origin http(s) links, canonical, deduped, junk dropped; best kinds first, capped.

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
        url = _abs_url(base or page_url, href)
        if url is None:
            continue
        try:
            url = canonical_url(_drop_tracking(url))
            parts = urlsplit(url)
            if origin_of(url) != origin:
                continue
        except ValueError:
            continue
        if url in seen or len(url) > MAX_URL:
            continue
        path = parts.path
        if path.lower().endswith(_ASSET_SUFFIXES) or set(path.lower().split("/")) & _JUNK_SEGMENTS:
            continue
        label = clean_text(_WS.sub(" ", text) if isinstance(text, str) else None, MAX_TITLE)
        kind = _link_kind(path, label or "")
        if bare and kind in ("other", "api"):
            continue
        seen.add(url)
        ranked.append((LINK_KINDS.index(kind), order, {"url": url, "text": label, "kind": kind}))
        if len(seen) > 10 * MAX_LINKS:
            break
    ranked.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in ranked[:MAX_LINKS]]


def _html_link_candidates(root: Any) -> list[tuple[Any, Any, bool]]:
    out: list[tuple[Any, Any, bool]] = []
    for el in root.iter("a"):
        href = el.get("href")
        if href:
            text = el.text_content()[:500].strip() or el.get("title") or el.get("aria-label") or ""
            out.append((href, text, False))
            if len(out) >= MAX_ANCHORS:
                break
    return out


def _text_link_candidates(text: str) -> list[tuple[Any, Any, bool]]:
    out: list[tuple[Any, Any, bool]] = []
    for m in _MD_LINK.finditer(text):
        out.append((m.group(2), m.group(1), False))
        if len(out) >= MAX_ANCHORS:
            return out
    for m in _BARE_URL.finditer(text):
        out.append((m.group().rstrip(".,;:!?*"), "", True))
        if len(out) >= 2 * MAX_ANCHORS:
            break
    return out


# ---------------------------------------------------------------------------------------------
# the text model: lines, fences, headings, sections, endpoint context

_FENCE = re.compile(r"\s{0,3}(```|~~~)\s*([\w+#.-]{0,30})")
_HEADING = re.compile(r"(#{1,6})[ \t]+")
_LEAD_DECOR = re.compile(r"[\s#>*+\-`]*")
_LABEL = re.compile(r"(?:endpoint|url|request|route|path|http request)\s*:\s*", re.I)
_ENDPOINT_AT = re.compile(r"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)(?:[ \t]+|(?=/))"
                          r"(https?://[^\s\"'`()\[\]|]+|/[^\s\"'`()\[\]|]*)")
_ENDPOINT_ANY = re.compile(r"(?<![A-Za-z0-9_])(GET|POST|PUT|PATCH|DELETE)[ \t]+"
                           r"(https?://[^\s\"'`()\[\]|<>]+|/[A-Za-z0-9_{:<$~.-][^\s\"'`()\[\]|]*)")
_PATH_LINE = re.compile(r"https?://\S+|/\S*")
_PATH_OK = re.compile(r"/[A-Za-z0-9_\-./{}:~%@+,;=*$!<>]*")
_GLUED = re.compile(r"[a-z0-9}][A-Z][A-Za-z]")
_OPENAPI_TAG = re.compile(r"\{%\s*openapi\b([^%\n]{0,1000})%\}", re.I)
_TAG_ATTR = re.compile(r"\b(path|method)\s*=\s*\"([^\"\n]{1,300})\"", re.I)
_STATUS = re.compile(r"(?<!\d)([1-5]\d\d)(?!\d)")
_RESPONSE_CUE = re.compile(r"\b(?:respon\w*|returns?|output|results?)\b", re.I)
_REQUEST_CUE = re.compile(r"\b(?:request\w*|param\w*|arguments?|body|payload|inputs?|query)\b", re.I)
_CUE_LINE = re.compile(
    r"(?:(?:example|sample|successful|success|error|streaming|query|path|body|header|form)\s+)?"
    r"(request|response|responses|returns|parameters|params|arguments|body|payload|input|output|result)s?\b"
    r"(?:\s+[\w-]+)?\s*:?", re.I)
_RESPONSE_WORDS = ("response", "responses", "returns", "output", "result")


def _endpoint_target(token: str, rest: str) -> tuple[str, str | None] | None:
    """(path, absolute URL or None) from the token after a method; None if it is not a path.

    Text extracted from a rendered page can glue the path to the next words
    (`/v1/chat/completionsOpenAI-compatible …`): when words follow on the line, a lower-to-upper
    case change in the last segment ends the path.
    """
    token = token.rstrip(".,;:!?*'\")")
    url: str | None = None
    if token.lower().startswith(("http://", "https://")):
        if not is_http_url(token) or len(token) > MAX_URL:
            return None
        try:
            path = urlsplit(token).path or "/"
        except ValueError:
            return None
        url = token
    else:
        path = token.split("?", 1)[0].split("#", 1)[0]
    head, _, last = path.rpartition("/")
    glued = _GLUED.search(last) if rest.strip() else None
    if glued:
        cut = head + "/" + last[:glued.start() + 1]
        url = url[:url.index(path)] + cut if url and path in url else url
        path = cut
    if len(path) > MAX_PATH or not _PATH_OK.fullmatch(path):
        return None
    return path, (clean_text(url, MAX_URL) if url else None)


def _line_endpoint(line: str) -> tuple[str, str, str | None] | None:
    """(method, path, url) when a line opens with `METHOD /path` (or `METHOD https://…`)."""
    if line.startswith("|"):
        return None
    s = _LEAD_DECOR.sub("", line, count=1).replace("**", "").replace("`", "")
    label = _LABEL.match(s)
    if label:
        s = s[label.end():]
    m = _ENDPOINT_AT.match(s)
    if not m:
        return None
    target = _endpoint_target(m.group(2), s[m.end():])
    return (m.group(1), *target) if target else None


def _heading_cue(text: str) -> str | None:
    if _RESPONSE_CUE.search(text):
        return "response"
    if _REQUEST_CUE.search(text):
        return "request"
    return None


def _cue_line(line: str) -> str | None:
    """'request' / 'response' for a short label line such as `Request Body` or `Returns`."""
    if len(line) > 40 or len(line.split()) > 4:
        return None
    m = _CUE_LINE.fullmatch(line)
    if not m:
        return None
    return "response" if m.group(1).lower() in _RESPONSE_WORDS else "request"


# Whole-text regexes that find the few lines worth a closer look, so per-line Python work is spent
# on candidates only (a megabyte of short lines costs one C-speed pass per pattern). They run over
# "\n" + text and start with a literal "\n" rather than ^ and MULTILINE, which lets the regex
# engine skip ahead to newlines instead of trying every position.
_FENCE_LINES = re.compile(r"\n[ \t]{0,3}(?:```|~~~)")
_EVENT_LINES = re.compile(
    r"\n[ \t]*+(?:#{1,6}[ \t]"
    r"|[#>*+\-`_ \t]*+(?:(?:endpoint|url|request|route|path|http request)[ \t]*+:[ \t]*+)?"
    r"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b"
    r"|[*_`]*+(?:(?:example|sample|successful|success|error|streaming|query|path|body|header|form)[ \t]++)?"
    r"(?:request|response|returns|parameters|params|arguments|body|payload|input|output|result)"
    r"|[^\n]{0,200}\{%[ \t]*openapi\b)", re.I)
MAX_CANDIDATES = 3000  # candidate lines examined per reader (events, fields, notes, JSON blocks)


def _candidate_lines(doc: _Doc, pattern: re.Pattern[str], limit: int = MAX_CANDIDATES,
                     text: str | None = None) -> list[int]:
    """Sorted indices of unfenced lines (not over MAX_LINE) where `pattern` matches in doc.text_nl
    (or `text`, a same-length transform of it), at most `limit`."""
    out: list[int] = []
    last = -1
    for m in pattern.finditer(doc.text_nl if text is None else text):
        i = doc.line_of(m.start())  # text_nl[k] is the newline before text[k]
        if i != last and not doc.fenced[i] and len(doc.lines[i]) <= MAX_LINE:
            out.append(i)
            last = i
            if len(out) >= limit:
                break
    return out


class _Doc:
    """A page's text as lines, each with what it sits under: code fence, heading, section, endpoint."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.text_nl = "\n" + text
        self.lines = text.split("\n")
        self.starts: list[int] = list(accumulate((len(line) + 1 for line in self.lines[:-1]), initial=0))
        n = len(self.lines)
        self.fenced = [False] * n
        self.fences: list[tuple[int, int, str]] = []  # (opening line, closing line, language)
        self.section: list[str | None] = [None] * n  # 'request' | 'response' | None
        self.heading: list[str | None] = [None] * n  # nearest heading or label line
        self.ctx_pos: list[int] = []
        self.ctx: list[tuple[str, str, str | None]] = []  # (method, path, url), by position
        self.h1: str | None = None
        self.h1_line: int | None = None
        self._find_fences()
        self._walk()

    def _find_fences(self) -> None:
        opened: tuple[int, str] | None = None
        for count, m in enumerate(_FENCE_LINES.finditer(self.text_nl)):
            if count >= 2 * MAX_CANDIDATES:
                break
            i = self.line_of(m.start())
            line = self.lines[i]
            if opened is None:
                lang = _FENCE.match(line) if len(line) <= 200 else None
                opened = (i, lang.group(2).lower() if lang else "")
            elif not line.strip().strip("`~"):
                self.fences.append((opened[0], i, opened[1]))
                self.fenced[opened[0]:i + 1] = [True] * (i + 1 - opened[0])
                opened = None
        if opened is not None:
            self.fences.append((opened[0], len(self.lines), opened[1]))
            self.fenced[opened[0]:] = [True] * (len(self.lines) - opened[0])

    def _event(self, i: int, line: str) -> tuple[tuple[str, str, str | None] | None, tuple[int, str] | None,
                                                  str | None]:
        """(endpoint, markdown heading (level, text), label cue) that line i states, if any."""
        endpoint = _line_endpoint(line)
        bare = _LEAD_DECOR.sub("", line, count=1).replace("`", "").replace("*", "").strip()
        if endpoint is None and bare in METHODS:  # a method alone, its path on the next line
            j = self.next_line(i, 2)
            if j is not None and not self.fenced[j]:
                path = _LEAD_DECOR.sub("", self.lines[j].strip(), count=1).replace("`", "")
                target = _endpoint_target(path, "") if _PATH_LINE.fullmatch(path) else None
                endpoint = (bare, *target) if target else None
        tag = _OPENAPI_TAG.search(line) if endpoint is None and "{%" in line else None
        if tag:
            attrs = {k.lower(): v for k, v in _TAG_ATTR.findall(tag.group(1))}
            target = _endpoint_target(attrs.get("path", ""), "")
            method = attrs.get("method", "").upper()
            endpoint = (method, *target) if target and method in METHODS else None
        h = _HEADING.match(line)
        if h:
            return endpoint, (len(h.group(1)), _plain(line[h.end():]).strip().rstrip("#").strip()), None
        return endpoint, None, _cue_line(_plain(line))

    def _walk(self) -> None:
        """Section, heading and endpoint context of every line, set at the candidate lines that change them."""
        stack: list[tuple[int, str | None, str]] = []  # markdown headings: (level, cue, text)
        flat: str | None = None  # cue of the last label line; "" after an endpoint line (no section)
        flat_text: str | None = None
        events = _candidate_lines(self, _EVENT_LINES)
        for k, i in enumerate(events):
            endpoint, heading, cue = self._event(i, self.lines[i].strip())
            if heading:
                level, text = heading
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, _heading_cue(text), text))
                flat, flat_text = None, None
                if level == 1 and self.h1 is None and text:
                    self.h1, self.h1_line = text, i
            elif cue:
                flat, flat_text = cue, self.lines[i].strip()
            if endpoint:
                self.ctx_pos.append(self.starts[i])
                self.ctx.append(endpoint)
                flat, flat_text = "", None
            if flat is not None:
                section = flat or None
            else:
                section = next((c for _, c, _ in reversed(stack) if c), None)
            heading_text = flat_text or (stack[-1][2] if stack else None)
            end = events[k + 1] if k + 1 < len(events) else len(self.lines)
            self.section[i:end] = [section] * (end - i)
            self.heading[i:end] = [heading_text] * (end - i)

    def line_of(self, pos: int) -> int:
        return max(0, bisect_right(self.starts, pos) - 1)

    def context_at(self, pos: int) -> tuple[str | None, str | None]:
        """(method, path) of the nearest endpoint line at or before `pos`."""
        i = bisect_right(self.ctx_pos, pos) - 1
        return (self.ctx[i][0], self.ctx[i][1]) if i >= 0 else (None, None)

    def next_line(self, i: int, within: int = 3) -> int | None:
        """Index of the next non-blank line after i (not further than `within` lines)."""
        for j in range(i + 1, min(len(self.lines), i + 1 + within)):
            if self.lines[j].strip():
                return j
        return None


# ---------------------------------------------------------------------------------------------
# scanning helpers: balanced brackets, string literals, JS/Python literals

_SCAN = {
    "json": re.compile(r'"(?:[^"\\\n]|\\.)*"|\n[ \t]*\n|[\[\]{}()]|"'),
    "js": re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`|[\[\]{}()]|["\'`]', re.S),
    "py": re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[\[\]{}()]|["\']'),
}
_OPENERS = {"[": "]", "{": "}", "(": ")"}


MAX_SCAN_TOKENS = 200_000  # brackets and strings read per page while looking for JSON blocks


def _balanced(text: str, start: int, mode: str, limit: int, endpos: int | None = None,
              budget: list[int] | None = None) -> tuple[bool, int]:
    """(True, end) when the bracket at `start` closes at end-1; else (False, where scanning stopped).

    Jumps from bracket to bracket with one regex (strings skipped whole), so the cost is linear
    in the span read, which is at most `limit`. JSON mode stops at a blank line and at nesting
    deeper than safe_json_loads accepts. `budget`, when given, counts tokens read across calls.
    """
    stop = min(len(text), start + limit, endpos if endpos is not None else len(text))
    stack: list[str] = []
    pattern = _SCAN[mode]
    max_depth = MAX_JSON_DEPTH if mode == "json" else 4 * MAX_JSON_DEPTH
    pos = start
    while pos < stop:
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                return False, pos
        m = pattern.search(text, pos, stop)
        if m is None:
            return False, stop
        tok = m.group()
        pos = m.end()
        if tok in _OPENERS:
            stack.append(_OPENERS[tok])
            if len(stack) > max_depth:
                return False, pos
        elif tok in ")]}":
            if not stack or stack.pop() != tok:
                return False, pos
            if not stack:
                return True, pos
        elif tok[0] == "\n" or len(tok) == 1:  # a blank line (JSON) or an unterminated string
            return False, pos
    return False, stop


_STRINGS = {
    '"': re.compile(r'"((?:[^"\\\n]|\\.)*)"'),
    "'": re.compile(r"'((?:[^'\\\n]|\\.)*)'"),
    "`": re.compile(r"`((?:[^`\\]|\\.)*)`", re.S),
}
_STRING_PREFIX = re.compile(r"[fFrRbBuU]{1,2}(?=[\"'])")
_IDENT = re.compile(r"[A-Za-z_$][\w$]{0,80}")
_SPACE_RUN = re.compile(r"\s*")


def _skip_ws(text: str, pos: int) -> int:
    return _SPACE_RUN.match(text, pos).end()


def _string_at(text: str, pos: int, quotes: str = "\"'`") -> tuple[str, int] | None:
    """(inner text, end) of a string literal starting at pos (Python prefixes like f"" allowed)."""
    prefix = _STRING_PREFIX.match(text, pos)
    if prefix:
        pos = prefix.end()
    if pos >= len(text) or text[pos] not in quotes:
        return None
    m = _STRINGS[text[pos]].match(text, pos, min(len(text), pos + MAX_URL + 2))
    return (m.group(1), m.end()) if m else None


def _resolve(text: str, before: int, name: str) -> tuple[str, str] | None:
    """The literal last assigned to `name` shortly before `before`: ("str", inner) or ("obj", source)."""
    window_start = max(0, before - 4000)
    last = None
    for m in re.finditer(r"(?<![\w$.])" + re.escape(name) + r"[ \t]*=(?!=)[ \t]*", text[window_start:before]):
        last = m
    if last is None:
        return None
    pos = window_start + last.end()
    lit = _string_at(text, pos)
    if lit:
        return "str", lit[0]
    if pos < len(text) and text[pos] in "{[":
        ok, end = _balanced(text, pos, "js", MAX_CALL)
        if ok:
            return "obj", text[pos:end]
    return None


_LITERAL = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<dq>"(?:[^"\\\n]|\\.)*")
  | (?P<sq>'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}\[\],:])
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_$][\w$]*)
""", re.X | re.S)
_LITERAL_WORDS = {"true": "true", "True": "true", "false": "false", "False": "false",
                  "null": "null", "None": "null", "undefined": "null"}


def _loose_literal(src: str) -> Any:
    """A JS object literal or Python dict/list literal as JSON (unquoted keys, single quotes,
    trailing commas, True/None); ValueError for anything else (variables, calls, templates)."""
    if len(src) > MAX_BLOCK:
        raise ValueError("literal too long")
    value = _strict_json(src)
    if value is not None:
        return value
    out: list[str] = []
    pos = 0
    while pos < len(src):
        m = _LITERAL.match(src, pos)
        if m is None:
            raise ValueError("not a literal")
        pos = m.end()
        kind, tok = m.lastgroup, m.group()
        if kind == "ws":
            continue
        if kind == "dq":
            out.append(tok)
        elif kind == "sq":
            out.append('"' + tok[1:-1].replace("\\'", "'").replace('"', '\\"') + '"')
        elif kind == "punct":
            if tok in "}]" and out and out[-1] == ",":
                out.pop()
            out.append(tok)
        elif kind == "num":
            out.append(tok if _JSON_NUMBER.fullmatch(tok) else repr(float(tok)))
        elif tok in _LITERAL_WORDS:
            out.append(_LITERAL_WORDS[tok])
        elif out and out[-1] in "{," and src[_skip_ws(src, pos):_skip_ws(src, pos) + 1] == ":":
            out.append(json.dumps(tok))
        else:
            raise ValueError("not a literal")
    return safe_json_loads("".join(out))


# ---------------------------------------------------------------------------------------------
# request examples: curl, fetch, Python

_SECRET_NAME = re.compile(
    r"auth|token|secret|passw|api[-_]?key|apikey|cookie|session|signature|payment|credential|private", re.I)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
_PATH_START = re.compile(r"(?<![/:])/(?!/)")


def _redact_headers(headers: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in list(headers.items())[:50]:
        name = name.strip()
        if not _HEADER_NAME.fullmatch(name):
            continue
        out[name] = REDACTED if _SECRET_NAME.search(name) else (clean_text(value, MAX_HEADER_VALUE) or "")
    return out


def _redact_query(url: str) -> str:
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url
    if not any(_SECRET_NAME.search(k) for k, _ in pairs):
        return url
    query = urlencode([(k, "REDACTED" if _SECRET_NAME.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _url_and_path(raw: Any) -> tuple[str | None, str | None]:
    """(absolute URL, path) of an example's target; a `$BASE/v1/x` or `{{host}}/v1/x` gives a path only."""
    if not isinstance(raw, str):
        return None, None
    s = raw.strip().strip("<>").rstrip("`'\",;)")
    if not s or len(s) > MAX_URL:
        return None, None
    if is_http_url(s):
        try:
            path = urlsplit(s).path or "/"
        except ValueError:
            return None, None
        url = clean_text(_redact_query(s), MAX_URL)
        return (url, path) if _PATH_OK.fullmatch(path) and len(path) <= MAX_PATH else (url, None)
    m = _PATH_START.search(s)
    if not m or "://" in s[:m.start()]:  # no path, or a URL of another scheme
        return None, None
    path = s[m.start():].split("?", 1)[0].split("#", 1)[0]
    return (None, path) if _PATH_OK.fullmatch(path) and len(path) <= MAX_PATH else (None, None)


def _example(method: str | None, target: Any, headers: dict[str, str], body: Any, body_raw: str | None,
             source: str) -> dict[str, Any] | None:
    url, path = _url_and_path(target)
    if url is None and path is None:
        return None
    method = (method or "").upper()
    if method not in METHODS and not re.fullmatch(r"[A-Z]{3,10}", method):
        method = "POST" if body is not None or body_raw else "GET"
    return {
        "method": method,
        "url": url,
        "path": path,
        "headers": _redact_headers(headers),
        "body": _keep(body) if body is not None else None,
        "body_raw": clean_text(body_raw, MAX_RAW_BODY) if body is None else None,
        "source": source,
    }


_CURL_FIND = re.compile(r"(?<![\w./\-])curl(?=[ \t\\])")
_SHELL = re.compile(r"""
    (?P<sq>'[^']*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<cont>\\[ \t]*\n|\\[ \t]+)
  | (?P<esc>\\.)
  | (?P<word>[^\s'"\\;|&<>`]+)
  | (?P<space>[ \t]+)
  | (?P<end>.)
""", re.X | re.S)
_DQ_ESCAPE = re.compile(r'\\(["\\$`\n])')
_CURL_SHORT_ARG = {"X": "--request", "H": "--header", "d": "--data", "F": "--form", "u": "--user",
                   "o": "", "A": "", "e": "", "b": "", "c": "", "m": "", "w": "", "x": "", "T": "", "E": "",
                   "r": "", "K": "", "C": "", "y": "", "Y": "", "z": "", "U": "", "Q": "", "t": "", "D": ""}
_CURL_LONG_ARG = frozenset(
    "--request --header --data --data-raw --data-binary --data-ascii --data-urlencode --json --form --form-string "
    "--user --oauth2-bearer --url --output --user-agent --referer --cookie --cookie-jar --max-time --connect-timeout "
    "--write-out --proxy --upload-file --cert --key --cacert --resolve --retry --retry-delay --config --range "
    "--limit-rate --dump-header --proxy-user --connect-to --interface --max-redirs".split())
_CURL_DATA = frozenset("--data --data-raw --data-binary --data-ascii --data-urlencode --json".split())


def _shell_words(text: str, start: int, limit: int) -> tuple[list[str], int]:
    """Shell words from `start` to the end of the command (newline, ; | & < > or a backtick),
    quotes and backslash-continuations understood; (words, end position)."""
    stop = min(len(text), start + limit)
    words: list[str] = []
    current: list[str] = []
    open_word = False
    pos = start
    while pos < stop and len(words) < 300:
        m = _SHELL.match(text, pos, stop)
        if m is None:
            break
        kind, tok = m.lastgroup, m.group()
        if kind == "end":
            break
        pos = m.end()
        if kind in ("space", "cont"):
            if open_word:
                words.append("".join(current))
                current, open_word = [], False
            continue
        current.append(tok[1:-1] if kind == "sq" else _DQ_ESCAPE.sub(r"\1", tok[1:-1]) if kind == "dq"
                       else tok[1] if kind == "esc" else tok)
        open_word = True
    if open_word:
        words.append("".join(current))
    return words, pos


def _curl_example(words: list[str]) -> dict[str, Any] | None:
    method: str | None = None
    target: str | None = None
    headers: dict[str, str] = {}
    data: list[str] = []
    form: list[str] = []
    get = head = False
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        name, value = "", None
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word.partition("=")
            if name in _CURL_LONG_ARG and not eq:
                value = words[i] if i < len(words) else None
                i += 1
            get = get or name == "--get"
            head = head or name == "--head"
        elif word.startswith("-") and len(word) > 1:
            for j, flag in enumerate(word[1:], start=1):
                if flag in _CURL_SHORT_ARG:
                    name, value = _CURL_SHORT_ARG[flag], word[j + 1:] or None
                    if value is None:
                        value = words[i] if i < len(words) else None
                        i += 1
                    break
                get = get or flag == "G"
                head = head or flag == "I"
        else:
            target = target or word
            continue
        if value is None:
            continue
        if name == "--request" and re.fullmatch(r"[A-Za-z]{3,10}", value):
            method = value.upper()
        elif name == "--header":
            key, sep, val = value.partition(":")
            if sep:
                headers[key.strip()] = val.strip()
        elif name in _CURL_DATA:
            data.append(value)
        elif name in ("--form", "--form-string"):
            form.append(value)
        elif name in ("--user", "--oauth2-bearer"):
            headers["Authorization"] = REDACTED
        elif name == "--url":
            target = value
    method = method or ("HEAD" if head else "GET" if get else "POST" if data or form else "GET")
    raw = "&".join(data) if data and not get else "&".join(form) if form else None
    body = _strict_json(raw) if raw else None
    return _example(method, target, headers, body, raw, "curl")


def _curl_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_CURL_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos:
            continue
        words, end = _shell_words(text, m.start(), MAX_CALL)
        pos = max(end, m.end())
        example = _curl_example(words) if words and words[0] == "curl" else None
        if example:
            out.append((m.start(), pos, example))
    return out


_FETCH_FIND = re.compile(r"[fF]etch[\w$]{0,60}[ \t]*\(")
_JS_METHOD = re.compile(r"\bmethod\s*:\s*[\"'`]([A-Za-z]{3,10})[\"'`]")
_JS_HEADERS = re.compile(r"\bheaders\s*:\s*")
_JS_BODY = re.compile(r"\bbody\s*:\s*")
_PAIR = re.compile(r"""(?:["']([A-Za-z0-9!#$%&*+.^_|~-]{1,100})["']|([A-Za-z_$][\w$]{0,100}))"""
                   r"""\s*:\s*["'`]([^"'`\n]{0,1000})["'`]""")
_KWARG_START = re.compile(r"[A-Za-z_]\w*[ \t]*=(?!=)")
_PY_FIND = re.compile(
    r"(?<![\w.])(?:requests|httpx|session|client)\.(get|post|put|patch|delete|head|options|request)[ \t]*\(")


def _pairs(src: str) -> dict[str, str]:
    return {(m.group(1) or m.group(2)): m.group(3) for m in list(_PAIR.finditer(src))[:50]}


def _value_at(text: str, src: str, pos: int, anchor: int, mode: str) -> tuple[str, str, int] | None:
    """The literal at src[pos:] as ("str", inner, end) or ("obj", source, end); a variable name is
    followed back to the literal last assigned to it before `anchor` in `text`."""
    lit = _string_at(src, pos)
    if lit:
        return "str", lit[0], lit[1]
    if src[pos:pos + 1] in ("{", "["):
        ok, end = _balanced(src, pos, mode, MAX_CALL)
        return ("obj", src[pos:end], end) if ok else None
    ident = _IDENT.match(src, pos)
    if ident:
        found = _resolve(text, anchor, ident.group())
        return (found[0], found[1], ident.end()) if found else None
    return None


def _body_from(value: tuple[str, str, int] | None) -> tuple[Any, str | None]:
    """(parsed body, raw text) from a literal found for a body argument."""
    if value is None:
        return None, None
    kind, src, _ = value
    if kind == "str":
        return _strict_json(src), src
    try:
        return _loose_literal(src), None
    except ValueError:
        return None, src


def _fetch_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """`fetch("https://…", {method, headers, body: JSON.stringify({...})})` calls (any *fetch* callee)."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_FETCH_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos or "wrap" in text[max(0, m.start() - 20):m.start()].lower():
            continue
        paren = m.end() - 1
        ok, call_end = _balanced(text, paren, "js", MAX_CALL)
        if not ok:
            pos = call_end  # an unclosed call: what it spans is read once, not again from each match
            continue
        call = text[paren + 1:call_end - 1]
        first = _value_at(text, call, _skip_ws(call, 0), m.start(), "js")
        if first is None or first[0] != "str":
            continue
        p = _skip_ws(call, first[2])
        found = _value_at(text, call, _skip_ws(call, p + 1), m.start(), "js") if call[p:p + 1] == "," else None
        opts = found[1] if found and found[0] == "obj" else ""
        method = _JS_METHOD.search(opts)
        headers: dict[str, str] = {}
        hm = _JS_HEADERS.search(opts)
        if hm:
            found = _value_at(text, opts, hm.end(), m.start(), "js")
            headers = _pairs(found[1]) if found and found[0] == "obj" else {}
        body, raw = None, None
        bm = _JS_BODY.search(opts)
        if bm:
            q = bm.end()
            if opts.startswith("JSON.stringify", q):
                q = _skip_ws(opts, q + len("JSON.stringify"))
                if opts[q:q + 1] == "(":
                    body, raw = _body_from(_value_at(text, opts, _skip_ws(opts, q + 1), m.start(), "js"))
            else:
                body, raw = _body_from(_value_at(text, opts, q, m.start(), "js"))
        example = _example(method.group(1) if method else None, first[1], headers, body, raw, "fetch")
        if example:
            out.append((m.start(), call_end, example))
            pos = call_end
    return out


def _kwarg(args: str, name: str) -> int | None:
    m = re.search(r"(?<![\w.])" + name + r"[ \t]*=(?!=)[ \t]*", args)
    return m.end() if m else None


def _python_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """`requests.post(url, json={...}, headers={...})` calls (also httpx, session, client)."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_PY_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos:
            continue
        paren = m.end() - 1
        ok, call_end = _balanced(text, paren, "py", MAX_CALL)
        if not ok:
            pos = call_end
            continue
        args = text[paren + 1:call_end - 1]
        method = m.group(1).upper()
        p = _skip_ws(args, 0)
        if method == "REQUEST":
            lit = _string_at(args, p, "\"'")
            if not lit:
                continue
            method = lit[0].upper()
            p = _skip_ws(args, lit[1])
            p = _skip_ws(args, p + 1) if args[p:p + 1] == "," else p
        url_at = _kwarg(args, "url") if _KWARG_START.match(args, p) else p
        first = _value_at(text, args, url_at, m.start(), "py") if url_at is not None else None
        if first is None or first[0] != "str":
            continue
        headers: dict[str, str] = {}
        hp = _kwarg(args, "headers")
        if hp is not None:
            found = _value_at(text, args, hp, m.start(), "py")
            headers = _pairs(found[1]) if found and found[0] == "obj" else {}
        body, raw = None, None
        jp, dp = _kwarg(args, "json"), _kwarg(args, "data")
        if jp is not None:
            body, raw = _body_from(_value_at(text, args, jp, m.start(), "py"))
        elif dp is not None:
            found = _value_at(text, args, dp, m.start(), "py")
            if found:
                body, raw = (_strict_json(found[1]) if found[0] == "str" else None), found[1]
        example = _example(method, first[1], headers, body, raw, "python")
        if example:
            out.append((m.start(), call_end, example))
            pos = call_end
    return out


# ---------------------------------------------------------------------------------------------
# fields

_TYPE_WORDS = frozenset("string number integer int float double boolean bool object array null any file binary "
                        "enum uuid date datetime list dict map record bigint uint256 address".split())
_REQ_WORDS = frozenset({"required", "optional"})
_NAME = r"[A-Za-z_$@][\w.\-\[\]$@]{0,99}"
_NAME_OK = re.compile(_NAME)
_INLINE_FIELD = re.compile(rf"({_NAME})[ \t]*+([*?])[ \t]*+([A-Za-z|<>\[\], ]{{1,100}})")
_PAREN_FIELD = re.compile(rf"({_NAME})[ \t]*+(\*)?[ \t]*+\(([^()\n]{{1,80}})\)[ \t]*+(?:[:—–-]++[ \t]*+)?(.*)")
_TERM_FIELD = re.compile(rf"({_NAME})[ \t]*+([*?])?[ \t]*+(.{{0,120}})")
_LEADING_PAREN = re.compile(r"\(([^()\n]{1,80})\)[ \t]*+(?:[:—–-]++[ \t]*+)?")
_BULLET = re.compile(r"[-*+•][ \t]+")
# Constraint lines as docs renderers print them under a field: `Range0 <= value <= 2`, `Default1`,
# `Defaultfalse`, `Value in"a" | "b"` (label glued to its value, unlike prose such as `Maximum number…`).
_CONSTRAINT_LINE = re.compile(r"Default(?=\S)|(?:Range|Format|Example|Pattern|Length|Items|Properties|Value in|Minimum"
                              r"|Maximum|Min|Max)(?=[^\sa-z])|In:")
_REQUIRED_TEXT = re.compile(r"\(?\b(required|optional)\b\)?", re.I)
_LEADING_REQUIRED = re.compile(r"\W{0,3}(required|optional)\b", re.I)
_SEPARATOR_ROW = re.compile(r"\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_COLUMNS = {
    "name": {"field", "fields", "name", "parameter", "parameters", "param", "params", "property", "properties",
             "key", "attribute", "argument", "arguments", "arg", "option", "field name", "parameter name",
             "property name", "query parameter", "body parameter"},
    "type": {"type", "data type", "datatype", "format", "schema", "value type"},
    "required": {"required", "required?", "req", "req.", "optional", "mandatory", "required/optional"},
    "description": {"description", "desc", "details", "notes", "meaning", "purpose", "explanation", "comment",
                    "summary"},
    "in": {"in", "location", "where", "param type", "parameter type", "source"},
}
_YES = frozenset({"yes", "y", "true", "required", "✓", "✔", "✅", "x", "*", "mandatory"})
_LOCATIONS = frozenset({"query", "path", "header", "body", "cookie", "form"})


def _type_words(text: str) -> list[str]:
    return [w for w in _WORDS.findall(text.lower()) if w in _TYPE_WORDS]


def _norm_type(text: str | None) -> str | None:
    if not text:
        return None
    s = _REQUIRED_TEXT.sub("", _plain(text.strip()[:200]).replace("\\|", "|"))
    s = s.replace("array<>", "array").strip(" |,()")
    s = re.sub(r"\s*\|\s*", " | ", s)
    return clean_text(_MULTI_SPACE.sub(" ", s), 100)


def _split_row(line: str) -> list[str]:
    s = line.strip()
    cells = _CELL_SPLIT.split(s)
    if s.startswith("|"):
        cells = cells[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        cells = cells[:-1]
    return [c.strip() for c in cells[:30]]


def _columns(header: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        label = _plain(cell).strip(" *:").lower()
        for role, names in _COLUMNS.items():
            if label in names and role not in cols:
                cols[role] = i
    return cols if "name" in cols and ({"type", "description", "required"} & cols.keys()) else None


def _field_name(cell: str) -> tuple[str, bool | None] | None:
    """(name, required marker) from a name cell such as `model *`, `**id**` (required), `n?`."""
    s = _plain(cell).replace("\\", "").strip()
    required: bool | None = None
    m = _REQUIRED_TEXT.search(s)
    if m:
        required = m.group(1).lower() == "required"
        s = (s[:m.start()] + s[m.end():]).strip()
    if s.endswith("*"):
        required, s = True, s[:-1].strip()
    elif s.endswith("?"):
        required, s = False, s[:-1].strip()
    parts = s.split()
    if not parts or not _NAME_OK.fullmatch(parts[0]) or any(w.lower() not in _TYPE_WORDS for w in parts[1:]):
        return None
    return parts[0], required


def _field(name: str, type_: str | None, required: bool | None, description: str | None,
           location: str | None = None) -> dict[str, Any]:
    return {
        "name": clean_text(name, 100),
        "type": _norm_type(type_),
        "required": bool(required),
        "description": clean_text(_plain(description), MAX_FIELD_DESCRIPTION) if description else None,
        "in": location,
    }


def _row_field(cells: list[str], cols: dict[str, int]) -> dict[str, Any] | None:
    def cell(role: str) -> str | None:
        i = cols.get(role)
        return cells[i] if i is not None and i < len(cells) and cells[i].strip() else None

    named = _field_name(cell("name") or "")
    if named is None:
        return None
    name, required = named
    type_cell, desc = cell("type"), cell("description")
    req_cell = cell("required")
    if required is None and req_cell is not None:
        label = _plain(req_cell).strip().lower()
        required = label in _YES or label.startswith(("required", "yes"))
    for text in (type_cell, desc):
        if required is None and text:
            m = _LEADING_REQUIRED.match(_plain(text)) if text is desc else _REQUIRED_TEXT.search(text)
            required = m.group(1).lower() == "required" if m else None
    location = (_plain(cell("in") or "").strip().lower() or None)
    return _field(name, type_cell, required, desc, location if location in _LOCATIONS else None)


_Term = tuple[str, str | None, bool | None]  # (name, type, required)


def _term_field(term: str) -> _Term | None:
    """(name, type, required) from a term such as `model (string, required)` or `model string required`."""
    m = _TERM_FIELD.fullmatch(_plain(term).strip())
    if not m:
        return None
    rest = m.group(3).replace("(", " ").replace(")", " ").replace(",", " ")
    words = rest.split()
    if not words or any(not (_type_words(w) or w.lower() in _REQ_WORDS or w in "|") for w in words):
        return None
    required = True if m.group(2) == "*" else False if m.group(2) == "?" else None
    for w in words:
        if w.lower() in _REQ_WORDS:
            required = w.lower() == "required"
    type_ = " ".join(w for w in words if w.lower() not in _REQ_WORDS) or None
    if type_ is None and required is None:
        return None
    return m.group(1), type_, required


def _definition_field(term: str, definition: str, in_request: bool) -> tuple[_Term | None, str]:
    """A definition-list entry as a field: the type in the term (`model string required`) or leading
    the definition (`(string, required) The model`); a bare name counts under a request heading."""
    found = _term_field(term)
    if found:
        return found, definition
    name = _plain(term).strip()
    if not _NAME_OK.fullmatch(name):
        return None, definition
    paren = _LEADING_PAREN.match(definition)
    if paren:
        found = _term_field(f"{name} ({paren.group(1)})")
        if found:
            return found, definition[paren.end():]
    return ((name, None, None) if in_request else None), definition


def _description_after(doc: _Doc, i: int) -> str | None:
    """The first prose line after a field line (skipping constraint lines like `Default1`)."""
    for j in range(i + 1, min(len(doc.lines), i + 4)):
        line = doc.lines[j].strip()
        if not line:
            continue
        if doc.fenced[j] or _INLINE_FIELD.fullmatch(line) or _HEADING.match(line) or _cue_line(line):
            return None
        if _CONSTRAINT_LINE.match(line):
            continue
        return line
    return None


_TYPE_ALT = "|".join(sorted(_TYPE_WORDS))
_FIELD_LINES = re.compile(
    r"\n[ \t]*+(?:"
    r"\|?[ \t]*+[*_`]*+(?:(?:query|body|path|header|field|parameter|property)[ \t]++)?"
    r"(?:field|name|param|parameter|property|key|attribute|argument|arg|option)s?(?:[ \t]++name)?[*_` \t:]*+\|"
    r"|[-*+•][ \t]++[*_`]*+[A-Za-z_$@][\w.\-\[\]$@]{0,99}+[*_`]*+[ \t]*+\*?[ \t]*+\("
    r"|:[ \t]"
    r"|[*_`]*+[A-Za-z_$@][\w.\-\[\]$@]{0,99}+[*_`]*+[ \t]*+[*?]?[ \t]*+[(|]?[ \t]*+(?:" + _TYPE_ALT + r")\b"
    r")", re.I)
MAX_ROWS_READ = 3000  # table rows read per page


def _fields(doc: _Doc) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Request fields and response fields, each tagged with the endpoint it documents.

    Read from pipe tables (HTML tables arrive rendered as such), `name*type` lines followed by a
    description, `- name (type, required): …` bullets, definition lists, and `name type [required]`
    lines under a request heading.
    """
    request: list[dict[str, Any]] = []
    response: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()

    def add(field: dict[str, Any] | None, i: int) -> None:
        if field is None or not field["name"]:
            return
        method, path = doc.context_at(doc.starts[i])
        field["path"], field["method"] = path, method
        target = response if doc.section[i] == "response" else request
        key = (target is response, field["name"], path, method)
        if key not in seen and len(target) < MAX_FIELDS:
            seen.add(key)
            target.append(field)

    lines, n = doc.lines, len(doc.lines)
    consumed = -1  # last line already read (a table's rows, a definition)
    rows_read = 0
    for i in _candidate_lines(doc, _FIELD_LINES):
        if i <= consumed:
            continue
        line = lines[i].strip()
        if line.startswith(":"):  # a definition whose term line was no candidate
            t = next((j for j in range(i - 1, max(consumed, i - 3), -1) if lines[j].strip()), None)
            if t is not None and not doc.fenced[t]:
                term, definition = _definition_field(lines[t].strip(), line[1:].strip(), doc.section[t] == "request")
                if term:
                    add(_field(term[0], term[1], term[2], definition), t)
            consumed = i
            continue
        if "|" in line:
            cols = _columns(_split_row(line))
            if cols:
                j = i + 1
                while (j < n and rows_read < MAX_ROWS_READ and not doc.fenced[j] and "|" in lines[j]
                       and len(lines[j]) <= MAX_LINE):
                    if not _SEPARATOR_ROW.fullmatch(lines[j].strip()):
                        add(_row_field(_split_row(lines[j]), cols), j)
                    rows_read += 1
                    j += 1
                consumed = j - 1
                continue
        nxt = doc.next_line(i, 2)
        if nxt is not None and lines[nxt].lstrip().startswith(": "):  # a definition list
            term, definition = _definition_field(line, lines[nxt].lstrip()[2:], doc.section[i] == "request")
            if term:
                add(_field(term[0], term[1], term[2], definition), i)
            consumed = nxt
            continue
        m = _INLINE_FIELD.fullmatch(line)
        if m and _type_words(m.group(3)):
            add(_field(m.group(1), m.group(3), m.group(2) == "*", _description_after(doc, i)), i)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            pm = _PAREN_FIELD.fullmatch(_plain(line[bullet.end():]).strip())
            if pm and (_type_words(pm.group(3)) or _REQUIRED_TEXT.search(pm.group(3))):
                req = _REQUIRED_TEXT.search(pm.group(3))
                required = True if pm.group(2) else (req.group(1).lower() == "required") if req else None
                add(_field(pm.group(1), pm.group(3), required, pm.group(4) or None), i)
            continue
        if doc.section[i] == "request":
            term = _term_field(line)
            if term and term[1]:
                add(_field(term[0], term[1], term[2], _description_after(doc, i)), i)
    return request, response


# ---------------------------------------------------------------------------------------------
# JSON blocks: response examples (and request bodies shown on their own)

_IN_LOCATION = re.compile(r"in:\s*(?:header|query|path|cookie)\b", re.I)


class _Spans:
    """Sorted, non-overlapping character spans already read as code examples."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def covers(self, pos: int) -> bool:
        i = bisect_right(self.starts, pos) - 1
        return i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]


_JSON_START_LINES = re.compile(r"\n[ \t]*+[\[{]")


def _json_blocks(doc: _Doc, spans: _Spans) -> list[tuple[int, int, Any]]:
    """(position, last line, value) of every JSON object/array standing as a block of its own:
    a whole fenced block, or a bracket opening a line and closing at a line's end."""
    out: list[tuple[int, int, Any]] = []
    text, lines = doc.text, doc.lines
    budget = [MAX_SCAN_TOKENS]

    def scan(first: int, last: int) -> None:  # lines first..last-1: outside fences, or one fence's body
        pos = doc.starts[first] if first < len(lines) else len(text)
        endpos = doc.starts[last] if last < len(lines) else len(text)
        while budget[0] > 0 and len(out) < 4 * MAX_RESPONSES:
            m = _JSON_START_LINES.search(doc.text_nl, pos, endpos)
            if m is None:
                return
            start = m.end() - 2  # the bracket, in text coordinates
            if spans.covers(start):
                pos = start + 1
                continue
            ok, end = _balanced(text, start, "json", MAX_BLOCK, endpos, budget)
            pos = max(end, start + 1)
            if ok:
                eol = text.find("\n", end)
                tail = text[end:eol if eol >= 0 else len(text)].strip()
                value = _strict_json(text[start:end]) if tail in ("", ",", ";") else None
                if value:
                    out.append((start, doc.line_of(end - 1), value))

    previous = 0
    for open_line, close_line, _lang in doc.fences:
        scan(previous, open_line)
        previous = close_line + 1
        body_start = open_line + 1
        if body_start >= close_line:
            continue
        start = doc.starts[body_start]
        end = doc.starts[close_line] if close_line < len(lines) else len(text)
        if not spans.covers(start) and end - start <= MAX_BLOCK:
            value = _strict_json(text[start:end])
            if value:
                out.append((start, close_line - 1, value))
                continue
        scan(body_start, close_line)
    scan(previous, len(lines))
    out.sort(key=lambda b: b[0])
    return out


def _is_error(value: Any, status: int | None) -> bool:
    if status is not None and status >= 400:
        return True
    return isinstance(value, dict) and len(value) <= 3 and bool({"error", "errors"} & value.keys())


def _classify_blocks(doc: _Doc, blocks: list[tuple[int, int, Any]], fields: list[dict[str, Any]],
                     bodies: set[str]) -> tuple[list[dict[str, Any]], list[tuple[int, int, dict[str, Any]]]]:
    """Response examples, and request examples (JSON shown under a request heading)."""
    responses: list[dict[str, Any]] = []
    requests: list[tuple[int, int, dict[str, Any]]] = []
    seen: set[str] = set()
    for pos, last_line, value in blocks:
        nxt = doc.next_line(last_line, 2)
        if nxt is not None and _IN_LOCATION.match(doc.lines[nxt].strip()):
            continue  # a header or query parameter's example value, not a body
        key = _content_key(value)
        if key in bodies:
            continue
        line = doc.line_of(pos)
        method, path = doc.context_at(pos)
        section = doc.section[line]
        if section is None and isinstance(value, dict) and len(value) >= 2:
            names = {f["name"] for f in fields if f["path"] == path and f["method"] == method}
            section = "request" if value.keys() <= names else None
        if section == "request":
            if path:
                example = _example(method or "POST", path, {}, value, None, "json")
                if example:
                    requests.append((pos, pos + 1, example))
            continue
        if key in seen or len(responses) >= MAX_RESPONSES:
            continue
        seen.add(key)
        status_m = _STATUS.search(doc.heading[line] or "")
        status = int(status_m.group(1)) if status_m else None
        responses.append({"method": method, "path": path, "status": status, "error": _is_error(value, status),
                          "example": _keep(value)})
    return responses, requests


# ---------------------------------------------------------------------------------------------
# notes

_LIST_MARK = re.compile(r"(?:[-*+•]|\d{1,3}[.)])[ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'\[])")
_SIWX = re.compile(r"sign[- ]?in[- ]with[- ]?(?:x|ethereum|solana)\b|\bsiw[xes]\b|\bcaip-122\b", re.I)
_CREDENTIAL = re.compile(
    r"\b(?:api[- _]?keys?|api[- ]tokens?|jwts?|bearer(?:[- ]tokens?)?|access[- ]tokens?|"
    r"auth(?:entication|orization)?[- ]tokens?|session[- ]tokens?|oauth2?|subscri(?:be|bers?|ptions?)|"
    r"prepaid credits?|credit balance)\b", re.I)
_ALTERNATIVE = re.compile(
    r"\b(?:bypass\w*|instead|alternative(?:ly)?|in place of|rather than|without pay\w*|skip\w*|"
    r"also (?:accepts?|supports?|works?|be used)|can also|either|or pay\w*|or subscrib\w*|no need to pay|exempt|"
    r"accepts? authentication|or (?:use|with|via|pass|send|provide) )", re.I)
_NEGATED_BEFORE = re.compile(r"(?:\bno|\bwithout(?:\s+an?)?|\bnever|\bzero)\s+$", re.I)
_NEGATED_AFTER = re.compile(r"\s*(?:is\s+|are\s+)?(?:not\s+(?:required|needed|necessary))", re.I)
_UNITS = r"(?:sec(?:ond)?s?|s|min(?:ute)?s?|m|h(?:ou)?rs?|hours?|h|days?|d|weeks?|months?|mo)\b"
_RATE = re.compile(
    r"(?<![\d.,])\d[\d,.]*\s*(?:k\s+)?(?:requests?|reqs?|calls?|queries|hits|messages|searches)\s*"
    r"(?:/|per\b|an?\b|every\b|each\b)\s*(?:\d+\s*)?" + _UNITS
    + r"|(?<![\w])\d[\d,]*\s*(?:rpm|rps|rpd|qps)\b", re.I)
_RATE_LIMIT = re.compile(r"rate[- ]?limit", re.I)
_LIMIT_WORD = re.compile(r"\b(?:limit\w*|throttl\w*|at most|up to|maximum|max)\b", re.I)
_PER_TIME = re.compile(r"(?<![\d.,])\d[\d,.]*\s*(?:/|per\b)\s*" + _UNITS, re.I)
_FREE = re.compile(r"(?<![\w-])free(?![\w-])", re.I)
_FREE_QUOTA = re.compile(
    r"\bfree\s+(?:tier|plan|quota|trial|allowance|credits?|usage|requests?|calls?|queries|searches)\b|"
    r"(?<![\d.,])\d[\d,.]*\s*(?:k\s+)?(?:free\s+)?(?:requests?|calls?|credits?|queries|searches|generations|"
    r"images|uses|tokens)\b", re.I)


def _auth_alternative(sentence: str) -> bool:
    if _SIWX.search(sentence):
        return True
    for m in _CREDENTIAL.finditer(sentence):
        if _NEGATED_BEFORE.search(sentence[max(0, m.start() - 20):m.start()]):
            continue
        if _NEGATED_AFTER.match(sentence, m.end()):
            continue
        return bool(_ALTERNATIVE.search(sentence))
    return False


def _note_kinds(sentence: str) -> list[str]:
    kinds = []
    if _auth_alternative(sentence):
        kinds.append("auth_alternative")
    free = bool(_FREE.search(sentence) and _FREE_QUOTA.search(sentence))
    limit = bool(_RATE_LIMIT.search(sentence) or _LIMIT_WORD.search(sentence))
    if (_RATE.search(sentence) and (limit or not free)) or (limit and _PER_TIME.search(sentence)):
        kinds.append("rate_limit")  # "100 free requests per day" is a quota, not a rate limit
    if free:
        kinds.append("free_tier")
    return kinds


# Matched against the lowercased text: every branch opens with a literal, which the regex engine
# scans for quickly (about five times faster than one case-insensitive alternation).
_NOTE_LINES_SRC = (
    r"sign[- ]?in[- ]with|siw[xes]\b|caip-122|api[- _]?(?:keys?|tokens?)|jwts?\b|bearer|access[- ]tokens?"
    r"|auth\w{0,20}[- ]tokens?|session[- ]tokens?|oauth|subscri|prepaid|credit balance|rate[- ]?limit"
    r"|free(?![\w-])|\d(?<![\d.,]\d)[\d,.]*[ \t]*(?:k[ \t]+)?(?:requests?|reqs?|calls?|queries|rpm|rps|rpd|qps)")
_NOTE_LINES = re.compile(_NOTE_LINES_SRC)
_NOTE_LINES_ANY_CASE = re.compile(_NOTE_LINES_SRC, re.I)


def _notes(doc: _Doc, code_lines: set[int]) -> list[dict[str, Any]]:
    """Short notes from prose (code blocks, JSON blocks and examples skipped)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    lowered = doc.text_nl.lower()
    if len(lowered) == len(doc.text_nl):
        candidates = _candidate_lines(doc, _NOTE_LINES, text=lowered)
    else:  # a few characters lowercase to two: positions would shift
        candidates = _candidate_lines(doc, _NOTE_LINES_ANY_CASE)
    for i in candidates:
        raw = doc.lines[i]
        if len(out) >= MAX_NOTES:
            break
        if i in code_lines:
            continue
        line = _plain(raw.strip()).replace("\\|", " ").replace("|", " ").lstrip("#> ").strip()
        mark = _LIST_MARK.match(line)
        line = line[mark.end():] if mark else line
        for sentence in _SENTENCE_END.split(line)[:50]:
            kinds = _note_kinds(sentence)
            if not kinds:
                continue
            text = sentence
            if len(sentence) < 40 and sentence == line:  # a label such as `Sign-In-With-X<token>`
                nxt = doc.next_line(i, 2)
                if (nxt is not None and not doc.fenced[nxt] and nxt not in code_lines
                        and len(doc.lines[nxt]) <= MAX_LINE):
                    text = sentence + " " + _plain(doc.lines[nxt].strip())
                    code_lines.add(nxt)
            text = clean_text(_WS.sub(" ", text), MAX_NOTE)
            for kind in kinds:
                if text and (kind, text) not in seen and len(out) < MAX_NOTES:
                    seen.add((kind, text))
                    out.append({"kind": kind, "text": text})
    return out


# ---------------------------------------------------------------------------------------------
# endpoints


def _endpoints(doc: _Doc, examples: list[tuple[int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every (method, path) the page names: endpoint lines, `METHOD /path` in prose, examples."""
    found: list[tuple[int, str, str, str | None]] = [
        (pos, method, path, url) for pos, (method, path, url) in zip(doc.ctx_pos, doc.ctx, strict=True)]
    text = doc.text
    for count, m in enumerate(_ENDPOINT_ANY.finditer(text)):
        if count >= 10 * MAX_ENDPOINTS:
            break
        rest = text[m.end():m.end() + 120].split("\n", 1)[0]
        target = _endpoint_target(m.group(2), rest)
        if target:
            found.append((m.start(), m.group(1), *target))
    for pos, _end, ex in examples:
        if ex["path"]:
            found.append((pos, ex["method"], ex["path"], ex["url"]))
    found.sort(key=lambda f: f[0])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for _pos, method, path, url in found:
        entry = out.get((method, path))
        if entry is None and len(out) < MAX_ENDPOINTS:
            out[(method, path)] = {"method": method, "path": path, "url": url}
        elif entry is not None and entry["url"] is None:
            entry["url"] = url
    return list(out.values())


# ---------------------------------------------------------------------------------------------
# the page


def _empty_page(url: Any) -> dict[str, Any]:
    page: dict[str, Any] = dict.fromkeys(PAGE_KEYS)
    page.update(url=clean_text(url, MAX_URL), kind="text", truncated=False, opengraph={}, microdata=[], jsonld=[],
                jsonld_errors=0, links=[], examples=[], fields=[], response_fields=[], responses=[], notes=[],
                endpoints=[], failed_stages=[])
    return page


def _stage(page: dict[str, Any], name: str, fn: Callable[[], Any], default: Any = None) -> Any:
    """fn(), or `default` with the stage's name noted in failed_stages: one broken part of a hostile
    page must not cost the rest."""
    try:
        return fn()
    except Exception:  # noqa: BLE001 - see docstring
        page["failed_stages"].append(name)
        return default


def _markdown_meta(doc: _Doc) -> dict[str, Any]:
    """Title from the first `# ` heading; description from the paragraph right after it."""
    title = clean_text(doc.h1, MAX_TITLE)
    description = None
    if doc.h1_line is not None:
        j = doc.next_line(doc.h1_line, 3)
        para: list[str] = []
        while j is not None and j < len(doc.lines) and doc.lines[j].strip() and not doc.fenced[j]:
            line = doc.lines[j].strip()
            if not line[0].isalpha() or _HEADING.match(line):
                break
            para.append(_plain(line))
            j += 1
            if sum(map(len, para)) > MAX_DESCRIPTION:
                break
        description = clean_text(" ".join(para), MAX_DESCRIPTION) if para else None
    return {"title": title, "description": description}


def _read_text(page: dict[str, Any], text: str) -> None:
    """Examples, fields, responses, notes and endpoints from the page's (rendered) text."""
    doc = _Doc(text)
    if page["kind"] != "html":
        page.update(_stage(page, "markdown_meta", lambda: _markdown_meta(doc), {}))
    code = (_stage(page, "curl", lambda: _curl_examples(text), [])
            + _stage(page, "fetch", lambda: _fetch_examples(text), [])
            + _stage(page, "python", lambda: _python_examples(text), []))
    spans = _Spans([(s, e) for s, e, _ in code])
    fields, response_fields = _stage(page, "fields", lambda: _fields(doc), ([], []))
    bodies = {_content_key(ex["body"]) for _, _, ex in code if ex["body"] is not None}
    blocks = _stage(page, "json_blocks", lambda: _json_blocks(doc, spans), [])
    responses, shown = _stage(page, "responses", lambda: _classify_blocks(doc, blocks, fields, bodies), ([], []))
    examples: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _pos, _end, ex in sorted(code + shown, key=lambda c: c[0]):
        key = _content_key([ex["method"], ex["path"], ex["url"], ex["body"], ex["body_raw"]])
        if key not in seen and len(examples) < MAX_EXAMPLES:
            seen.add(key)
            examples.append(ex)
    page.update(examples=examples, fields=fields, response_fields=response_fields, responses=responses)
    code_lines = {j for s, e in spans.spans for j in range(doc.line_of(s), doc.line_of(max(s, e - 1)) + 1)}
    code_lines.update(j for pos, last, _ in blocks for j in range(doc.line_of(pos), last + 1))
    page["notes"] = _stage(page, "notes", lambda: _notes(doc, code_lines), [])
    page["endpoints"] = _stage(page, "endpoints", lambda: _endpoints(doc, code + shown), [])


def extract_page(body: bytes | str, url: str, content_type: str | None) -> dict[str, Any]:
    """Everything one fetched page says, as a JSON-able dict with the keys in PAGE_KEYS.

    Never raises: a stage that fails on a hostile page leaves its keys empty and is named in
    `failed_stages`. Only the first MAX_BODY_BYTES are read (`truncated` says when there was more).
    """
    page = _empty_page(url)
    raw = body if isinstance(body, bytes | str) else b""
    page["truncated"] = len(raw) > MAX_BODY_BYTES
    raw = raw[:MAX_BODY_BYTES]
    page_url = url if is_http_url(url) and len(url) <= MAX_URL else None
    page["kind"] = _stage(page, "kind", lambda: _page_kind(raw, url, content_type), "text")
    text = _stage(page, "decode", lambda: scrub_text(_decode(raw, content_type))[:MAX_TEXT_CHARS], "")
    if page["kind"] == "html":
        sel = _stage(page, "parse", lambda: _selector(text))
        if sel is None:
            return page
        meta = _stage(page, "meta", lambda: _html_meta(sel, page_url), {})
        base = meta.pop("base", None) or page_url
        page.update(meta)
        page["jsonld"], page["jsonld_errors"] = _stage(page, "jsonld", lambda: _jsonld(sel.root), ([], 0))
        page["opengraph"], page["microdata"] = _stage(page, "extruct", lambda: _extruct(sel.root, base), ({}, []))
        page["links"] = _stage(page, "links", lambda: _links(_html_link_candidates(sel.root), base, page_url), [])
        text = _stage(page, "render", lambda: _render_html(sel.root), "")
    else:
        page["links"] = _stage(page, "links", lambda: _links(_text_link_candidates(text), page_url, page_url), [])
    _stage(page, "text", lambda: _read_text(page, text))
    return page


# ---------------------------------------------------------------------------------------------
# merging pages for one resource

_TEMPLATE_SEGMENT = re.compile(r"\{[^{}/]*\}|:[A-Za-z_]\w*|<[^<>/]*>|\$\{[^{}/]*\}|\[[^\[\]/]*\]")


def _segments(path: Any) -> tuple[str, ...] | None:
    if not isinstance(path, str) or not path:
        return None
    return _path_segments(path) if len(path) <= _CACHED_PATH else _path_segments.__wrapped__(path)


# An origin's documented paths are compared with each of its resources' paths, and each resource's
# path with every item of its origin's pages: the same few strings split again and again (most of
# build_records' time in bench/catalog.py before these caches). Pure, and bounded: at most 32k
# entries, of paths up to _CACHED_PATH characters (hostile pages may carry longer ones).
_CACHED_PATH = 1024


@lru_cache(maxsize=1 << 15)
def _path_segments(path: str) -> tuple[str, ...] | None:
    if path.lower().startswith(("http://", "https://")):
        try:
            path = urlsplit(path).path
        except ValueError:
            return None
    path = path.split("?", 1)[0].split("#", 1)[0]
    return tuple(s for s in path.split("/") if s)


@lru_cache(maxsize=1 << 15)
def _is_template(segment: str) -> bool:
    return _TEMPLATE_SEGMENT.fullmatch(segment) is not None


def _segments_match(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return len(a) == len(b) and all(x == y or _is_template(x) or _is_template(y) for x, y in zip(a, b, strict=True))


def path_score(documented: Any, target: Any) -> int:
    """How well a documented path names a resource path: 3 same, 2 same up to template segments
    (/users/{id}, /users/:id ~ /users/42), 1 the documented path is a tail of the resource's
    (docs written against a base URL such as https://host/api/v1), 0 no match."""
    doc, res = _segments(documented), _segments(target)
    if doc is None or res is None:
        return 0
    if doc == res:
        return 3
    if _segments_match(doc, res):
        return 2
    if doc and len(doc) < len(res) and _segments_match(doc, res[len(res) - len(doc):]):
        return 1
    return 0


def docs_for(extracts: list[dict[str, Any]], path: str, method: str) -> dict[str, Any]:
    """What several pages' extracts say about one resource (path and method).

    {example_body, example_source_url, fields, output_example, notes}: items documented for
    the best-matching path win (exact > template > base-URL tail), then page order, then order on
    the page. Items with no endpoint of their own count (weakest) on pages that name the resource.
    Notes come from every page that documents the resource.
    """
    method = (method or "GET").upper()
    examples: list[tuple[int, int, int, dict[str, Any], Any]] = []
    fields: list[tuple[int, int, int, dict[str, Any]]] = []
    outputs: list[tuple[int, int, int, dict[str, Any]]] = []
    notes: list[dict[str, Any]] = []

    def score(item: dict[str, Any], page_names_it: bool) -> int:
        item_method = (item.get("method") or "").upper()
        if item.get("path") is None:
            return 1 if page_names_it and item_method in ("", method) else 0
        matched = path_score(item["path"], path) if item_method in ("", method) else 0
        return 1 + matched if matched else 0

    for p, page in enumerate(extracts):
        if not isinstance(page, dict):
            continue
        named = [score(e, False) for e in page.get("endpoints") or [] if isinstance(e, dict)]
        items = [e for key in ("examples", "fields", "responses") for e in page.get(key) or [] if isinstance(e, dict)]
        names_it = any(named) or any(score(e, False) for e in items)
        for k, ex in enumerate(e for e in page.get("examples") or [] if isinstance(e, dict)):
            if (s := score(ex, names_it)) and ex.get("body") is not None:
                examples.append((-s, p, k, ex, page.get("url")))
        for k, field in enumerate(e for e in page.get("fields") or [] if isinstance(e, dict)):
            if s := score(field, names_it):
                fields.append((-s, p, k, field))
        for k, resp in enumerate(e for e in page.get("responses") or [] if isinstance(e, dict)):
            if (s := score(resp, names_it)) and not resp.get("error"):
                outputs.append((-s, p, k, resp))
        if names_it:
            notes.extend(n for n in page.get("notes") or [] if isinstance(n, dict))
    examples.sort(key=lambda e: e[:3])
    fields.sort(key=lambda e: e[:3])
    outputs.sort(key=lambda e: e[:3])
    merged: dict[str, dict[str, Any]] = {}  # first mention of a name wins; later ones fill its gaps
    for *_, field in fields:
        name = field.get("name")
        if not isinstance(name, str):
            continue
        if name not in merged and len(merged) < MAX_FIELDS:
            merged[name] = {"name": name, "type": field.get("type"), "required": bool(field.get("required")),
                            "description": field.get("description"), "in": field.get("in")}
        elif name in merged:
            entry = merged[name]
            for key in ("type", "description", "in"):
                entry[key] = entry[key] or field.get(key)
    seen: set[tuple[Any, Any]] = set()
    unique_notes = []
    for note in notes:
        key = (note.get("kind"), note.get("text"))
        if key not in seen and len(unique_notes) < MAX_NOTES:
            seen.add(key)
            unique_notes.append({"kind": note.get("kind"), "text": note.get("text")})
    return {
        "example_body": examples[0][3]["body"] if examples else None,
        "example_source_url": examples[0][4] if examples else None,
        "fields": list(merged.values()),
        "output_example": outputs[0][3].get("example") if outputs else None,
        "notes": unique_notes,
    }
