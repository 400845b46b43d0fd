"""Facilitator discovery: `GET {facilitator}/discovery/resources`, paginated, read field by field.

Items come in v1, v2 and mixed shapes (x402-protocol.md §5.1): accepts with either version's field
names, `resource` as a URL or a v2 resource object, `lastUpdated` as an epoch number or an ISO string,
`type` http or mcp, the list under `items` or `resources`. `item_candidate` is also how the draft
`/.well-known/x402.json` items are read (crawler.discovery.wellknown).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crawler.discovery import (
    Candidate,
    Discovered,
    MAX_KEPT_BYTES,
    resolve_url,
    source_of,
)
from index.findings import finding
from index.protocol.networks import HTTP_METHODS
from index.protocol.hints import bounded_hints, extract_hints, normalize_bazaar_input, route_template_ok
from index.protocol.challenge import MAX_ACCEPTS
from index.protocol.normalize import normalize_accept
from index.untrusted import iso_utc, kept_value

MAX_ITEMS_PER_PAGE = 1000  # items read from one page, whatever the server sends
MAX_PAGES = 1000  # pages read from one facilitator in one crawl
MAX_OFFSET = 10_000_000
ITEM_TYPES = ("http", "mcp")


def discovery_url(facilitator: str, offset: int = 0, limit: int = 100, kind: str | None = "http") -> str:
    """The discovery page at `offset`. `kind` is the `type` filter (http | mcp); None asks for every type."""
    base = facilitator.rstrip("/")
    params: dict[str, Any] = {"type": kind} if kind else {}
    params.update(limit=limit, offset=offset)
    return f"{base}/discovery/resources?{urlencode(params)}"


# ---------------------------------------------------------------------------------------------
# one item


def _method(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().upper() in HTTP_METHODS:
        return value.strip().upper()
    return None


def _declared_method(item: dict[str, Any]) -> str | None:
    """The method an item declares: bazaar info first, then a v1 outputSchema in any accept, then the
    draft well-known item's own `input`."""
    extensions = item.get("extensions")
    bazaar = extensions.get("bazaar") if isinstance(extensions, dict) else None
    if isinstance(bazaar, dict):
        info = bazaar.get("info")
        inp = info.get("input") if isinstance(info, dict) else None
        method = _method(inp.get("method")) if isinstance(inp, dict) else None
        if method:
            return method
    accepts = item.get("accepts")
    for acc in accepts[:MAX_ACCEPTS] if isinstance(accepts, list) else []:
        if isinstance(acc, dict):
            schema = acc.get("outputSchema") or acc.get("output_schema")
            inp = schema.get("input") if isinstance(schema, dict) else None
            method = _method(inp.get("method")) if isinstance(inp, dict) else None
            if method:
                return method
    inp = item.get("input")
    return _method(inp.get("method")) if isinstance(inp, dict) else None


def _item_url(item: dict[str, Any]) -> Any:
    res = item.get("resource")
    if isinstance(res, dict):
        res = res.get("url")
    if res is None:
        res = item.get("url")
    return res


def _version(value: Any) -> int | None:
    return value if value in (1, 2) and not isinstance(value, bool) else None


def _accepts(raw: Any, version: int | None) -> list[dict[str, Any]]:
    """Declared accepts normalized as the live ones are (index.protocol.normalize.normalize_accept), as JSON dicts.
    Their conformance findings are not kept: the live 402 is what gets judged."""
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(raw[:MAX_ACCEPTS] if isinstance(raw, list) else []):
        acc = normalize_accept(entry, i, version, [])
        if acc is not None:
            ok, dumped = kept_value(acc.model_dump(), 16 * 1024)
            if ok:
                out.append(dumped)
    return out


def _draft_hints(item: dict[str, Any]) -> dict[str, Any]:
    """Hints from a draft well-known item's own `input` / `output` (bazaar info shapes)."""
    raw = item.get("input")
    inp = normalize_bazaar_input(raw)
    if inp is None:
        return {}
    output = item.get("output")
    hints: dict[str, Any] = {"source": "bazaar", "input": inp, "output": dict(output) if isinstance(output, dict) else None}
    template = raw.get("routeTemplate") if isinstance(raw, dict) else None
    if route_template_ok(template):
        hints["route_template"] = template
    ok, plain = kept_value(bounded_hints(hints, limit=MAX_KEPT_BYTES), MAX_KEPT_BYTES)
    return plain if ok and (plain.get("input") or plain.get("output")) else {}


def _kind(item: dict[str, Any], hints: dict[str, Any]) -> str | None:
    kind = item.get("type")
    if isinstance(kind, str):
        kind = kind.strip().lower()
        return kind if kind in ITEM_TYPES else None
    if kind is not None:
        return None
    inp = hints.get("input")
    return "mcp" if isinstance(inp, dict) and inp.get("type") == "mcp" else "http"


def mcp_call(tool: str, arguments: Any) -> dict[str, Any]:
    """The JSON-RPC 2.0 `tools/call` request that asks an MCP server to run one tool."""
    args = arguments if isinstance(arguments, dict) else {}
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": args}}


