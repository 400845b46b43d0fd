"""Request examples in code: curl commands, fetch() calls and Python requests/httpx calls → requests
{method, url, path, headers, body, body_raw, source}. Bounded per page and per call."""

from __future__ import annotations

import re
from typing import Any

from index.docs.code_scan import (
    IDENT,
    REDACTED,
    balanced,
    loose_literal,
    make_example,
    resolve_variable,
    skip_ws,
    strict_json,
    string_at,
)
from index.docs.limits import MAX_CALL, MAX_EXAMPLES, MAX_SCANS

# ---------------------------------------------------------------------------------------------
# curl

_CURL_FIND = re.compile(r"(?<![\w./\-])curl(?=[ \t\\])")
_SHELL = re.compile(r"""
    (?P<sq>'[^']*')
  | (?P<dq>"(?:[^"\\]|\\.)*")
  | (?P<cont>\\[ \t]*\n|\\[ \t]+)
  | (?P<esc>\\.)
  | (?P<word>[^\s'"\\;|&<>`]+)
  | (?P<space>[ \t]+)
  | (?P<end>.)
""", re.X | re.S)
_DQ_ESCAPE = re.compile(r'\\(["\\$`\n])')
_CURL_SHORT_ARG = {"X": "--request", "H": "--header", "d": "--data", "F": "--form", "u": "--user",
                   "o": "", "A": "", "e": "", "b": "", "c": "", "m": "", "w": "", "x": "", "T": "", "E": "",
                   "r": "", "K": "", "C": "", "y": "", "Y": "", "z": "", "U": "", "Q": "", "t": "", "D": ""}
_CURL_LONG_ARG = frozenset(
    "--request --header --data --data-raw --data-binary --data-ascii --data-urlencode --json --form --form-string "
    "--user --oauth2-bearer --url --output --user-agent --referer --cookie --cookie-jar --max-time --connect-timeout "
    "--write-out --proxy --upload-file --cert --key --cacert --resolve --retry --retry-delay --config --range "
    "--limit-rate --dump-header --proxy-user --connect-to --interface --max-redirs".split())
_CURL_DATA = frozenset("--data --data-raw --data-binary --data-ascii --data-urlencode --json".split())


def _shell_words(text: str, start: int, limit: int) -> tuple[list[str], int]:
    """Shell words from `start` to the end of the command (newline, ; | & < > or a backtick),
    quotes and backslash-continuations understood; (words, end position)."""
    stop = min(len(text), start + limit)
    words: list[str] = []
    current: list[str] = []
    open_word = False
    pos = start
    while pos < stop and len(words) < 300:
        m = _SHELL.match(text, pos, stop)
        if m is None:
            break
        kind, tok = m.lastgroup, m.group()
        if kind == "end":
            break
        pos = m.end()
        if kind in ("space", "cont"):
            if open_word:
                words.append("".join(current))
                current, open_word = [], False
            continue
        current.append(tok[1:-1] if kind == "sq" else _DQ_ESCAPE.sub(r"\1", tok[1:-1]) if kind == "dq"
                       else tok[1] if kind == "esc" else tok)
        open_word = True
    if open_word:
        words.append("".join(current))
    return words, pos


def _curl_example(words: list[str]) -> dict[str, Any] | None:
    method: str | None = None
    target: str | None = None
    headers: dict[str, str] = {}
    data: list[str] = []
    form: list[str] = []
    get = head = False
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        name, value = "", None
        if word.startswith("--") and len(word) > 2:
            name, eq, value = word.partition("=")
            if name in _CURL_LONG_ARG and not eq:
                value = words[i] if i < len(words) else None
                i += 1
            get = get or name == "--get"
            head = head or name == "--head"
        elif word.startswith("-") and len(word) > 1:
            for j, flag in enumerate(word[1:], start=1):
                if flag in _CURL_SHORT_ARG:
                    name, value = _CURL_SHORT_ARG[flag], word[j + 1:] or None
                    if value is None:
                        value = words[i] if i < len(words) else None
                        i += 1
                    break
                get = get or flag == "G"
                head = head or flag == "I"
        else:
            target = target or word
            continue
        if value is None:
            continue
        if name == "--request" and re.fullmatch(r"[A-Za-z]{3,10}", value):
            method = value.upper()
        elif name == "--header":
            key, sep, val = value.partition(":")
            if sep:
                headers[key.strip()] = val.strip()
        elif name in _CURL_DATA:
            data.append(value)
        elif name in ("--form", "--form-string"):
            form.append(value)
        elif name in ("--user", "--oauth2-bearer"):
            headers["Authorization"] = REDACTED
        elif name == "--url":
            target = value
    method = method or ("HEAD" if head else "GET" if get else "POST" if data or form else "GET")
    raw = "&".join(data) if data and not get else "&".join(form) if form else None
    body = strict_json(raw) if raw else None
    return make_example(method, target, headers, body, raw, "curl")


def curl_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_CURL_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos:
            continue
        words, end = _shell_words(text, m.start(), MAX_CALL)
        pos = max(end, m.end())
        example = _curl_example(words) if words and words[0] == "curl" else None
        if example:
            out.append((m.start(), pos, example))
    return out


# ---------------------------------------------------------------------------------------------
# fetch() and Python requests/httpx calls

_FETCH_FIND = re.compile(r"[fF]etch[\w$]{0,60}[ \t]*\(")
_JS_METHOD = re.compile(r"\bmethod\s*:\s*[\"'`]([A-Za-z]{3,10})[\"'`]")
_JS_HEADERS = re.compile(r"\bheaders\s*:\s*")
_JS_BODY = re.compile(r"\bbody\s*:\s*")
_PAIR = re.compile(r"""(?:["']([A-Za-z0-9!#$%&*+.^_|~-]{1,100})["']|([A-Za-z_$][\w$]{0,100}))"""
                   r"""\s*:\s*["'`]([^"'`\n]{0,1000})["'`]""")
