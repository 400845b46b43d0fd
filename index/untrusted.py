"""Hostile-input hygiene, one home for the whole project: text and JSON taken from servers we probe.

Pure functions, no I/O; every limit is passed in by the caller, whose module names what it bounds.

- text: `clean_text` (a string made safe to keep: invisible characters out, trimmed, truncated) and
  `scrub_text` (the fast pre-pass over a whole page before parsing); both remove the one
  `INVISIBLE` set.
- JSON text: `safe_json_loads` refuses nesting bombs before the C scanner sees them.
- JSON values: bounded copies (`jsonable`, `kept_value`, `safe_copy`), bounded measures (`within`,
  `json_size`) and bounded cache keys (`json_key`, `value_key`).
"""

from __future__ import annotations

import datetime as dt
import json
import marshal
import math
import re
from collections.abc import Mapping
from typing import Any

from index.findings import finding

MAX_JSON_DEPTH = 128  # nesting beyond this is refused before parsing (the C scanner can overflow the stack)

# ---------------------------------------------------------------------------------------------
# text

# What is never kept from untrusted text: the Unicode categories Cc (controls), Cf (format: bidi
# overrides, zero-width characters…), Cs (surrogates) and Co (private use), tab and newline excepted,
# plus the unassigned rest of the tag block and the noncharacters of the private-use planes.
# Written out as code-point ranges (Unicode 14) because a regex removes them about ten times faster
# than a per-character category lookup; tests/protocol/test_untrusted.py checks it against unicodedata.
INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ud800-\uf8ff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f\U000f0000-\U0010ffff]"
)
# exotic spaces made plain, and every line separator a newline (scrub_text)
_SPACES = {cp: " " for cp in (0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)}
_SPACES.update({0x0D: "\n", 0x2028: "\n", 0x2029: "\n"})


def clean_text(value: Any, limit: int, findings: list[dict[str, Any]] | None = None, where: str = "") -> str | None:
    """A crawled string made safe to keep: str only, INVISIBLE characters removed, stripped, truncated
    to `limit` characters (a `text_truncated` finding when `findings` is given); None when empty."""
    if not isinstance(value, str):
        return None
    if not (value.isascii() and value.isprintable()):
        return _clean_scan(value, limit, findings, where)
    # The usual case: printable ASCII has nothing to remove (INVISIBLE lies outside it), so only
    # the trimming applies.
    text = value.strip()
    if len(text) <= limit:
        return text or None
    if findings is not None:
        findings.append(finding("text_truncated", where))
    return text[:limit].rstrip() or None


def _clean_scan(value: str, limit: int, findings: list[dict[str, Any]] | None, where: str) -> str | None:
    """clean_text for any string: works through the value in slices and stops once more than `limit`
    characters are certain to remain, so a megabyte of text costs no more than a short one."""
    step = max(limit, 256)
    text = ""
    pos = 0
    while pos < len(value):
        text = (text + INVISIBLE.sub("", value[pos:pos + step])).lstrip()
        pos += step
        if len(text.rstrip()) > limit:
            break
    text = text.strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
        if findings is not None:
            findings.append(finding("text_truncated", where))
    return text or None


def scrub_text(text: str) -> str:
    """Line ends unified, exotic spaces made plain, INVISIBLE characters removed: the fast pre-pass
    over a whole document so parsers see clean text (every string kept still goes through clean_text)."""
    return INVISIBLE.sub("", text.replace("\r\n", "\n").translate(_SPACES))


