"""Category taxonomy (data/categories.yaml) and the deterministic classifier over it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import yaml

from index.paths import DATA_DIR

FALLBACK = "other"
# How much a keyword counts, by where it was found.
WEIGHTS = {"tags": 3, "path": 3, "description": 2, "context": 1}


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    keywords: tuple[str, ...]
    use_cases: tuple[str, ...] = ()
    buyer: str = "Agents that need {thing} per call."


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    raw = yaml.safe_load((DATA_DIR / "categories.yaml").read_text())["categories"]
    return tuple(Category(c["name"], c["title"], tuple(k.lower() for k in c.get("keywords") or []),
                          tuple(c.get("use_cases") or ()), c.get("buyer") or Category.buyer) for c in raw)


@lru_cache(maxsize=1)
def titles() -> dict[str, str]:
    """{name: title} of every category, in taxonomy order."""
    return {c.name: c.title for c in categories()}


def category(name: str) -> Category:
    for cat in categories():
        if cat.name == name:
            return cat
    return next(c for c in categories() if c.name == FALLBACK)


_WORD = re.compile(r"[a-z0-9]+")


def _words(text: str) -> str:
    return " " + " ".join(_WORD.findall(text.lower())) + " "


@lru_cache(maxsize=1)
def _needles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(category name, its keywords as _words) for every category: made once, not once per record."""
    return tuple((cat.name, tuple(_words(kw) for kw in cat.keywords)) for cat in categories())


def scores(*, tags: str | None = None, path: str | None = None, description: str | None = None,
           context: str | None = None) -> dict[str, int]:
    """Score of every category with at least one keyword hit (see data/categories.yaml)."""
    fields = {"tags": tags, "path": path, "description": description, "context": context}
    haystacks = [(WEIGHTS[k], _words(v)) for k, v in fields.items() if v]
    out: dict[str, int] = {}
    for name, needles in _needles():
        total = 0
        for needle in needles:
            for weight, hay in haystacks:
                if needle in hay:
                    total += weight
        if total:
            out[name] = total
    return out


def classify_fields(*, tags: str | None = None, path: str | None = None, description: str | None = None,
                    context: str | None = None) -> str:
    """The best-scoring category; ties go to the one listed first; no hit → "other"."""
    found = scores(tags=tags, path=path, description=description, context=context)
    if not found:
        return FALLBACK
    order = [c.name for c in categories()]
    return max(found, key=lambda name: (found[name], -order.index(name)))


def classify(*texts: str | None) -> str:
    """Classify free texts of equal weight (treated as description)."""
    return classify_fields(description=" ".join(t for t in texts if t))
