"""Page metadata: the kind of page, HTML meta (title, description, canonical, favicon, lang),
OpenGraph, microdata and JSON-LD (extruct), and a markdown page's title and description."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import extruct
from parsel import Selector

from index.docs.limits import (
    MAX_BODY_BYTES,
    MAX_ITEMSCOPES,
    MAX_ITEMSCOPE_DEPTH,
    MAX_JSONLD,
    MAX_JSONLD_BLOCK,
    MAX_KEEP_ITEMS,
    MAX_TITLE,
    keep,
)
from index.docs.links import absolute_url
from index.docs.text import HEADING, Doc, decode, plain
from index.protocol.normalize import MAX_DESCRIPTION
from index.untrusted import clean_text, safe_json_loads, scrub_text
from index.urls import is_http_url


def page_kind(raw: bytes | str, url: str, content_type: str | None) -> str:
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


def selector(text: str) -> Selector | None:
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


_LOWER = "translate(@{a},'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')"
_LANG_OK = re.compile(r"[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}")


def html_meta(sel: Selector, url: str | None) -> dict[str, Any]:
    """Title (og:title, <title>, first <h1>), description, canonical, favicon, lang and base URL."""
    rel = _LOWER.format(a="rel")
    title = _xfirst(sel, "//meta[@property='og:title']/@content", "//title//text()", "//h1//text()")
    description = _xfirst(sel, f"//meta[{_LOWER.format(a='name')}='description']/@content",
                          "//meta[@property='og:description']/@content")
    base_href = _xfirst(sel, "//base/@href")
    base = absolute_url(url, base_href) if base_href else None
    base = base or url
    canonical = _xfirst(sel, f"//link[{rel}='canonical']/@href")
    icon = _xfirst(sel, f"//link[contains(concat(' ', normalize-space({rel}), ' '), ' icon ')]/@href",
                   f"//link[{rel}='apple-touch-icon']/@href", f"//link[{rel}='apple-touch-icon-precomposed']/@href")
    lang = clean_text(_xfirst(sel, "/html/@lang", "//html/@lang"), 35)
    return {
        "title": clean_text(title, MAX_TITLE),
        "description": clean_text(description, MAX_DESCRIPTION),
        "canonical": absolute_url(base, canonical),
        "favicon": absolute_url(base, icon),
        "lang": lang if lang and _LANG_OK.fullmatch(lang) else None,
        "base": base,
    }


def page_meta(body: bytes | str, url: str) -> dict[str, Any]:
    """An HTML page's title, description, canonical and favicon (what a homepage says of its origin)."""
    raw = body[:MAX_BODY_BYTES] if isinstance(body, bytes | str) else b""
    sel = selector(scrub_text(decode(raw, "text/html")))
    meta = html_meta(sel, url if is_http_url(url) else None) if sel is not None else {}
    return {key: meta.get(key) for key in ("title", "description", "canonical", "favicon")}


# extruct 0.18.0 (verified here): with errors="log" one malformed JSON-LD block, or even an empty
# <script type="application/ld+json"></script>, drops the whole "json-ld" key, good blocks included.
# So JSON-LD is parsed here one <script> at a time, and extruct reads OpenGraph and microdata only.
def jsonld_objects(root: Any) -> tuple[list[Any], int]:
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
        objects.extend(keep(v) for v in items[:MAX_JSONLD - len(objects)])
        if len(objects) >= MAX_JSONLD:
            break
    return objects, errors


def extruct_data(root: Any, base: str | None) -> tuple[dict[str, Any], list[Any]]:
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
    return keep(og), [keep(obj) for obj in micro]


def markdown_meta(doc: Doc) -> dict[str, Any]:
    """Title from the first `# ` heading; description from the paragraph right after it."""
    title = clean_text(doc.h1, MAX_TITLE)
    description = None
    if doc.h1_line is not None:
        j = doc.next_line(doc.h1_line, 3)
        para: list[str] = []
        while j is not None and j < len(doc.lines) and doc.lines[j].strip() and not doc.fenced[j]:
            line = doc.lines[j].strip()
            if not line[0].isalpha() or HEADING.match(line):
                break
            para.append(plain(line))
            j += 1
            if sum(map(len, para)) > MAX_DESCRIPTION:
                break
        description = clean_text(" ".join(para), MAX_DESCRIPTION) if para else None
    return {"title": title, "description": description}