# ---------------------------------------------------------------------------------------------
# JSON text

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when JSON text nests deeper than `limit` (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def safe_json_loads(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that turns every way JSON can fail (including nesting bombs) into ValueError."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if json_depth_exceeds(text, max_depth):
        raise ValueError("JSON nested too deeply")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


# ---------------------------------------------------------------------------------------------
# JSON values: bounded measures

_PLAIN_SCALARS = (str, int, float, bool, type(None))


def within(value: Any, max_nodes: int, max_depth: int) -> bool:
    """True when a JSON value has at most max_nodes values nested at most max_depth deep.

    Walked one nesting level at a time (no recursion); plain dicts and lists are told by their exact
    type first (the Mapping check is an ABC lookup, many times slower)."""
    level: list[Any] = [value]
    nodes = 0
    depth = 0
    while level:
        nodes += len(level)
        if nodes > max_nodes or depth > max_depth:
            return False
        below: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is dict:
                below.extend(node.values())
            elif kind is list:
                below.extend(node)
            elif kind in _PLAIN_SCALARS:
                continue
            elif isinstance(node, Mapping):
                below.extend(node.values())
            elif isinstance(node, list):
                below.extend(node)
        level = below
        depth += 1
    return True


def json_size(value: Any, max_nodes: int | None = None, max_depth: int | None = None) -> int | None:
    """Bytes of the compact UTF-8 JSON of a value; None when it is not plain JSON (NaN, non-str keys,
    unserializable objects) or, when the bounds are given, has more than `max_nodes` values or nests
    deeper than `max_depth` (checked before json.dumps runs)."""
    if max_nodes is not None and max_depth is not None and not within(value, max_nodes, max_depth):
        return None
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8"))
    except (ValueError, TypeError, RecursionError):
        return None


def json_key(value: Any, max_nodes: int, max_depth: int, max_chars: int) -> str | None:
    """A value's compact JSON in document order, for use as a cache key, or None when it is not to be
    cached: more than max_nodes values, nested deeper than max_depth, JSON longer than max_chars, or
    not plain JSON data (a tuple, a non-string key or a str/dict subclass would share its JSON with a
    value that behaves differently)."""
    level: list[Any] = [value]
    nodes = 0
    depth = 0
    while level:
        nodes += len(level)
        if nodes > max_nodes or depth > max_depth:
            return None
        below: list[Any] = []
        for node in level:
            kind = type(node)
            if kind is dict:
                for name in node:
                    if type(name) is not str:
                        return None
                below.extend(node.values())
            elif kind is list:
                below.extend(node)
            elif kind not in _PLAIN_SCALARS:
                return None
        level = below
        depth += 1
    try:
        key = json.dumps(value, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return key if len(key) <= max_chars else None


# marshal's format 2: no back-references (later formats mark objects by their reference counts), so
# equal values built alike serialize alike.
_VALUE_KEY_FORMAT = 2


def value_key(value: Any, max_bytes: int) -> bytes | None:
    """A value's exact serialization, for use as a cache key, or None when it is not to be cached:
    longer than max_bytes, or not made only of the built-in types marshal writes (no subclasses: a
    str or dict subclass is refused; nesting deeper than marshal allows is refused too).

    `read_value_key` gives back an equal value of the same types, so a pure function of the value
    may be computed from the key. Several times cheaper than `json_key` (no walk, no text encoding);
    equal values may still get different keys (a string interned in one and not the other), which
    costs a cache miss, never a wrong answer."""
    try:
        key = marshal.dumps(value, _VALUE_KEY_FORMAT)
    except ValueError:  # unmarshallable type, or nested too deep
        return None
    return key if len(key) <= max_bytes else None


def read_value_key(key: bytes) -> Any:
    """The value `value_key` serialized (a new copy on each call)."""
    return marshal.loads(key)


# ---------------------------------------------------------------------------------------------
# JSON values: bounded copies


class _TooBig(Exception):
    pass


def jsonable(value: Any, max_nodes: int, max_depth: int) -> tuple[bool, Any]:
    """(ok, a plain-JSON copy of `value`): keys as strings, dates as ISO text, tuples and sets as lists,
    NaN/inf and bytes as None. ok is False when the value has more than `max_nodes` values (counting
    every visit, so YAML aliases are paid for) or nests deeper than `max_depth`."""
    budget = [max_nodes]
    try:
        return True, _plain(value, budget, max_depth)
    except _TooBig:
        return False, None


def _plain(value: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth < 0:
        raise _TooBig
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**80 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else _key_text(k)): _plain(v, budget, depth - 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, budget, depth - 1) for v in value]
    return None


def _key_text(key: Any) -> str:
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, int | float | dt.date):
        return str(key)
    return type(key).__name__


def kept_value(value: Any, limit: int) -> tuple[bool, Any]:
    """(ok, an independent plain-JSON copy of `value`) when its compact JSON is at most `limit` bytes;
    (False, None) when it is larger or not JSON (NaN, unserializable objects, too deep).

    `value` is a JSON value as json.loads (or `jsonable`) returns it: a tree, so serializing it costs
    no more than its text.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return False, None
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        return False, None
    return True, json.loads(text)


def safe_copy(value: Any, max_nodes: int, max_depth: int, max_items: int, max_text: int, max_key: int) -> Any:
    """A JSON-able copy that never fails: strings cleaned (clean_text, `max_text`; keys `max_key`),
    non-finite floats and other types dropped (None), at most `max_items` per array or object, and
    None in place of whatever lies past `max_nodes` values or `max_depth` levels."""
    return _safe(value, [max_nodes], 0, (max_depth, max_items, max_text, max_key))


def _safe(value: Any, budget: list[int], depth: int, limits: tuple[int, int, int, int]) -> Any:
    max_depth, max_items, max_text, max_key = limits
    budget[0] -= 1
    if budget[0] < 0 or depth > max_depth:
        return None
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        if len(value) <= max_text and value.isprintable():
            return value
        return clean_text(value, max_text) or ""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in list(value.items())[:max_items]:
            name = clean_text(key if isinstance(key, str) else str(key), max_key) or ""
            out[name] = _safe(item, budget, depth + 1, limits)
        return out
    if isinstance(value, list | tuple):
        return [_safe(item, budget, depth + 1, limits) for item in value[:max_items]]
    return None


# ---------------------------------------------------------------------------------------------
# timestamps


def iso_z(when: dt.datetime, millis: bool = False) -> str:
    """A datetime as ISO-8601 UTC with a Z ("2025-08-09T01:07:04.005123Z"); a naive one is read as
    UTC. With `millis` the fraction is cut to milliseconds ("….005Z") and left out when there is none,
    as JavaScript and the discovery sources write times. The one formatter of every time we publish."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    when = when.astimezone(dt.UTC)
    if millis:
        return when.isoformat(timespec="milliseconds" if when.microsecond else "seconds").replace("+00:00", "Z")
    return when.isoformat().replace("+00:00", "Z")


_MS_THRESHOLD = 100_000_000_000  # 1e11 s is the year 5138: bigger epoch numbers are milliseconds


def iso_utc(value: Any) -> str | None:
    """A timestamp as ISO-8601 UTC ("2025-08-09T01:07:04.005Z"), or None when it is not one.

    Numbers (and digit strings) are Unix epochs, in seconds or, from 1e11 up, milliseconds; strings are
    ISO-8601, read as UTC when they carry no offset.
    """
    when: dt.datetime | None = None
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            return None
        try:
            number = float(text) if text.replace(".", "", 1).isdigit() else None
        except ValueError:
            number = None
        if number is not None:
            return iso_utc(number)
        try:
            when = dt.datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            return None
        seconds = value / 1000 if value >= _MS_THRESHOLD else value
        try:
            when = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if when is None:
        return None
    try:
        return iso_z(when, millis=True)
    except (OverflowError, ValueError):
        return None
