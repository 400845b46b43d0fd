"""The Jinja2 environment of the site and the Python helpers its templates call: prices, network
names, links (http(s) only), null reasons, pretty JSON, the parameter table of input hints and the
example request as curl. Templates live in site_templates/ (autoescape on, StrictUndefined)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape

try:  # markupsafe's C escaper, str -> str (what escape() wraps into a Markup)
    from markupsafe import _escape_inner
except ImportError:  # pragma: no cover - another markupsafe: escape() then str()
    def _escape_inner(s: str) -> str:
        return str(escape(s))

from index.catalog.categories import titles
from index.catalog.describe import agent_prompt
from index.site.lookalike import mark_scripts
from index.site.coarse import band_text
from index.site.words import STATUS_WORDS, TIER_WORDS, terms_from, tier_label
from index.protocol.networks import lookup_network
from index.probe.plan import input_part_schema
from index.paths import TEMPLATES_DIR
from index.catalog.record import SCHEMA_VERSION, UPTIME_MIN_PROBES, week_health
from index.urls import is_http_url

BUILD_VERSION = "site-5"  # bump when the builder changes what it writes for the same input


def format_usd(value: float | None) -> str:
    """$0.000001, $0.01, $1 — no float noise, no scientific notation; '—' when unknown."""
    if value is None:
        return "—"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return f"${text}"


def plain_number(value: float | int) -> str:
    """A number as digits, never in scientific notation: 5e-05 → 0.00005, 200.0 → 200."""
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def when_text(stamp: Any) -> str | None:
    """An ISO-8601 time as a person reads it: "2026-12-06 20:54 UTC" (to the minute, in UTC); None for
    no time; text that is not a time, as it is."""
    if not stamp:
        return None
    if isinstance(stamp, str) and len(stamp) == 10 and stamp[4:5] == "-":  # a day (index.site.coarse): as it is
        return stamp
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def readable_time(stamp: Any) -> Markup | None:
    """when_text in a <time datetime="…"> that keeps the machine form; None for no time, so a template
    can write `x|when or "—"`; text that is not a time is shown (escaped) as it is."""
    text = when_text(stamp)
    if text is None:
        return None
    if text == str(stamp):
        return Markup(_esc(text))
    return Markup(f'<time datetime="{_esc(str(stamp))}">{text}</time>')


def uptime_text(week: tuple[int, int, float | None, float | None]) -> str:
    """A 7-day uptime as the table shows it: a percentage from UPTIME_MIN_PROBES probes, else "< 5
    probes" (the counts are in the machine files: a page does not change with each probe), "—"
    without a probe."""
    probes, _, pct, _ = week
    if pct is not None:
        return f"{plain_number(pct)} %"
    if probes:
        return f"< {UPTIME_MIN_PROBES} probes"
    return "—"


def milliseconds(value: float | None) -> str:
    """A latency: whole milliseconds (one decimal below 10 ms); "—" when unknown."""
    if value is None:
        return "—"
    return f"{plain_number(round(value, 1) if value < 10 else round(value))} ms"


def category_title(name: str) -> str:
    """A category's title ("AI & inference" for ai); an unknown name as it is."""
    return titles().get(name, name)


def network_name(caip2: str | None) -> str:
    net = lookup_network(caip2)
    return net.name if net else str(caip2)


def escape_output(value: Any) -> Any:
    """escape() for a value a template outputs: a plain str escaped by markupsafe's C escaper, without
    wrapping it in a Markup (the pieces of a page are only ever joined); numbers as str() (digits,
    sign, point, "e", "inf", "nan": nothing to escape); Markup as it is; anything else as escape()."""
    cls = value.__class__
    if cls is str:
        return _escape_inner(value)
    if cls is int or cls is float:
        return str(value)
    if cls is Markup:
        return value
    return escape(value)


