"""What the prose around code says: JSON blocks classified as response (or request) examples, notes
(other ways to authenticate, rate limits, free quotas) and the endpoints a page names."""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from index.docs.code_scan import balanced, content_key, make_example, strict_json
from index.docs.limits import (
    MAX_BLOCK,
    MAX_ENDPOINTS,
    MAX_LINE,
    MAX_NOTE,
    MAX_NOTES,
    MAX_RESPONSES,
    MAX_SCAN_TOKENS,
    keep,
)
from index.docs.text import WHITESPACE, Doc, candidate_lines, endpoint_target, plain
from index.untrusted import clean_text

# ---------------------------------------------------------------------------------------------
# JSON blocks: response examples (and request bodies shown on their own)

_IN_LOCATION = re.compile(r"in:\s*(?:header|query|path|cookie)\b", re.I)
_STATUS = re.compile(r"(?<!\d)([1-5]\d\d)(?!\d)")
_ENDPOINT_ANY = re.compile(r"(?<![A-Za-z0-9_])(GET|POST|PUT|PATCH|DELETE)[ \t]+"
                           r"(https?://[^\s\"'`()\[\]|<>]+|/[A-Za-z0-9_{:<$~.-][^\s\"'`()\[\]|]*)")


class Spans:
    """Sorted, non-overlapping character spans already read as code examples."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def covers(self, pos: int) -> bool:
        i = bisect_right(self.starts, pos) - 1
        return i >= 0 and self.spans[i][0] <= pos < self.spans[i][1]


_JSON_START_LINES = re.compile(r"\n[ \t]*+[\[{]")


def json_blocks(doc: Doc, spans: Spans) -> list[tuple[int, int, Any]]:
    """(position, last line, value) of every JSON object/array standing as a block of its own:
    a whole fenced block, or a bracket opening a line and closing at a line's end."""
    out: list[tuple[int, int, Any]] = []
    text, lines = doc.text, doc.lines
    budget = [MAX_SCAN_TOKENS]

    def scan(first: int, last: int) -> None:  # lines first..last-1: outside fences, or one fence's body
        pos = doc.starts[first] if first < len(lines) else len(text)
        endpos = doc.starts[last] if last < len(lines) else len(text)
        while budget[0] > 0 and len(out) < 4 * MAX_RESPONSES:
            m = _JSON_START_LINES.search(doc.text_nl, pos, endpos)
            if m is None:
                return
            start = m.end() - 2  # the bracket, in text coordinates
            if spans.covers(start):
                pos = start + 1
                continue
            ok, end = balanced(text, start, "json", MAX_BLOCK, endpos, budget)
            pos = max(end, start + 1)
            if ok:
                eol = text.find("\n", end)
                tail = text[end:eol if eol >= 0 else len(text)].strip()
                value = strict_json(text[start:end]) if tail in ("", ",", ";") else None
                if value:
                    out.append((start, doc.line_of(end - 1), value))

    previous = 0
    for open_line, close_line, _lang in doc.fences:
        scan(previous, open_line)
        previous = close_line + 1
        body_start = open_line + 1
        if body_start >= close_line:
            continue
        start = doc.starts[body_start]
        end = doc.starts[close_line] if close_line < len(lines) else len(text)
        if not spans.covers(start) and end - start <= MAX_BLOCK:
            value = strict_json(text[start:end])
            if value:
                out.append((start, close_line - 1, value))
                continue
        scan(body_start, close_line)
    scan(previous, len(lines))
    out.sort(key=lambda b: b[0])
    return out


def _is_error(value: Any, status: int | None) -> bool:
    if status is not None and status >= 400:
        return True
    return isinstance(value, dict) and len(value) <= 3 and bool({"error", "errors"} & value.keys())


