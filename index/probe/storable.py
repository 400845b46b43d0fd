"""Text a database can store: the one pass every value from a server goes through before storage.

PostgreSQL refuses NUL (U+0000) in TEXT and JSONB, and no UTF-8 encoder (psycopg's, sqlite3's,
`model_dump(mode="json")`) accepts a lone UTF-16 surrogate (`"\\ud800"` is valid JSON, so a server
can send one; Python keeps it in a str). Either made a probe unwritable, and with it the batch it
was in. `storable` replaces both with U+FFFD in every string of a tree (keys included) and says
whether it had to; the store then adds the `text_unstorable` finding.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # in a Python str every surrogate code point is a lone one
MAX_DEPTH = 200  # deeper trees are cut (parsers refuse JSON nested deeper than this long before)


def storable_text(value: str) -> tuple[str, bool]:
    # The common case costs a C-speed scan or two (a regex over a 64 KiB body cost ~2 ms).
    if "\x00" not in value:
        if value.isascii():
            return value, False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # only a surrogate makes a str unencodable
            pass
        else:
            return value, False
    return _UNSTORABLE.sub(REPLACEMENT, value), True


def storable(value: Any, _depth: int = 0) -> tuple[Any, bool]:
    """(`value` with NUL and lone surrogates replaced in every string, whether anything was).
    Dicts, lists and tuples are copied only where something changed."""
    if isinstance(value, str):
        return storable_text(value)
    if _depth > MAX_DEPTH:
        return None, True
    if isinstance(value, dict):
        changed = False
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, key_changed = storable(key, _depth + 1) if isinstance(key, str) else (key, False)
            new_item, item_changed = storable(item, _depth + 1)
            changed = changed or key_changed or item_changed
            out[new_key] = new_item
        return (out, True) if changed else (value, False)
    if isinstance(value, list | tuple):
        items = [storable(item, _depth + 1) for item in value]
        if not any(c for _, c in items):
            return value, False
        rebuilt = [item for item, _ in items]
        return (tuple(rebuilt) if isinstance(value, tuple) else rebuilt), True
    return value, False
