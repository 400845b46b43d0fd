"""Candidate sources: seed lists and facilitator discovery pages, as pure functions."""

from __future__ import annotations

from typing import Any, TypedDict


class Candidate(TypedDict, total=False):
    """Something to probe: a URL, the method its source declares (if any), an example body, and
    where we learned of it."""

    url: str
    method: str | None
    body: Any
    hints: dict[str, Any]  # declared input/output hints (index.hints shape), used to plan the probe
    source: dict[str, Any]  # {kind, url}


HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def split_method(entry: str) -> tuple[str | None, str]:
    """'POST https://x/y' → ('POST', 'https://x/y'); a bare URL → (None, url)."""
    parts = entry.strip().split(None, 1)
    if len(parts) == 2 and parts[0].upper() in HTTP_METHODS:
        return parts[0].upper(), parts[1].strip()
    return None, entry.strip()
