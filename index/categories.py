"""Category taxonomy (data/categories.yaml) and the deterministic classifier over it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from index.paths import DATA_DIR

FALLBACK = "other"


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    keywords: tuple[str, ...]


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    raw = yaml.safe_load((DATA_DIR / "categories.yaml").read_text())["categories"]
    return tuple(Category(c["name"], c["title"], tuple(k.lower() for k in c.get("keywords") or [])) for c in raw)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def classify(*texts: str | None) -> str:
    """The first category in taxonomy order whose keyword appears as whole word(s) in the texts."""
    haystack = _words(" ".join(t for t in texts if t))
    for cat in categories():
        for kw in cat.keywords:
            if _words(kw) in haystack:
                return cat.name
    return FALLBACK