_KWARG_START = re.compile(r"[A-Za-z_]\w*[ \t]*=(?!=)")
_PY_FIND = re.compile(
    r"(?<![\w.])(?:requests|httpx|session|client)\.(get|post|put|patch|delete|head|options|request)[ \t]*\(")


def header_pairs(src: str) -> dict[str, str]:
    return {(m.group(1) or m.group(2)): m.group(3) for m in list(_PAIR.finditer(src))[:50]}


def value_at(text: str, src: str, pos: int, anchor: int, mode: str) -> tuple[str, str, int] | None:
    """The literal at src[pos:] as ("str", inner, end) or ("obj", source, end); a variable name is
    followed back to the literal last assigned to it before `anchor` in `text`."""
    lit = string_at(src, pos)
    if lit:
        return "str", lit[0], lit[1]
    if src[pos:pos + 1] in ("{", "["):
        ok, end = balanced(src, pos, mode, MAX_CALL)
        return ("obj", src[pos:end], end) if ok else None
    ident = IDENT.match(src, pos)
    if ident:
        found = resolve_variable(text, anchor, ident.group())
        return (found[0], found[1], ident.end()) if found else None
    return None


def body_from(value: tuple[str, str, int] | None) -> tuple[Any, str | None]:
    """(parsed body, raw text) from a literal found for a body argument."""
    if value is None:
        return None, None
    kind, src, _ = value
    if kind == "str":
        return strict_json(src), src
    try:
        return loose_literal(src), None
    except ValueError:
        return None, src


def fetch_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """`fetch("https://…", {method, headers, body: JSON.stringify({...})})` calls (any *fetch* callee)."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_FETCH_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos or "wrap" in text[max(0, m.start() - 20):m.start()].lower():
            continue
        paren = m.end() - 1
        ok, call_end = balanced(text, paren, "js", MAX_CALL)
        if not ok:
            pos = call_end  # an unclosed call: what it spans is read once, not again from each match
            continue
        call = text[paren + 1:call_end - 1]
        first = value_at(text, call, skip_ws(call, 0), m.start(), "js")
        if first is None or first[0] != "str":
            continue
        p = skip_ws(call, first[2])
        found = value_at(text, call, skip_ws(call, p + 1), m.start(), "js") if call[p:p + 1] == "," else None
        opts = found[1] if found and found[0] == "obj" else ""
        method = _JS_METHOD.search(opts)
        headers: dict[str, str] = {}
        hm = _JS_HEADERS.search(opts)
        if hm:
            found = value_at(text, opts, hm.end(), m.start(), "js")
            headers = header_pairs(found[1]) if found and found[0] == "obj" else {}
        body, raw = None, None
        bm = _JS_BODY.search(opts)
        if bm:
            q = bm.end()
            if opts.startswith("JSON.stringify", q):
                q = skip_ws(opts, q + len("JSON.stringify"))
                if opts[q:q + 1] == "(":
                    body, raw = body_from(value_at(text, opts, skip_ws(opts, q + 1), m.start(), "js"))
            else:
                body, raw = body_from(value_at(text, opts, q, m.start(), "js"))
        example = make_example(method.group(1) if method else None, first[1], headers, body, raw, "fetch")
        if example:
            out.append((m.start(), call_end, example))
            pos = call_end
    return out


def _kwarg(args: str, name: str) -> int | None:
    m = re.search(r"(?<![\w.])" + name + r"[ \t]*=(?!=)[ \t]*", args)
    return m.end() if m else None


def python_examples(text: str) -> list[tuple[int, int, dict[str, Any]]]:
    """`requests.post(url, json={...}, headers={...})` calls (also httpx, session, client)."""
    out: list[tuple[int, int, dict[str, Any]]] = []
    pos = 0
    for tries, m in enumerate(_PY_FIND.finditer(text)):
        if tries >= MAX_SCANS or len(out) >= MAX_EXAMPLES:
            break
        if m.start() < pos:
            continue
        paren = m.end() - 1
        ok, call_end = balanced(text, paren, "py", MAX_CALL)
        if not ok:
            pos = call_end
            continue
        args = text[paren + 1:call_end - 1]
        method = m.group(1).upper()
        p = skip_ws(args, 0)
        if method == "REQUEST":
            lit = string_at(args, p, "\"'")
            if not lit:
                continue
            method = lit[0].upper()
            p = skip_ws(args, lit[1])
            p = skip_ws(args, p + 1) if args[p:p + 1] == "," else p
        url_at = _kwarg(args, "url") if _KWARG_START.match(args, p) else p
        first = value_at(text, args, url_at, m.start(), "py") if url_at is not None else None
        if first is None or first[0] != "str":
            continue
        headers: dict[str, str] = {}
        hp = _kwarg(args, "headers")
        if hp is not None:
            found = value_at(text, args, hp, m.start(), "py")
            headers = header_pairs(found[1]) if found and found[0] == "obj" else {}
        body, raw = None, None
        jp, dp = _kwarg(args, "json"), _kwarg(args, "data")
        if jp is not None:
            body, raw = body_from(value_at(text, args, jp, m.start(), "py"))
        elif dp is not None:
            found = value_at(text, args, dp, m.start(), "py")
            if found:
                body, raw = (strict_json(found[1]) if found[0] == "str" else None), found[1]
        example = make_example(method, first[1], headers, body, raw, "python")
        if example:
            out.append((m.start(), call_end, example))
            pos = call_end
    return out
