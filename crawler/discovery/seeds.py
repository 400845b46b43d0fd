"""Seed lists: data/seeds.yaml and --seed arguments → candidates and facilitator URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
