"""The small tokenizer under the code readers: balanced brackets, strings, loose JS/Python literals read
as JSON, and the redaction of secrets (headers and query parameters) in the examples we keep.

Every scanner moves forward past what it has read and stops at a token budget, so a megabyte of
brackets costs about what a megabyte of prose does.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.docs.limits import MAX_BLOCK, MAX_CALL, MAX_HEADER_VALUE, MAX_PATH, MAX_RAW_BODY, keep
from index.docs.text import PATH_OK
from index.protocol.networks import HTTP_METHODS as METHODS
from index.untrusted import MAX_JSON_DEPTH, clean_text, safe_json_loads
from index.urls import MAX_URL, is_http_url

REDACTED = "<redacted>"
JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def content_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def strict_json(text: str) -> Any:
    """Parsed JSON object or array, or None."""
    text = text.strip()
    if not text or text[0] not in "{[" or len(text) > MAX_BLOCK:
        return None
    try:
        value = safe_json_loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict | list) else None


_SCAN = {
    "json": re.compile(r'"(?:[^"\\\n]|\\.)*"|\n[ \t]*\n|[\[\]{}()]|"'),
    "js": re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`|[\[\]{}()]|["\'`]', re.S),
    "py": re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[\[\]{}()]|["\']'),
}
_OPENERS = {"[": "]", "{": "}", "(": ")"}


def balanced(text: str, start: int, mode: str, limit: int, endpos: int | None = None,
             budget: list[int] | None = None) -> tuple[bool, int]:
    """(True, end) when the bracket at `start` closes at end-1; else (False, where scanning stopped).

    Jumps from bracket to bracket with one regex (strings skipped whole), so the cost is linear
    in the span read, which is at most `limit`. JSON mode stops at a blank line and at nesting
    deeper than safe_json_loads accepts. `budget`, when given, counts tokens read across calls.
    """
    stop = min(len(text), start + limit, endpos if endpos is not None else len(text))
    stack: list[str] = []
    pattern = _SCAN[mode]
    max_depth = MAX_JSON_DEPTH if mode == "json" else 4 * MAX_JSON_DEPTH
    pos = start
    while pos < stop:
        if budget is not None:
            budget[0] -= 1
            if budget[0] < 0:
                return False, pos
        m = pattern.search(text, pos, stop)
        if m is None:
            return False, stop
        tok = m.group()
        pos = m.end()
        if tok in _OPENERS:
            stack.append(_OPENERS[tok])
            if len(stack) > max_depth:
                return False, pos
        elif tok in ")]}":
            if not stack or stack.pop() != tok:
                return False, pos
            if not stack:
                return True, pos
        elif tok[0] == "\n" or len(tok) == 1:  # a blank line (JSON) or an unterminated string
            return False, pos
    return False, stop


_STRINGS = {
    '"': re.compile(r'"((?:[^"\\\n]|\\.)*)"'),
    "'": re.compile(r"'((?:[^'\\\n]|\\.)*)'"),
    "`": re.compile(r"`((?:[^`\\]|\\.)*)`", re.S),
}
_STRING_PREFIX = re.compile(r"[fFrRbBuU]{1,2}(?=[\"'])")
IDENT = re.compile(r"[A-Za-z_$][\w$]{0,80}")
_SPACE_RUN = re.compile(r"\s*")


def skip_ws(text: str, pos: int) -> int:
    return _SPACE_RUN.match(text, pos).end()


def string_at(text: str, pos: int, quotes: str = "\"'`") -> tuple[str, int] | None:
    """(inner text, end) of a string literal starting at pos (Python prefixes like f"" allowed)."""
    prefix = _STRING_PREFIX.match(text, pos)
    if prefix:
        pos = prefix.end()
    if pos >= len(text) or text[pos] not in quotes:
        return None
    m = _STRINGS[text[pos]].match(text, pos, min(len(text), pos + MAX_URL + 2))
    return (m.group(1), m.end()) if m else None


def resolve_variable(text: str, before: int, name: str) -> tuple[str, str] | None:
    """The literal last assigned to `name` shortly before `before`: ("str", inner) or ("obj", source)."""
    window_start = max(0, before - 4000)
    last = None
    for m in re.finditer(r"(?<![\w$.])" + re.escape(name) + r"[ \t]*=(?!=)[ \t]*", text[window_start:before]):
        last = m
    if last is None:
        return None
    pos = window_start + last.end()
    lit = string_at(text, pos)
    if lit:
        return "str", lit[0]
    if pos < len(text) and text[pos] in "{[":
        ok, end = balanced(text, pos, "js", MAX_CALL)
        if ok:
            return "obj", text[pos:end]
    return None


_LITERAL = re.compile(r"""
    (?P<ws>\s+|//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<dq>"(?:[^"\\\n]|\\.)*")
  | (?P<sq>'(?:[^'\\\n]|\\.)*')
  | (?P<punct>[{}\[\],:])
  | (?P<num>-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_$][\w$]*)
