"""Seed lists: data/seeds.yaml and --seed arguments → candidates and facilitator URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from urllib.parse import urlsplit

import yaml

from crawler.discovery import Candidate, split_method


def seed_candidate(entry: str | dict[str, Any], source_url: str) -> Candidate:
    """One seed entry: "URL", "METHOD URL", or {url, method?, body?}."""
    if isinstance(entry, dict):
        method, url = split_method(str(entry["url"]))
        method = (entry.get("method") or method or None)
        cand: Candidate = {"url": url, "method": method.upper() if method else None,
                           "source": {"kind": "seed", "url": source_url}}
        if "body" in entry:
            cand["body"] = entry["body"]
        return cand
    method, url = split_method(entry)
    return {"url": url, "method": method, "source": {"kind": "seed", "url": source_url}}


def is_origin_seed(entry: str) -> bool:
    """A bare origin URL ("https://api.example.com" or with a trailing slash, no method, no query):
    a place to discover resources, not a resource to probe."""
    method, url = split_method(entry)
    if method is not None:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path in ("", "/") and not parts.query


def load_seeds_file(path: Path) -> dict[str, list[Any]]:
    """Read a seeds file: {resources: [...], origins: [...], facilitators: [...]} (each optional)."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with resources / origins / facilitators")
    source = f"file://{path.resolve()}"
    resources = [seed_candidate(e, source) for e in raw.get("resources") or []]
    facilitators = [str(f["url"] if isinstance(f, dict) else f) for f in raw.get("facilitators") or []]
    origins = [str(o["url"] if isinstance(o, dict) else o) for o in raw.get("origins") or []]
    return {"resources": resources, "facilitators": facilitators, "origins": origins}
