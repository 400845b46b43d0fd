"""Origin metadata from a homepage: title, description, canonical, favicon. Pure: bytes in, dict out.

Kept for the probe spider's homepage callback; the reading itself lives in index.docs (one home
for page parsing), which also reads docs pages in full (extract_page).
"""

from __future__ import annotations

from typing import Any

from index.docs import page_meta


def extract_meta(html: bytes | str, base_url: str) -> dict[str, Any]:
    """Title (og:title, else <title>), description (meta, else og), canonical and favicon URLs."""
    return page_meta(html, base_url)
