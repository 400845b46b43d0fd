"""Docs pages read into facts: what a homepage or docs page says about an origin's paid endpoints.

`extract_page` turns one fetched page (HTML, markdown or plain text, as bytes + URL + content
type) into one JSON-able dict (PAGE_KEYS): page metadata (index.docs.meta), same-origin links worth
reading next (links), and what the prose documents: request examples (code_examples), request field
tables (fields), response examples, notes and the endpoints it names (prose). Each stage runs on its
own: one that fails is named in `failed_stages` and the others still count.

Pure and bounded: no I/O, never raises on hostile input, caps the input and every list (limits), and
uses linear-time regexes only. Matching pages to one resource happens at catalog time
(index.catalog.docs_match).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from index.docs.code_examples import curl_examples, fetch_examples, python_examples
from index.docs.code_scan import content_key
from index.docs.fields import find_fields
from index.docs.limits import MAX_BODY_BYTES, MAX_EXAMPLES, MAX_TEXT_CHARS
from index.docs.links import find_links, html_link_candidates, text_link_candidates
from index.docs.meta import extruct_data, html_meta, jsonld_objects, markdown_meta, page_kind, selector
from index.docs.prose import Spans, classify_blocks, find_endpoints, find_notes, json_blocks
from index.docs.text import Doc, decode, render_html
from index.untrusted import clean_text, scrub_text
from index.urls import MAX_URL, is_http_url

PAGE_KEYS = ("url", "kind", "truncated", "title", "description", "canonical", "favicon", "lang",
             "opengraph", "microdata", "jsonld", "jsonld_errors", "links", "examples", "fields",
             "response_fields", "responses", "notes", "endpoints", "failed_stages")


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


def _read_text(page: dict[str, Any], text: str) -> None:
    """Examples, fields, responses, notes and endpoints from the page's (rendered) text."""
    doc = Doc(text)
    if page["kind"] != "html":
        page.update(_stage(page, "markdown_meta", lambda: markdown_meta(doc), {}))
    code = (_stage(page, "curl", lambda: curl_examples(text), [])
            + _stage(page, "fetch", lambda: fetch_examples(text), [])
            + _stage(page, "python", lambda: python_examples(text), []))
    spans = Spans([(s, e) for s, e, _ in code])
    fields, response_fields = _stage(page, "fields", lambda: find_fields(doc), ([], []))
    bodies = {content_key(ex["body"]) for _, _, ex in code if ex["body"] is not None}
    blocks = _stage(page, "json_blocks", lambda: json_blocks(doc, spans), [])
    responses, shown = _stage(page, "responses", lambda: classify_blocks(doc, blocks, fields, bodies), ([], []))
    examples: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _pos, _end, ex in sorted(code + shown, key=lambda c: c[0]):
        key = content_key([ex["method"], ex["path"], ex["url"], ex["body"], ex["body_raw"]])
        if key not in seen and len(examples) < MAX_EXAMPLES:
            seen.add(key)
            examples.append(ex)
    page.update(examples=examples, fields=fields, response_fields=response_fields, responses=responses)
    code_lines = {j for s, e in spans.spans for j in range(doc.line_of(s), doc.line_of(max(s, e - 1)) + 1)}
    code_lines.update(j for pos, last, _ in blocks for j in range(doc.line_of(pos), last + 1))
    page["notes"] = _stage(page, "notes", lambda: find_notes(doc, code_lines), [])
    page["endpoints"] = _stage(page, "endpoints", lambda: find_endpoints(doc, code + shown), [])


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
    page["kind"] = _stage(page, "kind", lambda: page_kind(raw, url, content_type), "text")
    text = _stage(page, "decode", lambda: scrub_text(decode(raw, content_type))[:MAX_TEXT_CHARS], "")
    if page["kind"] == "html":
        sel = _stage(page, "parse", lambda: selector(text))
        if sel is None:
            return page
        meta = _stage(page, "meta", lambda: html_meta(sel, page_url), {})
        base = meta.pop("base", None) or page_url
        page.update(meta)
        page["jsonld"], page["jsonld_errors"] = _stage(page, "jsonld", lambda: jsonld_objects(sel.root), ([], 0))
        page["opengraph"], page["microdata"] = _stage(page, "extruct", lambda: extruct_data(sel.root, base), ({}, []))
        page["links"] = _stage(page, "links", lambda: find_links(html_link_candidates(sel.root), base, page_url), [])
        text = _stage(page, "render", lambda: render_html(sel.root), "")
    else:
        page["links"] = _stage(page, "links", lambda: find_links(text_link_candidates(text), page_url, page_url), [])
    _stage(page, "text", lambda: _read_text(page, text))
    return page
