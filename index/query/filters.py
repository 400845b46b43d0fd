"""Query a published build: index.json (and catalog.jsonl beside it), local or remote. The CLI's
`query` and the MCP server's `search_resources` / `get_resource` are these functions.

Entries are index.json's per-resource objects. Since schema 1.2.0 they hold every field a filter or
sort reads (tags, verified, last_verified), so a query reads index.json alone: at 100k resources
63 MB, against the 500 MB of catalog.jsonl. For an older build's index.json, a query that needs
those fields reads catalog.jsonl as well (`details`), merged into the entries by slug. `trust_tier`
is read when a build publishes it (entries without it count as "unknown"); `verified` from an entry
when present, else from its accepts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from index.protocol.networks import to_caip2
from index.site.queryindex import QUERY_FILE, SORTS, search_text, sort_order, verified_of

# A published index.json is ~630 bytes a resource (63 MB at 100k): room for 400k, and a bound on what a
# hostile or broken server can make us hold (checked while the body arrives, not after).
MAX_REMOTE_BYTES = 256 * 1024 * 1024
UNKNOWN_TIER = "unknown"
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,200}")


@dataclass(frozen=True)
class Query:
    """Filters (all must match), a sort, and a limit."""

    q: str | None = None  # words that must all appear in title, summary, description, tags, URL, category, origin
    category: str | None = None
    network: str | None = None  # CAIP-2 or v1 name
    max_price: float | None = None  # USD; unknown prices never match
    status: str | None = None  # latest probe outcome, e.g. paid
    method: str | None = None
    trust_tier: str | None = None  # e.g. verified, conformant, indexed_external; "unknown" for entries without one
    verified_only: bool = False  # at least one accept proven by a test-buy
    min_uptime: float | None = None  # % of the last 7 days' probes answered; unknown uptimes never match
    sort: str | None = None  # price | name | last_verified | uptime | latency
    limit: int | None = None

    @property
    def needs_details(self) -> bool:
        """Whether an index.json without DETAIL_FIELDS (a build before schema 1.2.0) must be completed
        from catalog.jsonl for this query."""
        return bool(self.q) or self.verified_only or self.sort == "last_verified"


DETAIL_FIELDS = ("tags", "verified", "last_verified")  # in index.json entries since schema 1.2.0


class QueryError(ValueError):
    """A query that cannot be answered, said in one line: a filter value that names nothing (code 2,
    the message lists the valid ones), an index that cannot be read or is not an index (code 1)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def check_query(query: Query) -> None:
    """QueryError for a category or trust tier that no build can hold."""
    if query.category:  # the taxonomy is read only when a query names a category (a cold call's time)
        from index.catalog.categories import FALLBACK, categories

        names = [c.name for c in categories()] + [FALLBACK]
        if query.category.lower() not in names:
            raise QueryError(f"unknown category {query.category!r}; one of: {', '.join(dict.fromkeys(names))}", code=2)
    if query.trust_tier:
        from index.catalog.trust import TIERS

        tiers = [*TIERS, UNKNOWN_TIER]
        if query.trust_tier.lower() not in tiers:
            raise QueryError(f"unknown trust tier {query.trust_tier!r}; one of: {', '.join(tiers)}", code=2)


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _fetch(url: str) -> str:
    import httpx

    try:
        with httpx.Client(timeout=30, follow_redirects=True, verify=True) as client:
            with client.stream("GET", url, headers={"Accept": "application/json"}) as resp:
                resp.raise_for_status()
                body = bytearray()
                for chunk in resp.iter_bytes():  # decoded (gzip…) bytes: the cap holds after decompression
                    body += chunk
                    if len(body) > MAX_REMOTE_BYTES:
                        raise ValueError(f"{url}: larger than {MAX_REMOTE_BYTES} bytes")
                return body.decode(resp.encoding or "utf-8")
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            raise  # get_record reads a remote 404 as "absent"
        raise QueryError(f"cannot read {url}: HTTP {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise QueryError(f"cannot read {url}: {type(exc).__name__}: {exc or 'no answer'}") from None


def _locate(location: str | Path) -> tuple[str, bool]:
    """(index.json or catalog.jsonl location, is_remote) for a build folder, a file, or their URL."""
    loc = str(location)
    if _is_url(loc):
        return (loc + "index.json" if loc.endswith("/") else loc), True
    path = Path(loc)
    if path.is_dir():
        path = path / "index.json"
    if not path.exists():
        raise FileNotFoundError(f"no index at {path} (run `x402-index build` first)")
    return str(path), False


def _read(loc: str, remote: bool) -> str:
    return _fetch(loc) if remote else Path(loc).read_text(encoding="utf-8")


def _sibling(loc: str, remote: bool, name: str) -> str:
    return urljoin(loc, name) if remote else str(Path(loc).parent / name)


def record_entry(obj: dict[str, Any]) -> dict[str, Any]:
    """An index entry (as index.json holds it) for one catalog record, with the details index.json
    leaves out: tags, trust tier, verification, and a compact view of the accepts. Fields this code
    does not know (a newer build's) are carried, never refused."""
    from index.catalog.record import IndexEntry

    origin = obj.get("origin") if isinstance(obj.get("origin"), dict) else {}
    slug = obj.get("slug")
    entry = {name: obj.get(name) for name in IndexEntry.model_fields if name not in ("origin", "href", "page")}
    entry.pop("trust_tier", None)
    entry.update({"origin": origin.get("host"), "href": f"r/{slug}.json", "page": f"r/{slug}.html"})
    accepts = [a for a in obj.get("accepts") or [] if isinstance(a, dict)]
    verified_at = [str(a["verified_at"]) for a in accepts if a.get("verified") and a.get("verified_at")]
    entry.update({
        "tags": list(obj.get("tags") or []),
        "accepts": [{k: a.get(k) for k in ("network_caip2", "asset_symbol", "amount", "price_usd", "pay_to", "verified",
                                           "verified_at")} for a in accepts],
        "verified": any(a.get("verified") for a in accepts),
        "last_verified": max(verified_at) if verified_at else None,
    })
    if "trust_tier" in obj:
        entry["trust_tier"] = obj["trust_tier"]
    return entry


def _not_an_index(loc: str) -> QueryError:
    return QueryError(f"{loc} is not an x402-index build (a build folder, index.json or catalog.jsonl)")


def _jsonl_entries(text: str, loc: str = "catalog.jsonl") -> list[dict[str, Any]]:
    try:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except ValueError:
        raise _not_an_index(loc) from None
    if not all(isinstance(r, dict) for r in rows):
        raise _not_an_index(loc)
    return [record_entry(r) for r in rows]


def load_entries(location: str | Path, details: bool = False) -> list[dict[str, Any]]:
    """Index entries from a build folder, an index.json / catalog.jsonl file, or their URL. With
    `details`, a build's catalog.jsonl is read too and merged in (see `record_entry`)."""
    loc, remote = _locate(location)
    try:
        text = _read(loc, remote)
    except UnicodeDecodeError:
        raise _not_an_index(loc) from None
    except Exception as exc:  # noqa: BLE001 - a remote 404 at this point: no index there
        if getattr(getattr(exc, "response", None), "status_code", None) == 404:
            raise QueryError(f"cannot read {loc}: HTTP 404 (no index there)") from None
        raise
    if loc.endswith(".jsonl"):
        return _jsonl_entries(text, loc)
    try:
        data = json.loads(text)
    except ValueError:
        raise _not_an_index(loc) from None
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise _not_an_index(loc)
    entries: list[dict[str, Any]] = data["resources"]
    if details:
        try:
            full = {e["slug"]: e for e in _jsonl_entries(_read(_sibling(loc, remote, "catalog.jsonl"), remote))}
        except Exception:  # noqa: BLE001 - details are optional: a build without catalog.jsonl still answers
            full = {}
        if full:
            entries = [{**full.get(e.get("slug"), {}), **e} for e in entries]
    return entries


def filter_entries(entries: list[dict[str, Any]], q: str | None = None, category: str | None = None,
                   network: str | None = None, max_price: float | None = None, status: str | None = None,
                   method: str | None = None, trust_tier: str | None = None, verified_only: bool = False,
                   min_uptime: float | None = None) -> list[dict[str, Any]]:
    """Entries matching every given filter. `network` takes CAIP-2 or a v1 name; `max_price` is USD
    and excludes entries whose price in USD is unknown; `trust_tier` "unknown" matches entries that
    carry none. `verified_only` needs verification data (catalog.jsonl details or a `verified` field).
    `min_uptime` is a percentage of the 7-day window's probes; entries with too few probes never match."""
    words = [w for w in (q or "").lower().split() if w]
    wanted_net = to_caip2(network) if network else None
    if network and wanted_net is None:
        raise ValueError(f"unknown network {network!r}")
    tier = trust_tier.lower() if trust_tier else None
    out = []
    for e in entries:
        if words:
            text = search_text(e)
            if not all(w in text for w in words):
                continue
        if category and e.get("category") != category.lower():
            continue
        if wanted_net and wanted_net not in (e.get("networks") or []):
            continue
        if max_price is not None and (e.get("price_usd") is None or e["price_usd"] > max_price):
            continue
        if status and e.get("status") != status.lower():
            continue
        if method and str(e.get("method") or "").upper() != method.upper():
            continue
        if tier and str(e.get("trust_tier") or UNKNOWN_TIER).lower() != tier:
            continue
        if min_uptime is not None and (e.get("uptime_7d_pct") is None or e["uptime_7d_pct"] < min_uptime):
            continue
        if verified_only:
            verified = verified_of(e)
            if verified is None:
                raise ValueError("this index says nothing about verification: --verified needs the build's catalog.jsonl")
            if not verified:
                continue
        out.append(e)
    return out


def sort_entries(entries: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    """`entries` in a sort's order (index.site.queryindex.sort_order); unsorted: as given."""
    if not sort:
        return list(entries)
    return [entries[i] for i in sort_order(entries, sort)]


def _query_index(location: str | Path) -> Any:
    """The open index.sqlite of a build (index.query.sqlindex), local or a cached copy of a remote one;
    None for a build without one (older builds), an unreadable one, or a catalog.jsonl."""
    from index.query.sqlindex import NotAQueryIndex, open_index

    loc = str(location)
    if _is_url(loc):
        if not (loc.endswith("/") or loc.endswith("/index.json")):
            return None
        from index.query.remote import cached_file

        path = cached_file(urljoin(loc, QUERY_FILE))
    else:
        path = Path(loc)
        path = path / QUERY_FILE if path.is_dir() else path.parent / QUERY_FILE if path.name == "index.json" else None
        if path is None or not path.is_file():
            return None
    if path is None:
        return None
    try:
        return open_index(path)
    except NotAQueryIndex:
        return None


def search(location: str | Path, query: Query) -> list[dict[str, Any]]:
    """Load, filter, sort and cut: what `x402-index query` prints and `search_resources` returns."""
    if query.limit is not None and query.limit < 0:
        raise ValueError("limit must be 0 or more")
    check_query(query)
    if query.sort is not None and query.sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {query.sort!r}")
    index = _query_index(location)
    if index is not None:  # the build's index.sqlite: no index.json parsed
        wanted_net = to_caip2(query.network) if query.network else None
        if query.network and wanted_net is None:
            raise ValueError(f"unknown network {query.network!r}")
        return index.search([w for w in (query.q or "").lower().split() if w],
                            category=query.category.lower() if query.category else None, network=wanted_net,
                            max_price=query.max_price, status=query.status.lower() if query.status else None,
                            method=query.method.upper() if query.method else None,
                            trust_tier=query.trust_tier.lower() if query.trust_tier else None,
                            verified_only=query.verified_only, min_uptime=query.min_uptime, sort=query.sort,
                            limit=query.limit)
    entries = load_entries(location)
    if query.needs_details and entries and any(f not in entries[0] for f in DETAIL_FIELDS):
        entries = load_entries(location, details=True)  # an older build: its catalog.jsonl has them
    rows = filter_entries(entries, q=query.q, category=query.category, network=query.network, max_price=query.max_price,
                          status=query.status, method=query.method, trust_tier=query.trust_tier,
                          verified_only=query.verified_only, min_uptime=query.min_uptime)
    rows = sort_entries(rows, query.sort)
    return rows[:query.limit] if query.limit is not None else rows


def get_record(location: str | Path, slug: str) -> dict[str, Any] | None:
    """One full catalog record by slug (its JSON twin r/<slug>.json, or its catalog.jsonl line); None if absent."""
    if not _SLUG.fullmatch(slug):
        raise ValueError(f"not a slug: {slug!r}")
    loc, remote = _locate(location)
    if loc.endswith(".jsonl"):
        for line in _read(loc, remote).splitlines():
            if line.strip() and json.loads(line).get("slug") == slug:
                return json.loads(line)
        return None
    twin = _sibling(loc, remote, f"r/{slug}.json")
    try:
        return json.loads(_read(twin, remote))
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a remote 404 is "absent", anything else is an error
        if getattr(getattr(exc, "response", None), "status_code", None) == 404:
            return None
        raise
