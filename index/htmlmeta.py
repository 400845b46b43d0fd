"""Origin metadata from a homepage: title, description, canonical, favicon. Pure: bytes in, dict out.

The docs spider (extruct, JSON-LD, docs pages) builds on this.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from parsel import Selector

from index.urls import is_http_url
from index.x402 import MAX_DESCRIPTION, clean_text

MAX_TITLE = 200


def extract_meta(html: bytes | str, base_url: str) -> dict[str, Any]:
    """Title (og:title, else <title>), description (meta, else og), canonical and favicon URLs."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    try:
        sel = Selector(text=text)
    except (ValueError, TypeError):
        return {}

    def first(*queries: str) -> str | None:
        for q in queries:
            value = sel.xpath(q).get()
            if value and value.strip():
                return value
        return None

    title = first("//meta[@property='og:title']/@content", "//title/text()")
    description = first("//meta[@name='description']/@content", "//meta[@property='og:description']/@content")
    canonical = first("//link[@rel='canonical']/@href")
    icon = first("//link[contains(concat(' ', normalize-space(@rel), ' '), ' icon ')]/@href",
                 "//link[@rel='apple-touch-icon']/@href")
    out: dict[str, Any] = {
        "title": clean_text(title, MAX_TITLE),
        "description": clean_text(description, MAX_DESCRIPTION),
    }
    for key, value in (("canonical", canonical), ("favicon", icon)):
        url = urljoin(base_url, value.strip()) if value else None
        out[key] = url if is_http_url(url) else None
    return out