""", re.X | re.S)
_LITERAL_WORDS = {"true": "true", "True": "true", "false": "false", "False": "false",
                  "null": "null", "None": "null", "undefined": "null"}


def loose_literal(src: str) -> Any:
    """A JS object literal or Python dict/list literal as JSON (unquoted keys, single quotes,
    trailing commas, True/None); ValueError for anything else (variables, calls, templates)."""
    if len(src) > MAX_BLOCK:
        raise ValueError("literal too long")
    value = strict_json(src)
    if value is not None:
        return value
    out: list[str] = []
    pos = 0
    while pos < len(src):
        m = _LITERAL.match(src, pos)
        if m is None:
            raise ValueError("not a literal")
        pos = m.end()
        kind, tok = m.lastgroup, m.group()
        if kind == "ws":
            continue
        if kind == "dq":
            out.append(tok)
        elif kind == "sq":
            out.append('"' + tok[1:-1].replace("\\'", "'").replace('"', '\\"') + '"')
        elif kind == "punct":
            if tok in "}]" and out and out[-1] == ",":
                out.pop()
            out.append(tok)
        elif kind == "num":
            out.append(tok if JSON_NUMBER.fullmatch(tok) else repr(float(tok)))
        elif tok in _LITERAL_WORDS:
            out.append(_LITERAL_WORDS[tok])
        elif out and out[-1] in "{," and src[skip_ws(src, pos):skip_ws(src, pos) + 1] == ":":
            out.append(json.dumps(tok))
        else:
            raise ValueError("not a literal")
    return safe_json_loads("".join(out))


_SECRET_NAME = re.compile(
    r"auth|token|secret|passw|api[-_]?key|apikey|cookie|session|signature|payment|credential|private", re.I)
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}")
_PATH_START = re.compile(r"(?<![/:])/(?!/)")


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in list(headers.items())[:50]:
        name = name.strip()
        if not _HEADER_NAME.fullmatch(name):
            continue
        out[name] = REDACTED if _SECRET_NAME.search(name) else (clean_text(value, MAX_HEADER_VALUE) or "")
    return out


def redact_query(url: str) -> str:
    try:
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return url
    if not any(_SECRET_NAME.search(k) for k, _ in pairs):
        return url
    query = urlencode([(k, "REDACTED" if _SECRET_NAME.search(k) else v) for k, v in pairs])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def url_and_path(raw: Any) -> tuple[str | None, str | None]:
    """(absolute URL, path) of an example's target; a `$BASE/v1/x` or `{{host}}/v1/x` gives a path only."""
    if not isinstance(raw, str):
        return None, None
    s = raw.strip().strip("<>").rstrip("`'\",;)")
    if not s or len(s) > MAX_URL:
        return None, None
    if is_http_url(s):
        try:
            path = urlsplit(s).path or "/"
        except ValueError:
            return None, None
        url = clean_text(redact_query(s), MAX_URL)
        return (url, path) if PATH_OK.fullmatch(path) and len(path) <= MAX_PATH else (url, None)
    m = _PATH_START.search(s)
    if not m or "://" in s[:m.start()]:  # no path, or a URL of another scheme
        return None, None
    path = s[m.start():].split("?", 1)[0].split("#", 1)[0]
    return (None, path) if PATH_OK.fullmatch(path) and len(path) <= MAX_PATH else (None, None)


def make_example(method: str | None, target: Any, headers: dict[str, str], body: Any, body_raw: str | None,
                 source: str) -> dict[str, Any] | None:
    url, path = url_and_path(target)
    if url is None and path is None:
        return None
    method = (method or "").upper()
    if method not in METHODS and not re.fullmatch(r"[A-Z]{3,10}", method):
        method = "POST" if body is not None or body_raw else "GET"
    return {
        "method": method,
        "url": url,
        "path": path,
        "headers": redact_headers(headers),
        "body": keep(body) if body is not None else None,
        "body_raw": clean_text(body_raw, MAX_RAW_BODY) if body is None else None,
        "source": source,
    }