def classify_blocks(doc: Doc, blocks: list[tuple[int, int, Any]], fields: list[dict[str, Any]],
                    bodies: set[str]) -> tuple[list[dict[str, Any]], list[tuple[int, int, dict[str, Any]]]]:
    """Response examples, and request examples (JSON shown under a request heading)."""
    responses: list[dict[str, Any]] = []
    requests: list[tuple[int, int, dict[str, Any]]] = []
    seen: set[str] = set()
    for pos, last_line, value in blocks:
        nxt = doc.next_line(last_line, 2)
        if nxt is not None and _IN_LOCATION.match(doc.lines[nxt].strip()):
            continue  # a header or query parameter's example value, not a body
        key = content_key(value)
        if key in bodies:
            continue
        line = doc.line_of(pos)
        method, path = doc.context_at(pos)
        section = doc.section[line]
        if section is None and isinstance(value, dict) and len(value) >= 2:
            names = {f["name"] for f in fields if f["path"] == path and f["method"] == method}
            section = "request" if value.keys() <= names else None
        if section == "request":
            if path:
                example = make_example(method or "POST", path, {}, value, None, "json")
                if example:
                    requests.append((pos, pos + 1, example))
            continue
        if key in seen or len(responses) >= MAX_RESPONSES:
            continue
        seen.add(key)
        status_m = _STATUS.search(doc.heading[line] or "")
        status = int(status_m.group(1)) if status_m else None
        responses.append({"method": method, "path": path, "status": status, "error": _is_error(value, status),
                          "example": keep(value)})
    return responses, requests


# ---------------------------------------------------------------------------------------------
# notes: other ways to authenticate, rate limits, free quotas

_LIST_MARK = re.compile(r"(?:[-*+•]|\d{1,3}[.)])[ \t]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'\[])")
_SIWX = re.compile(r"sign[- ]?in[- ]with[- ]?(?:x|ethereum|solana)\b|\bsiw[xes]\b|\bcaip-122\b", re.I)
_CREDENTIAL = re.compile(
    r"\b(?:api[- _]?keys?|api[- ]tokens?|jwts?|bearer(?:[- ]tokens?)?|access[- ]tokens?|"
    r"auth(?:entication|orization)?[- ]tokens?|session[- ]tokens?|oauth2?|subscri(?:be|bers?|ptions?)|"
    r"prepaid credits?|credit balance)\b", re.I)
_ALTERNATIVE = re.compile(
    r"\b(?:bypass\w*|instead|alternative(?:ly)?|in place of|rather than|without pay\w*|skip\w*|"
    r"also (?:accepts?|supports?|works?|be used)|can also|either|or pay\w*|or subscrib\w*|no need to pay|exempt|"
    r"accepts? authentication|or (?:use|with|via|pass|send|provide) )", re.I)
_NEGATED_BEFORE = re.compile(r"(?:\bno|\bwithout(?:\s+an?)?|\bnever|\bzero)\s+$", re.I)
_NEGATED_AFTER = re.compile(r"\s*(?:is\s+|are\s+)?(?:not\s+(?:required|needed|necessary))", re.I)
_UNITS = r"(?:sec(?:ond)?s?|s|min(?:ute)?s?|m|h(?:ou)?rs?|hours?|h|days?|d|weeks?|months?|mo)\b"
_RATE = re.compile(
    r"(?<![\d.,])\d[\d,.]*\s*(?:k\s+)?(?:requests?|reqs?|calls?|queries|hits|messages|searches)\s*"
    r"(?:/|per\b|an?\b|every\b|each\b)\s*(?:\d+\s*)?" + _UNITS
    + r"|(?<![\w])\d[\d,]*\s*(?:rpm|rps|rpd|qps)\b", re.I)
_RATE_LIMIT = re.compile(r"rate[- ]?limit", re.I)
_LIMIT_WORD = re.compile(r"\b(?:limit\w*|throttl\w*|at most|up to|maximum|max)\b", re.I)
_PER_TIME = re.compile(r"(?<![\d.,])\d[\d,.]*\s*(?:/|per\b)\s*" + _UNITS, re.I)
_FREE = re.compile(r"(?<![\w-])free(?![\w-])", re.I)
_FREE_QUOTA = re.compile(
    r"\bfree\s+(?:tier|plan|quota|trial|allowance|credits?|usage|requests?|calls?|queries|searches)\b|"
    r"(?<![\d.,])\d[\d,.]*\s*(?:k\s+)?(?:free\s+)?(?:requests?|calls?|credits?|queries|searches|generations|"
    r"images|uses|tokens)\b", re.I)


