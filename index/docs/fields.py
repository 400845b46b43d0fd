"""Request and response fields documented on a page: markdown/HTML tables, definition lists, and
"name (type, required): description" lines → {name, type, required, description, location}."""

from __future__ import annotations

import json
import re
from typing import Any

from index.docs.limits import MAX_FIELDS, MAX_FIELD_DESCRIPTION, MAX_LINE, MAX_ROWS_READ
from index.docs.links import WORDS
from index.docs.text import HEADING, MULTI_SPACE, Doc, candidate_lines, cue_line, plain
from index.untrusted import clean_text

_TYPE_WORDS = frozenset("string number integer int float double boolean bool object array null any file binary "
                        "enum uuid date datetime list dict map record bigint uint256 address".split())
_REQ_WORDS = frozenset({"required", "optional"})
_NAME = r"[A-Za-z_$@][\w.\-\[\]$@]{0,99}"
_NAME_OK = re.compile(_NAME)
_INLINE_FIELD = re.compile(rf"({_NAME})[ \t]*+([*?])[ \t]*+([A-Za-z|<>\[\], ]{{1,100}})")
_PAREN_FIELD = re.compile(rf"({_NAME})[ \t]*+(\*)?[ \t]*+\(([^()\n]{{1,80}})\)[ \t]*+(?:[:—–-]++[ \t]*+)?(.*)")
_TERM_FIELD = re.compile(rf"({_NAME})[ \t]*+([*?])?[ \t]*+(.{{0,120}})")
_LEADING_PAREN = re.compile(r"\(([^()\n]{1,80})\)[ \t]*+(?:[:—–-]++[ \t]*+)?")
_BULLET = re.compile(r"[-*+•][ \t]+")

# Constraint lines as docs renderers print them under a field: `Range0 <= value <= 2`, `Default1`,
# `Defaultfalse`, `Value in"a" | "b"` (label glued to its value, unlike prose such as `Maximum number…`).
_CONSTRAINT_LINE = re.compile(r"Default(?=\S)|(?:Range|Format|Example|Pattern|Length|Items|Properties|Value in|Minimum"
                              r"|Maximum|Min|Max)(?=[^\sa-z])|In:")
_REQUIRED_TEXT = re.compile(r"\(?\b(required|optional)\b\)?", re.I)
_LEADING_REQUIRED = re.compile(r"\W{0,3}(required|optional)\b", re.I)
_SEPARATOR_ROW = re.compile(r"\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_COLUMNS = {
    "name": {"field", "fields", "name", "parameter", "parameters", "param", "params", "property", "properties",
             "key", "attribute", "argument", "arguments", "arg", "option", "field name", "parameter name",
             "property name", "query parameter", "body parameter"},
    "type": {"type", "data type", "datatype", "format", "schema", "value type"},
    "required": {"required", "required?", "req", "req.", "optional", "mandatory", "required/optional"},
    "description": {"description", "desc", "details", "notes", "meaning", "purpose", "explanation", "comment",
                    "summary"},
    "in": {"in", "location", "where", "param type", "parameter type", "source"},
}
_YES = frozenset({"yes", "y", "true", "required", "✓", "✔", "✅", "x", "*", "mandatory"})
_LOCATIONS = frozenset({"query", "path", "header", "body", "cookie", "form"})


def _type_words(text: str) -> list[str]:
    return [w for w in WORDS.findall(text.lower()) if w in _TYPE_WORDS]


def _norm_type(text: str | None) -> str | None:
    if not text:
        return None
    s = _REQUIRED_TEXT.sub("", plain(text.strip()[:200]).replace("\\|", "|"))
    s = s.replace("array<>", "array").strip(" |,()")
    s = re.sub(r"\s*\|\s*", " | ", s)
    return clean_text(MULTI_SPACE.sub(" ", s), 100)