def item_candidate(item: Any, source: dict[str, Any], base_url: str = "",
                   default_version: int | None = None) -> Candidate | None:
    """One discovery item (facilitator or draft well-known) → a Candidate, or None when it names no
    usable URL or has a type other than http / mcp.

    `base_url` resolves relative resource URLs (a well-known page); "" requires absolute URLs
    (facilitator listings). MCP items become a POST of a JSON-RPC `tools/call` for their tool.
    """
    if not isinstance(item, dict):
        return None
    url = resolve_url(_item_url(item), base_url)
    if url is None:
        return None
    extensions = item.get("extensions") if isinstance(item.get("extensions"), dict) else {}
    raw_accepts = item.get("accepts") if isinstance(item.get("accepts"), list) else []
    # Declared hints steer the probe (method, example or schema-built body); the live 402 decides.
    hints = extract_hints(extensions, raw_accepts[:MAX_ACCEPTS]) or _draft_hints(item)
    kind = _kind(item, hints)
    if kind is None:
        return None
    version = _version(item.get("x402Version")) or default_version
    declared: dict[str, Any] = {"type": kind}
    if version:
        declared["x402_version"] = version
    accepts = _accepts(raw_accepts, version)
    if accepts:
        declared["accepts"] = accepts
    updated = iso_utc(item.get("lastUpdated", item.get("last_updated")))
    if updated:
        declared["last_updated"] = updated

    cand: Candidate = {"url": url, "method": _declared_method(item), "source": source}
    if kind == "mcp":
        inp = hints.get("input") if isinstance(hints.get("input"), dict) else {}
        tool = inp.get("toolName") if inp.get("type") == "mcp" else None
        cand["method"] = "POST"
        if isinstance(tool, str) and tool:
            declared["tool"] = tool
            ok, body = kept_value(mcp_call(tool, inp.get("example")), MAX_KEPT_BYTES)
            cand["body"] = body if ok else mcp_call(tool, {})
    if hints:
        cand["hints"] = hints
    cand["declared"] = declared
    return cand


# ---------------------------------------------------------------------------------------------
# one page


def _count(value: Any) -> int | None:
    """A non-negative integer from a JSON number or digit string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value < 10**12 else None
    if isinstance(value, float) and value.is_integer() and 0 <= value < 1e12:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12:
        return int(value.strip())
    return None


def _items(obj: dict[str, Any]) -> list[Any]:
    for key in ("items", "resources"):
        if isinstance(obj.get(key), list):
            return obj[key]
    return []


def next_offset(obj: Any, offset: int, limit: int, page: int = 0) -> int | None:
    """Where the next page starts, or None when this was the last one.

    Servers may cap the page size below what we asked for, so the step is what the server says it
    used (`pagination.limit`) and never more than the items it sent: no item is skipped. Stops when
    the next offset reaches `total`, on an empty page, after MAX_PAGES pages, and, when no total is
    given, on a page shorter than its limit.
    """
    if not isinstance(obj, dict):
        return None
    sent = len(_items(obj))
    if sent == 0 or page + 1 >= MAX_PAGES:
        return None
    pagination = obj.get("pagination") if isinstance(obj.get("pagination"), dict) else {}
    used = _count(pagination.get("limit"))
    step = min(used, sent) if used else sent
    nxt = max(0, offset) + step
    if nxt >= MAX_OFFSET:
        return None
    total = _count(pagination.get("total"))
    if total is None:
        total = _count(obj.get("total"))
    if total is not None:
        return nxt if nxt < total else None
    return nxt if sent >= (used or limit) else None


def parse_discovery_response(obj: Any, page_url: str, offset: int, limit: int,
                             page: int = 0) -> tuple[Discovered, int | None]:
    """One discovery page → (Discovered, next offset or None). `page` counts pages already read from
    this facilitator (0 for the first), for the MAX_PAGES stop."""
    found = Discovered()
    if not isinstance(obj, dict):
        return found, None
    try:
        source = source_of("facilitator", page_url)
        items = _items(obj)
        page_version = _version(obj.get("x402Version"))
        skipped = 0
        for item in items[:MAX_ITEMS_PER_PAGE]:
            cand = item_candidate(item, source, "", page_version)
            if cand is None:
                skipped += 1
            else:
                found.candidates.append(cand)
        pagination = obj.get("pagination") if isinstance(obj.get("pagination"), dict) else {}
        found.info = {"items": len(items), "skipped": skipped + max(0, len(items) - MAX_ITEMS_PER_PAGE),
                      "total": _count(pagination.get("total", obj.get("total"))),
                      "page_limit": _count(pagination.get("limit"))}
        return found, next_offset(obj, offset, limit, page)
    except Exception as exc:  # noqa: BLE001 - last resort: a hostile page must never stop the crawl
        return Discovered(findings=[finding("discovery_doc_invalid", page_url, f"internal error: {type(exc).__name__}")]), None


def parse_discovery_page(obj: Any, page_url: str, offset: int, limit: int,
                         page: int = 0) -> tuple[list[Candidate], int | None]:
    """Candidates on one page, and the next offset (None when this was the last page)."""
    found, nxt = parse_discovery_response(obj, page_url, offset, limit, page)
    return found.candidates, nxt