def _auth_alternative(sentence: str) -> bool:
    if _SIWX.search(sentence):
        return True
    for m in _CREDENTIAL.finditer(sentence):
        if _NEGATED_BEFORE.search(sentence[max(0, m.start() - 20):m.start()]):
            continue
        if _NEGATED_AFTER.match(sentence, m.end()):
            continue
        return bool(_ALTERNATIVE.search(sentence))
    return False


def _note_kinds(sentence: str) -> list[str]:
    kinds = []
    if _auth_alternative(sentence):
        kinds.append("auth_alternative")
    free = bool(_FREE.search(sentence) and _FREE_QUOTA.search(sentence))
    limit = bool(_RATE_LIMIT.search(sentence) or _LIMIT_WORD.search(sentence))
    if (_RATE.search(sentence) and (limit or not free)) or (limit and _PER_TIME.search(sentence)):
        kinds.append("rate_limit")  # "100 free requests per day" is a quota, not a rate limit
    if free:
        kinds.append("free_tier")
    return kinds


# Matched against the lowercased text: every branch opens with a literal, which the regex engine
# scans for quickly (about five times faster than one case-insensitive alternation).
_NOTE_LINES_SRC = (
    r"sign[- ]?in[- ]with|siw[xes]\b|caip-122|api[- _]?(?:keys?|tokens?)|jwts?\b|bearer|access[- ]tokens?"
    r"|auth\w{0,20}[- ]tokens?|session[- ]tokens?|oauth|subscri|prepaid|credit balance|rate[- ]?limit"
    r"|free(?![\w-])|\d(?<![\d.,]\d)[\d,.]*[ \t]*(?:k[ \t]+)?(?:requests?|reqs?|calls?|queries|rpm|rps|rpd|qps)")
_NOTE_LINES = re.compile(_NOTE_LINES_SRC)
_NOTE_LINES_ANY_CASE = re.compile(_NOTE_LINES_SRC, re.I)


def find_notes(doc: Doc, code_lines: set[int]) -> list[dict[str, Any]]:
    """Short notes from prose (code blocks, JSON blocks and examples skipped)."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    lowered = doc.text_nl.lower()
    if len(lowered) == len(doc.text_nl):
        candidates = candidate_lines(doc, _NOTE_LINES, text=lowered)
    else:  # a few characters lowercase to two: positions would shift
        candidates = candidate_lines(doc, _NOTE_LINES_ANY_CASE)
    for i in candidates:
        raw = doc.lines[i]
        if len(out) >= MAX_NOTES:
            break
        if i in code_lines:
            continue
        line = plain(raw.strip()).replace("\\|", " ").replace("|", " ").lstrip("#> ").strip()
        mark = _LIST_MARK.match(line)
        line = line[mark.end():] if mark else line
        for sentence in _SENTENCE_END.split(line)[:50]:
            kinds = _note_kinds(sentence)
            if not kinds:
                continue
            text = sentence
            if len(sentence) < 40 and sentence == line:  # a label such as `Sign-In-With-X<token>`
                nxt = doc.next_line(i, 2)
                if (nxt is not None and not doc.fenced[nxt] and nxt not in code_lines
                        and len(doc.lines[nxt]) <= MAX_LINE):
                    text = sentence + " " + plain(doc.lines[nxt].strip())
                    code_lines.add(nxt)
            text = clean_text(WHITESPACE.sub(" ", text), MAX_NOTE)
            for kind in kinds:
                if text and (kind, text) not in seen and len(out) < MAX_NOTES:
                    seen.add((kind, text))
                    out.append({"kind": kind, "text": text})
    return out


# ---------------------------------------------------------------------------------------------
# endpoints

def find_endpoints(doc: Doc, examples: list[tuple[int, int, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every (method, path) the page names: endpoint lines, `METHOD /path` in prose, examples."""
    found: list[tuple[int, str, str, str | None]] = [
        (pos, method, path, url) for pos, (method, path, url) in zip(doc.ctx_pos, doc.ctx, strict=True)]
    text = doc.text
    for count, m in enumerate(_ENDPOINT_ANY.finditer(text)):
        if count >= 10 * MAX_ENDPOINTS:
            break
        rest = text[m.end():m.end() + 120].split("\n", 1)[0]
        target = endpoint_target(m.group(2), rest)
        if target:
            found.append((m.start(), m.group(1), *target))
    for pos, _end, ex in examples:
        if ex["path"]:
            found.append((pos, ex["method"], ex["path"], ex["url"]))
    found.sort(key=lambda f: f[0])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    # endpoint lines (`## POST /x`, `POST` + `/x`, openapi tags) → the endpoints they state
    stated: dict[int, set[tuple[str, str]]] = {}
    for p, (m, pth, _u) in zip(doc.ctx_pos, doc.ctx, strict=True):
        stated.setdefault(doc.line_of(p), set()).add((m, pth))
    lines_of = set(stated)
    starts = sorted(lines_of)
    tried: set[tuple[str, str]] = set()
    for pos, method, path, url in found:
        entry = out.get((method, path))
        if entry is None and len(out) < MAX_ENDPOINTS:
            entry = out[(method, path)] = {"method": method, "path": path, "url": url, "description": None}
        elif entry is not None and entry["url"] is None:
            entry["url"] = url
        if entry is not None and entry["description"] is None and (method, path) not in tried:
            i = doc.line_of(pos)
            states_it = (method, path) in stated.get(i, ())
            if states_it or doc.lines[i][:200].lstrip(" #>*-`").startswith(method):  # named first on its line
                tried.add((method, path))
                entry["description"] = endpoint_description(doc, i, path, starts, lines_of, whole_section=states_it)
    return list(out.values())