class _OutputCodeGenerator(CodeGenerator):
    """Jinja's code generator, with `{{ … }}` in an autoescaped template compiled to escape_output(…)
    instead of escape(…): the same bytes (tests/site/test_site.py renders both ways), a sixth less time
    for a resource page, whose ~150 outputs each built a Markup object only to be joined."""

    def _output_child_pre(self, node: Any, frame: Any, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.escape_output(")
            if finalize.src is not None:
                self.write(finalize.src)
        else:
            super()._output_child_pre(node, frame, finalize)


_DICT_ATTRIBUTES = frozenset(dir(dict))


class SiteEnvironment(Environment):
    code_generator_class = _OutputCodeGenerator
    escape_output = staticmethod(escape_output)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`obj.attribute` in a template. For a plain dict (the parameter rows, null reasons, hints),
        what Jinja's getattr does, without raising and catching an AttributeError first: a dict's own
        attributes (`items`, `get`) are attributes, any other name is a key."""
        if obj.__class__ is not dict or attribute in _DICT_ATTRIBUTES:
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The site's Jinja2 environment, compiled once per process (forked workers inherit it)."""
    env = SiteEnvironment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True, undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, auto_reload=False, cache_size=-1,
    )
    env.tests["http_url"] = is_http_url
    env.filters["network_name"] = network_name
    env.filters["usd"] = format_usd
    env.filters["category_title"] = category_title
    env.filters["plain_number"] = plain_number
    env.filters["pretty_json"] = pretty_json
    env.filters["tojson"] = script_json
    env.filters["day"] = lambda stamp: (stamp or "")[:10] or "—"
    env.filters["when"] = readable_time
    env.filters["when_text"] = when_text
    env.globals["agent_prompt"] = agent_prompt
    env.globals["terms_from"] = terms_from
    env.filters["tier_label"] = tier_label
    env.filters["ms"] = milliseconds
    env.filters["band"] = band_text
    env.filters["scripts"] = mark_scripts
    env.globals["week_health"] = week_health
    env.globals["uptime_text"] = uptime_text
    env.globals["uptime_min_probes"] = UPTIME_MIN_PROBES
    env.globals["status_words"] = STATUS_WORDS
    env.globals["tier_words"] = TIER_WORDS
    env.globals["param_rows"] = param_rows
    env.globals["curl"] = curl_command
    env.globals["url_link"] = url_link
    env.globals["null_or"] = null_or
    # the table macro as a global: one module for the whole build instead of an import per render
    env.globals["resource_table"] = env.get_template("_macros.html").module.resource_table
    return env


def renderer(name: str) -> Callable[..., str]:
    """A template's render(**vars), for the per-resource templates rendered 100k times a build.

    Template.render copies the template's globals (a ChainMap, read key by key in Python) into a new
    dict for every call, ~12 µs of a page's 0.35 ms; this builds the context from one plain dict of
    the same globals instead (Template.new_context with shared=True: our dict, used as it is)."""
    env = environment()
    tpl = env.get_template(name)
    base = dict(tpl.globals)
    concat = env.concat
    render_func = tpl.root_render_func
    new_context = tpl.new_context

    def render(**values: Any) -> str:
        try:
            return concat(render_func(new_context({**base, **values}, shared=True)))
        except Exception:
            return env.handle_exception()  # raises, with the template's lines in the traceback

    return render


def script_json(obj: Any) -> Markup:
    """`tojson`: compact JSON with sorted keys, safe inside <script> and in HTML text: like Jinja's own
    filter, <, >, & and ' are written as \\u escapes, so no "</script>" or markup can appear in it.
    orjson: a page's JSON-LD in a fifth of the time of json.dumps."""
    try:
        text = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # integers past 64 bits, keys that are not strings
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("'", "\\u0027"))


def pretty_json(obj: Any) -> str:
    try:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # integers past 64 bits, which orjson refuses
        return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False)


def _esc(value: Any) -> str:
    # escape() into a plain str, so f-strings render the same bytes as Markup.format at a fraction of the cost
    if value.__class__ is str:
        return _escape_inner(value)
    return str(escape(value))


def url_link(u: Any, text: Any = None) -> Markup:
    """A crawled URL is a link only when it is http(s); anything else is shown as text."""
    if is_http_url(u):
        return Markup(f'<a href="{_esc(u)}" rel="nofollow noopener noreferrer" class="ext">{_esc(text or u)}</a>')
    return Markup(f'<span class="inert-url">{_esc(u if u is not None else "—")}</span>')


def null_or(value: Any, reasons: dict[str, str], key: str) -> Markup:
    """A measured value, or — with the reason it was never measured."""
    if value is not None:
        return escape(value)
    why = reasons.get(key)
    return Markup(f'— <span class="sub">({_esc(why)})</span>') if why else Markup("—")


