"""Docs text: decoding, HTML rendered to markdown-like text, and the line/section model every reader uses.

HTML is first rendered to text (headings as `#`, <pre> as fenced blocks, <table> rows as pipe rows,
<li> as `- `, <dd> as `: `), so one text reader serves every kind of page. `Doc` splits that text
into lines once and knows, per line, its fence, its heading level, the endpoint a heading or line
names ("POST /v1/chat"), and whether it is a request or a response section. Linear-time regexes only.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from w3lib.encoding import html_to_unicode

from index.docs.limits import MAX_CANDIDATES, MAX_LINE, MAX_PATH, MAX_TEXT_CHARS
from index.protocol.networks import HTTP_METHODS as METHODS
from index.untrusted import clean_text
from index.urls import MAX_URL, is_http_url

# ---------------------------------------------------------------------------------------------
# decoding and inline markdown

WHITESPACE = re.compile(r"\s+")
MULTI_SPACE = re.compile(r" {2,}")

# Brackets excluded inside both parts, so scans from different `[` never overlap (linear on `[[[[`).
MD_LINK = re.compile(r"!?\[([^\[\]\n]{0,300})\]\(([^()\[\]\s]{0,1000})(?:[ \t]+\"[^\"\n]{0,200}\")?\)")


def plain(text: str) -> str:
    """Inline markdown made plain: links become their text; bold markers and backticks go."""
    return MD_LINK.sub(r"\1", text).replace("**", "").replace("`", "")


def decode(body: bytes | str, content_type: str | None) -> str:
    if isinstance(body, str):
        return body
    try:
        return html_to_unicode(content_type if isinstance(content_type, str) else None, body)[1]
    except Exception:  # noqa: BLE001 - w3lib on a hostile header or body; fall back to UTF-8
        return body.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# HTML to markdown-like text

_SKIP_TAGS = frozenset("script style noscript template svg head iframe object canvas math select button".split())
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center details dialog div dl dt fieldset figcaption "
    "figure footer form header hgroup hr legend li main nav ol p section summary ul".split()
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACED_INLINE = frozenset({"span", "code", "kbd", "samp", "var", "label", "small", "sup", "sub"})
_MAX_TABLE_ROWS = 500


def _hidden(el: Any) -> bool:
    style = (el.get("style") or "").replace(" ", "").lower()
    return el.get("hidden") is not None or el.get("aria-hidden") == "true" or "display:none" in style


def _cell_text(cell: Any) -> str:
    if cell.find(".//table") is not None:
        return ""  # a nested table is rendered by its own rows
    return WHITESPACE.sub(" ", cell.text_content()[:MAX_LINE]).strip().replace("|", "\\|")


def _table_text(table: Any) -> str:
    rows: list[str] = []
    for tr in table.iter("tr"):
        cells = [_cell_text(c) for c in tr if isinstance(c.tag, str) and c.tag.lower() in ("td", "th")][:20]
        if not cells:
            continue
        rows.append("| " + " | ".join(cells) + " |")
        if len(rows) == 1:
            rows.append("|" + "---|" * len(cells))
        if len(rows) >= _MAX_TABLE_ROWS:
            break
    return "\n".join(rows)


def _pre_text(pre: Any) -> str:
    """A <pre>'s text with its lines: highlighters end lines with <br> or wrap each in a <div>."""
    for el in pre.iter():
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if el is not pre and (tag == "br" or (tag in ("div", "p") and not (el.tail or "").startswith("\n"))):
            el.tail = "\n" + (el.tail or "")
    return pre.text_content()