# ---------------------------------------------------------------------------------------------
# the paragraph that documents one endpoint

_MIN_PROSE_WORDS = 6
_NOT_PROSE = re.compile(r"\s*(?:[|{}\[\]<>$`#\"'\\]|[-*+•]\s|\d+\.\s|(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b|curl\b)")
_CODE_HINTS = re.compile(r"\\\s*-[A-Za-z]|\bjson=|=>|\);|\bawait\b")
_FIELD_DEF = re.compile(r"[\w.$@-]{1,100}\s*\*?\s*\(")  # `city (string, required): …`
_HEADING_LINE = re.compile(r"\s*#{1,6}\s")
_SCAN_LINES = 40


def _prose(line: str) -> str | None:
    if re.match(r"\s*[-*+•]\s", line):
        return None
    text = plain(line).strip().lstrip(":—–- \t")
    if (len(text) > MAX_LINE or _FIELD_DEF.match(text) or _NOT_PROSE.match(text) or text.count("|") >= 2 or _CODE_HINTS.search(text)
            or len(text.split()) < _MIN_PROSE_WORDS or not text[:1].isalpha()):
        return None
    return clean_text(WHITESPACE.sub(" ", text), MAX_NOTE * 2)


def endpoint_description(doc: Doc, i: int, path: str, starts: list[int], start_set: set[int],
                         whole_section: bool = True) -> str | None:
    """The first paragraph of the section that documents the endpoint named on line `i`: prose after
    its path on the same line (`POST /v1/x Creates…`), else (for an endpoint line) the section's first
    prose paragraph: after the heading that names it, or from the section's heading (or the previous
    endpoint) down to it, else the first after it. None when there is none of _MIN_PROSE_WORDS words."""
    line = doc.lines[i] if i < len(doc.lines) else ""
    at = line.find(path)
    if at >= 0 and (rest := _prose(line[at + len(path):])):
        return rest
    if not whole_section:
        return None
    before: list[int] = []
    if not _HEADING_LINE.match(line):
        k = bisect_right(starts, i - 1) - 1
        top = max(starts[k] + 1 if k >= 0 else 0, i - _SCAN_LINES)
        for j in range(i - 1, top - 1, -1):
            if not doc.fenced[j] and _HEADING_LINE.match(doc.lines[j]):
                top = j + 1
                break
        before = list(range(top, i))
    after: list[int] = []
    for j in range(i + 1, min(len(doc.lines), i + 1 + _SCAN_LINES)):
        if j in start_set or (not doc.fenced[j] and _HEADING_LINE.match(doc.lines[j])):
            break
        after.append(j)
    for j in [*before, *after]:
        if not doc.fenced[j] and (text := _prose(doc.lines[j])):
            return text
    return None
