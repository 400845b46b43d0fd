"""Docs pages matched to one resource, at catalog time: `docs_for` merges the extracts
(index.docs.page.extract_page) of an origin's pages into what they say about one path and method;
`path_score` ranks how well a documented path names the resource's path (exact > template > tail)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from index.docs.limits import MAX_FIELDS, MAX_NOTES

CONSTRAINT_KEYS = ("default", "minimum", "maximum", "enum")  # what index.docs.fields reads under a field
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


_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_call_id", "tool_calls"})


def is_message(value: Any) -> bool:
    """A single chat message (`{"role": "user", "content": …}`): a part of a chat body, never one."""
    return isinstance(value, dict) and "role" in value and set(value) <= _MESSAGE_KEYS


def docs_for(extracts: list[dict[str, Any]], path: str, method: str) -> dict[str, Any]:
    """What several pages' extracts say about one resource (path and method).

    {example_body, example_source_url, fields, fields_source_url, output_example, output_source_url,
    description, description_source_url, notes}: items documented for
    the best-matching path win (exact > template > base-URL tail), then page order, then order on
    the page. Items with no endpoint of their own count (weakest) on pages that name the resource.
    Notes come from every page that documents the resource.
    """
    method = (method or "GET").upper()
    examples: list[tuple[int, int, int, dict[str, Any], Any]] = []
    fields: list[tuple[int, int, int, dict[str, Any], Any]] = []
    outputs: list[tuple[int, int, int, dict[str, Any], Any]] = []
    descriptions: list[tuple[int, int, int, str, Any]] = []
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
        endpoints = [e for e in page.get("endpoints") or [] if isinstance(e, dict)]
        named = [score(e, False) for e in endpoints]
        for k, (e, s) in enumerate(zip(endpoints, named, strict=True)):
            if s > 1 and isinstance(e.get("description"), str) and e["description"]:
                descriptions.append((-s, p, k, e["description"], page.get("url")))
        items = [e for key in ("examples", "fields", "responses") for e in page.get(key) or [] if isinstance(e, dict)]
        names_it = any(named) or any(score(e, False) for e in items)
        for k, ex in enumerate(e for e in page.get("examples") or [] if isinstance(e, dict)):
            if (s := score(ex, names_it)) and ex.get("body") is not None and not is_message(ex["body"]):
                examples.append((-s, p, k, ex, page.get("url")))
        for k, field in enumerate(e for e in page.get("fields") or [] if isinstance(e, dict)):
            if s := score(field, names_it):
                fields.append((-s, p, k, field, page.get("url")))
        for k, resp in enumerate(e for e in page.get("responses") or [] if isinstance(e, dict)):
            if (s := score(resp, names_it)) and not resp.get("error"):
                outputs.append((-s, p, k, resp, page.get("url")))
        if names_it:
            notes.extend(n for n in page.get("notes") or [] if isinstance(n, dict))
    examples.sort(key=lambda e: e[:3])
    fields.sort(key=lambda e: e[:3])
    outputs.sort(key=lambda e: e[:3])
    descriptions.sort(key=lambda e: e[:3])
    merged: dict[str, dict[str, Any]] = {}  # first mention of a name wins; later ones fill its gaps
    for *_, field, _url in fields:
        name = field.get("name")
        if not isinstance(name, str):
            continue
        if name not in merged and len(merged) < MAX_FIELDS:
            merged[name] = {"name": name, "type": field.get("type"), "required": bool(field.get("required")),
                            "description": field.get("description"), "in": field.get("in"),
                            **{k: field[k] for k in CONSTRAINT_KEYS if k in field}}
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
        "fields_source_url": fields[0][4] if fields else None,
        "output_example": outputs[0][3].get("example") if outputs else None,
        "output_source_url": outputs[0][4] if outputs else None,
        "description": descriptions[0][3] if descriptions else None,
        "description_source_url": descriptions[0][4] if descriptions else None,
        "notes": unique_notes,
    }