def render_html(root: Any) -> str:
    """Visible text of a parsed page as markdown-like lines (no scripts, styles or hidden parts)."""
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)  # keeps their tails
    out: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if event == "start":
            if not tag or tag in _SKIP_TAGS or _hidden(el):
                walker.skip_subtree()
                continue
            if tag == "pre":
                out.append("\n```\n" + _pre_text(el).strip("\n") + "\n```\n")
                walker.skip_subtree()
                continue
            if tag == "table":
                out.append("\n" + _table_text(el) + "\n")
                walker.skip_subtree()
                continue
            if tag in _HEADINGS:
                out.append("\n\n" + "#" * _HEADINGS[tag] + " ")
            elif tag == "li":
                out.append("\n- ")
            elif tag == "dd":
                out.append("\n: ")
            elif tag == "br":
                out.append("\n")
            elif tag in _BLOCK_TAGS:
                out.append("\n")
            elif tag in _SPACED_INLINE:
                out.append(" ")
            if el.text:
                out.append(WHITESPACE.sub(" ", el.text))
        else:
            if tag and tag not in _SKIP_TAGS:
                if tag in _HEADINGS or tag in _BLOCK_TAGS or tag in ("pre", "table", "dd"):
                    out.append("\n")
                elif tag in _SPACED_INLINE:
                    out.append(" ")
            if el.tail:
                out.append(WHITESPACE.sub(" ", el.tail))
    lines: list[str] = []
    fenced = False
    for line in "".join(out).split("\n"):
        if line.strip().startswith("```"):
            fenced = not fenced
            lines.append(line.strip())
        else:
            lines.append(line.rstrip() if fenced else MULTI_SPACE.sub(" ", line).strip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")[:MAX_TEXT_CHARS]


# ---------------------------------------------------------------------------------------------
# the text model: lines, fences, headings, sections, endpoint context

_FENCE = re.compile(r"\s{0,3}(```|~~~)\s*([\w+#.-]{0,30})")
HEADING = re.compile(r"(#{1,6})[ \t]+")
_LEAD_DECOR = re.compile(r"[\s#>*+\-`]*")
_LABEL = re.compile(r"(?:endpoint|url|request|route|path|http request)\s*:\s*", re.I)
_ENDPOINT_AT = re.compile(r"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)(?:[ \t]+|(?=/))"
                          r"(https?://[^\s\"'`()\[\]|]+|/[^\s\"'`()\[\]|]*)")
_PATH_LINE = re.compile(r"https?://\S+|/\S*")
PATH_OK = re.compile(r"/[A-Za-z0-9_\-./{}:~%@+,;=*$!<>]*")
_GLUED = re.compile(r"[a-z0-9}][A-Z][A-Za-z]")
_OPENAPI_TAG = re.compile(r"\{%\s*openapi\b([^%\n]{0,1000})%\}", re.I)
_TAG_ATTR = re.compile(r"\b(path|method)\s*=\s*\"([^\"\n]{1,300})\"", re.I)
_RESPONSE_CUE = re.compile(r"\b(?:respon\w*|returns?|output|results?)\b", re.I)
_REQUEST_CUE = re.compile(r"\b(?:request\w*|param\w*|arguments?|body|payload|inputs?|query)\b", re.I)
_CUE_LINE = re.compile(
    r"(?:(?:example|sample|successful|success|error|streaming|query|path|body|header|form)\s+)?"
    r"(request|response|responses|returns|parameters|params|arguments|body|payload|input|output|result)s?\b"
    r"(?:\s+[\w-]+)?\s*:?", re.I)
_RESPONSE_WORDS = ("response", "responses", "returns", "output", "result")


def endpoint_target(token: str, rest: str) -> tuple[str, str | None] | None:
    """(path, absolute URL or None) from the token after a method; None if it is not a path.

    Text extracted from a rendered page can glue the path to the next words
    (`/v1/chat/completionsOpenAI-compatible …`): when words follow on the line, a lower-to-upper
    case change in the last segment ends the path.
    """
    token = token.rstrip(".,;:!?*'\")")
    url: str | None = None
    if token.lower().startswith(("http://", "https://")):
        if not is_http_url(token) or len(token) > MAX_URL:
            return None
        try:
            path = urlsplit(token).path or "/"
        except ValueError:
            return None
        url = token
    else:
        path = token.split("?", 1)[0].split("#", 1)[0]
    head, _, last = path.rpartition("/")
    glued = _GLUED.search(last) if rest.strip() else None
    if glued:
        cut = head + "/" + last[:glued.start() + 1]
        url = url[:url.index(path)] + cut if url and path in url else url
        path = cut
    if len(path) > MAX_PATH or not PATH_OK.fullmatch(path):
        return None
    return path, (clean_text(url, MAX_URL) if url else None)


def _line_endpoint(line: str) -> tuple[str, str, str | None] | None:
    """(method, path, url) when a line opens with `METHOD /path` (or `METHOD https://…`)."""
    if line.startswith("|"):
        return None
    s = _LEAD_DECOR.sub("", line, count=1).replace("**", "").replace("`", "")
    label = _LABEL.match(s)
    if label:
        s = s[label.end():]
    m = _ENDPOINT_AT.match(s)
    if not m:
        return None
    target = endpoint_target(m.group(2), s[m.end():])
    return (m.group(1), *target) if target else None


def _heading_cue(text: str) -> str | None:
    if _RESPONSE_CUE.search(text):
        return "response"
    if _REQUEST_CUE.search(text):
        return "request"
    return None


def cue_line(line: str) -> str | None:
    """'request' / 'response' for a short label line such as `Request Body` or `Returns`."""
    if len(line) > 40 or len(line.split()) > 4:
        return None
    m = _CUE_LINE.fullmatch(line)
    if not m:
        return None
    return "response" if m.group(1).lower() in _RESPONSE_WORDS else "request"


# Whole-text regexes that find the few lines worth a closer look, so per-line Python work is spent
# on candidates only (a megabyte of short lines costs one C-speed pass per pattern). They run over
# "\n" + text and start with a literal "\n" rather than ^ and MULTILINE, which lets the regex
# engine skip ahead to newlines instead of trying every position.
_FENCE_LINES = re.compile(r"\n[ \t]{0,3}(?:```|~~~)")
_EVENT_LINES = re.compile(
    r"\n[ \t]*+(?:#{1,6}[ \t]"
    r"|[#>*+\-`_ \t]*+(?:(?:endpoint|url|request|route|path|http request)[ \t]*+:[ \t]*+)?"
    r"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\b"
    r"|[*_`]*+(?:(?:example|sample|successful|success|error|streaming|query|path|body|header|form)[ \t]++)?"
    r"(?:request|response|returns|parameters|params|arguments|body|payload|input|output|result)"
    r"|[^\n]{0,200}\{%[ \t]*openapi\b)", re.I)


def candidate_lines(doc: Doc, pattern: re.Pattern[str], limit: int = MAX_CANDIDATES,
                    text: str | None = None) -> list[int]:
    """Sorted indices of unfenced lines (not over MAX_LINE) where `pattern` matches in doc.text_nl
    (or `text`, a same-length transform of it), at most `limit`."""
    out: list[int] = []
    last = -1
    for m in pattern.finditer(doc.text_nl if text is None else text):
        i = doc.line_of(m.start())  # text_nl[k] is the newline before text[k]
        if i != last and not doc.fenced[i] and len(doc.lines[i]) <= MAX_LINE:
            out.append(i)
            last = i
            if len(out) >= limit:
                break
    return out


class Doc:
    """A page's text as lines, each with what it sits under: code fence, heading, section, endpoint."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.text_nl = "\n" + text
        self.lines = text.split("\n")
        self.starts: list[int] = list(accumulate((len(line) + 1 for line in self.lines[:-1]), initial=0))
        n = len(self.lines)
        self.fenced = [False] * n
        self.fences: list[tuple[int, int, str]] = []  # (opening line, closing line, language)
        self.section: list[str | None] = [None] * n  # 'request' | 'response' | None
        self.heading: list[str | None] = [None] * n  # nearest heading or label line
        self.ctx_pos: list[int] = []
        self.ctx: list[tuple[str, str, str | None]] = []  # (method, path, url), by position
        self.h1: str | None = None
        self.h1_line: int | None = None
        self._find_fences()
        self._walk()

    def _find_fences(self) -> None:
        opened: tuple[int, str] | None = None
        for count, m in enumerate(_FENCE_LINES.finditer(self.text_nl)):
            if count >= 2 * MAX_CANDIDATES:
                break
            i = self.line_of(m.start())
            line = self.lines[i]
            if opened is None:
                lang = _FENCE.match(line) if len(line) <= 200 else None
                opened = (i, lang.group(2).lower() if lang else "")
            elif not line.strip().strip("`~"):
                self.fences.append((opened[0], i, opened[1]))
                self.fenced[opened[0]:i + 1] = [True] * (i + 1 - opened[0])
                opened = None
        if opened is not None:
            self.fences.append((opened[0], len(self.lines), opened[1]))
            self.fenced[opened[0]:] = [True] * (len(self.lines) - opened[0])

    def _event(self, i: int, line: str) -> tuple[tuple[str, str, str | None] | None, tuple[int, str] | None,
                                                  str | None]:
        """(endpoint, markdown heading (level, text), label cue) that line i states, if any."""
        endpoint = _line_endpoint(line)
        bare = _LEAD_DECOR.sub("", line, count=1).replace("`", "").replace("*", "").strip()
        if endpoint is None and bare in METHODS:  # a method alone, its path on the next line
            j = self.next_line(i, 2)
            if j is not None and not self.fenced[j]:
                path = _LEAD_DECOR.sub("", self.lines[j].strip(), count=1).replace("`", "")
                target = endpoint_target(path, "") if _PATH_LINE.fullmatch(path) else None
                endpoint = (bare, *target) if target else None
        tag = _OPENAPI_TAG.search(line) if endpoint is None and "{%" in line else None
        if tag:
            attrs = {k.lower(): v for k, v in _TAG_ATTR.findall(tag.group(1))}
            target = endpoint_target(attrs.get("path", ""), "")
            method = attrs.get("method", "").upper()
            endpoint = (method, *target) if target and method in METHODS else None
        h = HEADING.match(line)
        if h:
            return endpoint, (len(h.group(1)), plain(line[h.end():]).strip().rstrip("#").strip()), None
        return endpoint, None, cue_line(plain(line))

    def _walk(self) -> None:
        """Section, heading and endpoint context of every line, set at the candidate lines that change them."""
        stack: list[tuple[int, str | None, str]] = []  # markdown headings: (level, cue, text)
        flat: str | None = None  # cue of the last label line; "" after an endpoint line (no section)
        flat_text: str | None = None
        events = candidate_lines(self, _EVENT_LINES)
        for k, i in enumerate(events):
            endpoint, heading, cue = self._event(i, self.lines[i].strip())
            if heading:
                level, text = heading
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, _heading_cue(text), text))
                flat, flat_text = None, None
                if level == 1 and self.h1 is None and text:
                    self.h1, self.h1_line = text, i
            elif cue:
                flat, flat_text = cue, self.lines[i].strip()
            if endpoint:
                self.ctx_pos.append(self.starts[i])
                self.ctx.append(endpoint)
                flat, flat_text = "", None
            if flat is not None:
                section = flat or None
            else:
                section = next((c for _, c, _ in reversed(stack) if c), None)
            heading_text = flat_text or (stack[-1][2] if stack else None)
            end = events[k + 1] if k + 1 < len(events) else len(self.lines)
            self.section[i:end] = [section] * (end - i)
            self.heading[i:end] = [heading_text] * (end - i)

    def line_of(self, pos: int) -> int:
        return max(0, bisect_right(self.starts, pos) - 1)

    def context_at(self, pos: int) -> tuple[str | None, str | None]:
        """(method, path) of the nearest endpoint line at or before `pos`."""
        i = bisect_right(self.ctx_pos, pos) - 1
        return (self.ctx[i][0], self.ctx[i][1]) if i >= 0 else (None, None)

    def next_line(self, i: int, within: int = 3) -> int | None:
        """Index of the next non-blank line after i (not further than `within` lines)."""
        for j in range(i + 1, min(len(self.lines), i + 1 + within)):
            if self.lines[j].strip():
                return j
        return None