def _split_row(line: str) -> list[str]:
    s = line.strip()
    cells = _CELL_SPLIT.split(s)
    if s.startswith("|"):
        cells = cells[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        cells = cells[:-1]
    return [c.strip() for c in cells[:30]]


def _columns(header: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, cell in enumerate(header):
        label = plain(cell).strip(" *:").lower()
        for role, names in _COLUMNS.items():
            if label in names and role not in cols:
                cols[role] = i
    return cols if "name" in cols and ({"type", "description", "required"} & cols.keys()) else None


def _field_name(cell: str) -> tuple[str, bool | None] | None:
    """(name, required marker) from a name cell such as `model *`, `**id**` (required), `n?`."""
    s = plain(cell).replace("\\", "").strip()
    required: bool | None = None
    m = _REQUIRED_TEXT.search(s)
    if m:
        required = m.group(1).lower() == "required"
        s = (s[:m.start()] + s[m.end():]).strip()
    if s.endswith("*"):
        required, s = True, s[:-1].strip()
    elif s.endswith("?"):
        required, s = False, s[:-1].strip()
    parts = s.split()
    if not parts or not _NAME_OK.fullmatch(parts[0]) or any(w.lower() not in _TYPE_WORDS for w in parts[1:]):
        return None
    return parts[0], required


def _field(name: str, type_: str | None, required: bool | None, description: str | None,
           location: str | None = None) -> dict[str, Any]:
    return {
        "name": clean_text(name, 100),
        "type": _norm_type(type_),
        "required": bool(required),
        "description": clean_text(plain(description), MAX_FIELD_DESCRIPTION) if description else None,
        "in": location,
    }


def _row_field(cells: list[str], cols: dict[str, int]) -> dict[str, Any] | None:
    def cell(role: str) -> str | None:
        i = cols.get(role)
        return cells[i] if i is not None and i < len(cells) and cells[i].strip() else None

    named = _field_name(cell("name") or "")
    if named is None:
        return None
    name, required = named
    type_cell, desc = cell("type"), cell("description")
    req_cell = cell("required")
    if required is None and req_cell is not None:
        label = plain(req_cell).strip().lower()
        required = label in _YES or label.startswith(("required", "yes"))
    for text in (type_cell, desc):
        if required is None and text:
            m = _LEADING_REQUIRED.match(plain(text)) if text is desc else _REQUIRED_TEXT.search(text)
            required = m.group(1).lower() == "required" if m else None
    location = (plain(cell("in") or "").strip().lower() or None)
    return _field(name, type_cell, required, desc, location if location in _LOCATIONS else None)


_Term = tuple[str, str | None, bool | None]  # (name, type, required)


def _term_field(term: str) -> _Term | None:
    """(name, type, required) from a term such as `model (string, required)` or `model string required`."""
    m = _TERM_FIELD.fullmatch(plain(term).strip())
    if not m:
        return None
    rest = m.group(3).replace("(", " ").replace(")", " ").replace(",", " ")
    words = rest.split()
    if not words or any(not (_type_words(w) or w.lower() in _REQ_WORDS or w in "|") for w in words):
        return None
    required = True if m.group(2) == "*" else False if m.group(2) == "?" else None
    for w in words:
        if w.lower() in _REQ_WORDS:
            required = w.lower() == "required"
    type_ = " ".join(w for w in words if w.lower() not in _REQ_WORDS) or None
    if type_ is None and required is None:
        return None
    return m.group(1), type_, required


def _definition_field(term: str, definition: str, in_request: bool) -> tuple[_Term | None, str]:
    """A definition-list entry as a field: the type in the term (`model string required`) or leading
    the definition (`(string, required) The model`); a bare name counts under a request heading."""
    found = _term_field(term)
    if found:
        return found, definition
    name = plain(term).strip()
    if not _NAME_OK.fullmatch(name):
        return None, definition
    paren = _LEADING_PAREN.match(definition)
    if paren:
        found = _term_field(f"{name} ({paren.group(1)})")
        if found:
            return found, definition[paren.end():]
    return ((name, None, None) if in_request else None), definition


def _description_after(doc: Doc, i: int) -> str | None:
    """The first prose line after a field line (skipping constraint lines like `Default1`)."""
    for j in range(i + 1, min(len(doc.lines), i + 4)):
        line = doc.lines[j].strip()
        if not line:
            continue
        if doc.fenced[j] or _INLINE_FIELD.fullmatch(line) or HEADING.match(line) or cue_line(line):
            return None
        if _CONSTRAINT_LINE.match(line):
            continue
        return line
    return None


_RANGE = re.compile(r"Range\s*(?:(-?\d+(?:\.\d+)?)\s*<=?\s*)?value(?:\s*<=?\s*(-?\d+(?:\.\d+)?))?")
_ENUM_ITEM = re.compile(r'"([^"\n]{1,100})"')


def _scalar(text: str) -> Any:
    """A constraint value as the page prints it: a JSON scalar when it reads as one, else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str | int | float | bool) or value is None else text


def constraints_after(doc: Doc, i: int) -> dict[str, Any]:
    """{default, minimum, maximum, enum} from the constraint lines a docs renderer prints under the field
    on line i (`Range0 <= value <= 2`, `Default1`, `Value in"a" | "b"`), where the page gives them."""
    out: dict[str, Any] = {}
    for j in range(i + 1, min(len(doc.lines), i + 6)):
        line = doc.lines[j].strip()
        if not line or doc.fenced[j]:
            continue
        if _INLINE_FIELD.fullmatch(line) or HEADING.match(line):
            break
        if not _CONSTRAINT_LINE.match(line) or len(line) > 300:
            continue
        if line.startswith("Default"):
            out["default"] = _scalar(line[len("Default"):].strip())
        elif line.startswith("Range") and (m := _RANGE.match(line)):
            for key, value in (("minimum", m.group(1)), ("maximum", m.group(2))):
                if value is not None:
                    out[key] = _scalar(value)
        elif line.startswith("Value in"):
            items = _ENUM_ITEM.findall(line)[:50]
            if items:
                out["enum"] = items
    return out


_TYPE_ALT = "|".join(sorted(_TYPE_WORDS))
_FIELD_LINES = re.compile(
    r"\n[ \t]*+(?:"
    r"\|?[ \t]*+[*_`]*+(?:(?:query|body|path|header|field|parameter|property)[ \t]++)?"
    r"(?:field|name|param|parameter|property|key|attribute|argument|arg|option)s?(?:[ \t]++name)?[*_` \t:]*+\|"
    r"|[-*+•][ \t]++[*_`]*+[A-Za-z_$@][\w.\-\[\]$@]{0,99}+[*_`]*+[ \t]*+\*?[ \t]*+\("
    r"|:[ \t]"
    r"|[*_`]*+[A-Za-z_$@][\w.\-\[\]$@]{0,99}+[*_`]*+[ \t]*+[*?]?[ \t]*+[(|]?[ \t]*+(?:" + _TYPE_ALT + r")\b"
    r")", re.I)


def find_fields(doc: Doc) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Request fields and response fields, each tagged with the endpoint it documents.

    Read from pipe tables (HTML tables arrive rendered as such), `name*type` lines followed by a
    description, `- name (type, required): …` bullets, definition lists, and `name type [required]`
    lines under a request heading.
    """
    request: list[dict[str, Any]] = []
    response: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()

    def add(field: dict[str, Any] | None, i: int) -> None:
        if field is None or not field["name"]:
            return
        method, path = doc.context_at(doc.starts[i])
        field["path"], field["method"] = path, method
        target = response if doc.section[i] == "response" else request
        key = (target is response, field["name"], path, method)
        if key not in seen and len(target) < MAX_FIELDS:
            seen.add(key)
            target.append(field)

    lines, n = doc.lines, len(doc.lines)
    consumed = -1  # last line already read (a table's rows, a definition)
    rows_read = 0
    for i in candidate_lines(doc, _FIELD_LINES):
        if i <= consumed:
            continue
        line = lines[i].strip()
        if line.startswith(":"):  # a definition whose term line was no candidate
            t = next((j for j in range(i - 1, max(consumed, i - 3), -1) if lines[j].strip()), None)
            if t is not None and not doc.fenced[t]:
                term, definition = _definition_field(lines[t].strip(), line[1:].strip(), doc.section[t] == "request")
                if term:
                    add(_field(term[0], term[1], term[2], definition), t)
            consumed = i
            continue
        if "|" in line:
            cols = _columns(_split_row(line))
            if cols:
                j = i + 1
                while j < n and rows_read < MAX_ROWS_READ and not doc.fenced[j] and len(lines[j]) <= MAX_LINE:
                    if not lines[j].strip():  # a table whose rows were paragraphs (<p> per row): blank lines between
                        k = doc.next_line(j, 2)
                        if k is None or doc.fenced[k] or "|" not in lines[k]:
                            break
                        j = k
                        continue
                    if "|" not in lines[j]:
                        break
                    if not _SEPARATOR_ROW.fullmatch(lines[j].strip()):
                        add(_row_field(_split_row(lines[j]), cols), j)
                    rows_read += 1
                    j += 1
                consumed = j - 1
                continue
        nxt = doc.next_line(i, 2)
        if nxt is not None and lines[nxt].lstrip().startswith(": "):  # a definition list
            term, definition = _definition_field(line, lines[nxt].lstrip()[2:], doc.section[i] == "request")
            if term:
                add(_field(term[0], term[1], term[2], definition), i)
            consumed = nxt
            continue
        m = _INLINE_FIELD.fullmatch(line)
        if m and _type_words(m.group(3)):
            add({**_field(m.group(1), m.group(3), m.group(2) == "*", _description_after(doc, i)),
                 **constraints_after(doc, i)}, i)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            pm = _PAREN_FIELD.fullmatch(plain(line[bullet.end():]).strip())
            if pm and (_type_words(pm.group(3)) or _REQUIRED_TEXT.search(pm.group(3))):
                req = _REQUIRED_TEXT.search(pm.group(3))
                required = True if pm.group(2) else (req.group(1).lower() == "required") if req else None
                add(_field(pm.group(1), pm.group(3), required, pm.group(4) or None), i)
            continue
        if doc.section[i] == "request":
            term = _term_field(line)
            if term and term[1]:
                add(_field(term[0], term[1], term[2], _description_after(doc, i)), i)
    return request, response