def fingerprint(base_url: str) -> str:
    """What every page also depends on besides its record: templates, base URL, this module, the
    category titles."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{BUILD_VERSION}\0{SCHEMA_VERSION}\0{base_url}\0".encode())
    h.update(repr(sorted(titles().items())).encode())  # rows show category titles
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(TEMPLATES_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


# what a resource page shows besides the record's own fields

_SCHEMA_KEYS = {"type", "description", "required", "enum", "format", "default", "example", "examples"}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def param_rows(hints: Any) -> list[dict[str, Any]]:
    """The input hints as table rows {where, name, type, required, description, example}.

    Bazaar hints give example values (type inferred from the value) and, when the server declared
    one, an input schema whose properties add types, descriptions, required flags and the parameters
    the example left out; v1 outputSchema hints give field descriptions ({type, description,
    required, enum} or a bare type string); MCP hints give an inputSchema. `required` is None when
    the hints do not say."""
    if hints is not None and not isinstance(hints, dict):  # a Hints model
        hints = {"source": getattr(hints, "source", None), "input": getattr(hints, "input", None),
                 "input_schema": getattr(hints, "input_schema", None)}
    if not isinstance(hints, dict):
        return []
    source = hints.get("source")
    inp = hints.get("input")
    if not isinstance(inp, dict):
        return []
    rows: list[dict[str, Any]] = []
    if inp.get("type") == "mcp":
        schema = inp.get("inputSchema") if isinstance(inp.get("inputSchema"), dict) else {}
        required = set(schema.get("required") or []) if isinstance(schema.get("required"), list) else set()
        for name, spec in list((schema.get("properties") or {}).items())[:100] if isinstance(schema.get("properties"), dict) else []:
            spec = spec if isinstance(spec, dict) else {}
            rows.append({"where": "tool", "name": str(name), "type": str(spec.get("type") or "—"),
                         "required": name in required, "description": spec.get("description"), "example": None})
        return rows
    for where, key in (("path", "pathParams"), ("query", "queryParams"), ("body", "body"), ("header", "headers")):
        values = inp.get(key)
        values = values if isinstance(values, dict) else {}
        if source == "outputSchema":
            for name, value in list(values.items())[:100]:
                if isinstance(value, dict) and set(value) <= _SCHEMA_KEYS and value:
                    rows.append({"where": where, "name": str(name), "type": str(value.get("type") or "—"),
                                 "required": value.get("required") if isinstance(value.get("required"), bool) else None,
                                 "description": value.get("description") if isinstance(value.get("description"), str) else None,
                                 "example": value.get("example")})
                elif isinstance(value, str):
                    rows.append({"where": where, "name": str(name), "type": value, "required": None,
                                 "description": None, "example": None})
                else:
                    rows.append({"where": where, "name": str(name), "type": _kind(value), "required": None,
                                 "description": None, "example": value})
            continue
        specs, required = _properties(input_part_schema(hints, key))
        for name in list(dict.fromkeys([*values, *specs]))[:100]:
            spec = specs.get(name, {})
            declared = spec.get("type") if isinstance(spec.get("type"), str) else None
            described = spec.get("description") if isinstance(spec.get("description"), str) else None
            example = values[name] if name in values else spec.get("example", spec.get("default"))
            rows.append({"where": where, "name": str(name),
                         "type": declared or (_kind(values[name]) if name in values else "—"),
                         "required": (name in required) if required is not None else None,
                         "description": described, "example": example})
    return rows


def _properties(schema: dict[str, Any] | None) -> tuple[dict[str, dict[str, Any]], set[str] | None]:
    """A declared object schema's properties ({name: spec}) and required names; (empty, None) without one."""
    if schema is None:
        return {}, None
    specs = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = schema.get("required") if isinstance(schema.get("required"), list) else []
    return ({str(k): v for k, v in specs.items() if isinstance(v, dict)},
            {str(r) for r in required if isinstance(r, str)})


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def curl_command(example: Any) -> str | None:
    """A copyable curl for the record's example request (unpaid: the answer is the 402)."""
    if example is not None and not isinstance(example, dict):  # an ExampleRequest model
        example = example.model_dump(mode="json")
    if not isinstance(example, dict) or not example.get("url"):
        return None
    method = str(example.get("method") or "GET").upper()
    parts = ["curl", "-i"]
    if method != "GET":
        parts += ["-X", _shell_quote(method)]
    body = example.get("body")
    if body is not None:
        parts += ["-H", _shell_quote(f"Content-Type: {example.get('content_type') or 'application/json'}")]
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        parts += ["--data", _shell_quote(text)]
    parts.append(_shell_quote(str(example["url"])))
    return " ".join(parts)
