"""Origin-level discovery for the probe spider: what an origin says about itself.

For every origin the crawl meets (an origin seed, or the origin of any candidate) we read, once:
`/.well-known/x402` and its draft twin, `/openapi.json|yaml`, `/llms.txt`, the homepage, and up to
`X402_DOCS_PAGES` docs pages those point at. Each file becomes a `page` item (`page_item`, stored per
origin for the normalizer) and its listed endpoints become candidates, confirmed by a live probe like
any other.
Parsing is pure and lives in crawler.discovery and index.docs.page; this mixin only moves data.

robots.txt: obeyed for HTML, OpenAPI and llms.txt; not consulted for `/.well-known/x402`, which
exists to be read by x402 clients.

DNS: when the origin's `/.well-known/x402` answers (whatever its status), its host's `_x402` TXT
records are looked up (crawler/discovery/dns.py, in a thread: the reactor never waits on DNS) and
every manifest URL they point at is read as a well-known document; a pointer on a new origin starts
that origin's discovery too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from crawler import stats
from crawler.discovery import Candidate, Discovered, resolve_url
from crawler.discovery.dns import discover_domain
from crawler.discovery.llms import LLMS_PATH, parse_llms_txt
from crawler.discovery.llms import MAX_LINKS as LLMS_MAX_LINKS
from crawler.discovery.openapi import OPENAPI_PATHS, parse_openapi
from crawler.discovery.wellknown import WELL_KNOWN_PATHS, parse_well_known
from crawler.failures import exception_names
from index.docs.links import is_sibling
from index.docs.page import extract_page
from index.probe.budget import capped_finding, docs_budget_finding
from index.probe.outcomes import classify_failure
from index.store.items import PageItem
from index.urls import canonical_url, origin_of
from index.untrusted import safe_json_loads

# Link kinds (index.docs.links) worth following from a homepage as documentation.
DOCS_LINK_KINDS = frozenset({"docs", "api", "reference", "pricing", "llms", "openapi"})
HTML_ACCEPT = "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.8"


class OriginDiscovery:
    """Mixin for ProbeSpider (which provides `_probe_request`, `crawler`, `settings`)."""

    crawler: Any
    settings: Any

    def _init_origins(self) -> None:
        self._origins_seen: set[str] = set()
        self._docs_budget: dict[str, int] = {}
        self._docs_queued: set[str] = set()
        self._docs_capped: set[str] = set()  # origins whose docs budget turned a link away

    def origin_requests(self, url: str) -> Iterator[Request]:
        """Every discovery request for the origin of `url`, the first time the crawl meets it."""
        if not self.settings.getbool("X402_DISCOVER_ORIGINS"):
            return
        try:
            origin = origin_of(url)
        except ValueError:
            return
        if not self._meet_origin(origin):
            return
        self.crawler.stats.inc_value(stats.ORIGINS_DISCOVERED)
        for path in WELL_KNOWN_PATHS:
            req = self._origin_file(origin, path, "well_known", obey_robots=False)
            if path == WELL_KNOWN_PATHS[0] and self.settings.getbool("X402_DNS_DISCOVERY"):
                req = req.replace(callback=self.parse_manifest_and_dns)
            yield req
        for path in OPENAPI_PATHS:
            yield self._origin_file(origin, path, "openapi")
        yield self._origin_file(origin, LLMS_PATH, "llms_txt")
        yield self._origin_file(origin, "/", "homepage", accept=HTML_ACCEPT)
        host = urlsplit(origin).hostname or ""
        if host.startswith("api.") and host.count(".") >= 2:
            # An api. subdomain seldom has a homepage of its own; its parent domain's says who runs it.
            parent = origin.replace("//api.", "//", 1)
            yield self._origin_file(origin, "/", "parent_homepage", accept=HTML_ACCEPT, base=parent)

    def _meet_origin(self, origin: str) -> bool:
        """True the first time this crawl meets `origin`, whose docs budget then opens."""
        if origin in self._origins_seen:
            return False
        self._origins_seen.add(origin)
        self._docs_budget[origin] = self.settings.getint("X402_DOCS_PAGES")
        return True

    def _origin_file(self, origin: str, path: str, kind: str, *, obey_robots: bool = True,
                     accept: str = "application/json, application/yaml;q=0.9, text/plain;q=0.8", base: str | None = None) -> Request:
        return Request((base or origin) + path, callback=self.parse_origin_file, errback=self.origin_file_failed,
                       headers={"Accept": accept}, dont_filter=True,
                       meta={"origin": origin, "page_kind": kind, "dont_obey_robotstxt": not obey_robots,
                             "handle_httpstatus_all": True, "dont_redirect": False})

    def _docs_requests(self, origin: str, links: list[str] | list[tuple[str, str, bool]],
                       findings: list[dict[str, Any]]) -> list[Request]:
        """Requests for the docs links a page offers (URLs, or (URL, kind, sibling_ok) as _docs_request
        takes them), within the origin's budget; the first time the budget turns one away, a
        `discovery_capped` finding on `findings` (index.probe.budget)."""
        out = []
        for entry in links:
            link, link_kind, sibling_ok = entry if isinstance(entry, tuple) else (entry, "docs", False)
            if self._docs_budget.get(origin, 0) <= 0:
                if origin not in self._docs_capped:
                    self._docs_capped.add(origin)
                    findings.append(docs_budget_finding(origin, self.settings.getint("X402_DOCS_PAGES")))
                break
            req = self._docs_request(origin, link, link_kind, sibling_ok)
            if req is not None:
                out.append(req)
        return out

    def _docs_request(self, origin: str, url: str, kind: str = "docs", sibling_ok: bool = False) -> Request | None:
        """A docs page of the origin (or, kind "openapi", an OpenAPI document a page embeds), within the
        origin's page budget; None when off-origin, already queued or over budget. With `sibling_ok`
        (a link from the origin's homepage or llms.txt), a docs page on a sibling host of the same
        registrable domain (index.docs.links.is_sibling) is read too, as one of this origin's pages."""
        try:
            url = canonical_url(url)
        except ValueError:
            return None
        off_origin = origin_of(url) != origin
        if off_origin and not (sibling_ok and kind == "docs" and is_sibling(url, origin)):
            return None
        if url in self._docs_queued or self._docs_budget.get(origin, 0) <= 0:
            return None
        self._docs_budget[origin] -= 1
        self._docs_queued.add(url)
        accept = HTML_ACCEPT if kind == "docs" else "application/json, application/yaml;q=0.9, text/plain;q=0.8"
        return Request(url, callback=self.parse_origin_file, errback=self.origin_file_failed,
                       headers={"Accept": accept}, dont_filter=True,
                       meta={"origin": origin, "page_kind": kind, "handle_httpstatus_all": True, "sibling": off_origin})

    # -- callbacks ----------------------------------------------------------------------------

    def parse_origin_file(self, response: Response) -> Iterator[Any]:
        meta = response.meta
        origin, kind = meta["origin"], meta["page_kind"]
        self.crawler.stats.inc_value(f"{stats.ORIGIN_FILES}{kind}/{response.status}")
        content_type = _content_type(response)
        page = page_item(origin, response.url, kind, status=response.status, content_type=content_type)
        if response.status != 200:
            yield page
            return
        source_kind = {"homepage": "docs", "parent_homepage": "docs"}.get(kind, kind)
        found: Discovered | None = None
        if kind == "well_known":
            try:
                found = parse_well_known(safe_json_loads(response.body), response.url)
            except (ValueError, UnicodeDecodeError):
                page["error_code"] = "invalid_json"
        elif kind == "openapi":
            found = parse_openapi(response.body, response.url)
        elif kind == "llms_txt":
            found = parse_llms_txt(response.body[:1_000_000].decode("utf-8", "replace"), response.url)
        if found is not None:
            capped = capped_finding(kind, found.info or {}, len(found.candidates), len(found.docs_links), response.url,
                                    LLMS_MAX_LINKS)
            if capped is not None:
                found.findings.append(capped)
            docs = self._docs_requests(origin, [(link, "docs", kind == "llms_txt") for link in found.docs_links],
                                       found.findings)
            page["extracted"] = {"candidates": len(found.candidates), "findings": found.findings, "info": found.info,
                                 "docs_links": found.docs_links[:50]}
            yield page
            yield from self._discovered(origin, found.candidates, source_kind)
            yield from docs
            return
        if kind in ("homepage", "parent_homepage", "docs"):
            extract = extract_page(response.body, response.url, content_type)
            links = _followed_links(extract, kind, bool(meta.get("sibling")))
            over_budget: list[dict[str, Any]] = []
            docs = [] if kind == "parent_homepage" else self._docs_requests(origin, links, over_budget)
            if over_budget:
                extract["findings"] = [*(extract.get("findings") or []), *over_budget]
            page["extracted"] = extract
            yield page
            if kind == "parent_homepage":
                return
            if kind == "homepage" and not extract.get("favicon"):
                yield Request(origin + "/favicon.ico", callback=self.parse_favicon, errback=self.origin_file_failed,
                              dont_filter=True, meta={"origin": origin, "page_kind": "favicon", "handle_httpstatus_all": True,
                                                      "download_maxsize": 256 * 1024})
            yield from self._discovered(origin, _docs_candidates(extract, response.url), "docs")
            if kind == "docs":  # a homepage's endpoint list names what its docs pages show how to call
                yield from self._discovered(origin, mentioned_candidates(extract, response.url), "docs-mention")
            yield from docs

    async def parse_manifest_and_dns(self, response: Response) -> AsyncIterator[Any]:
        """The origin's /.well-known/x402, then what its host's `_x402` TXT records point at."""
        for out in self.parse_origin_file(response):
            yield out
        for req in await self._dns_requests(response.meta["origin"]):
            yield req

    async def _dns_requests(self, origin: str) -> list[Any]:
        host = urlsplit(origin).hostname or ""
        servers = []
        for entry in self.settings.getlist("X402_DNS_NAMESERVERS"):
            ip, _, port = entry.rpartition(":")
            servers.append((ip, int(port)) if ip and port.isdigit() else (entry, 53))
        found = await asyncio.to_thread(discover_domain, host, servers or None, self.settings.getfloat("X402_DNS_TIMEOUT"),
                                        self.settings.getbool("X402_ALLOW_PRIVATE"))
        stats = self.crawler.stats
        if found.error == "bad_domain":  # an IP literal or a refused name: never asked
            return []
        stats.inc_value("x402/dns/lookups")
        stats.inc_value(f"x402/dns/{found.error or 'answered'}")
        stats.inc_value("x402/dns/rejected", len(found.rejected))
        out: list[Any] = []
        for pointer in found.pointers:
            stats.inc_value("x402/dns/pointers")
            try:
                target = origin_of(pointer.url)
            except ValueError:
                continue
            if target == origin and urlsplit(pointer.url).path in WELL_KNOWN_PATHS:
                continue  # the file we just read
            out.append(Request(pointer.url, callback=self.parse_origin_file, errback=self.origin_file_failed,
                               headers={"Accept": "application/json"}, dont_filter=True,
                               meta={"origin": target, "page_kind": "well_known", "dont_obey_robotstxt": True,
                                     "handle_httpstatus_all": True, "dns_pointer": pointer.as_json()}))
            out.extend(self.origin_requests(pointer.url))
        return out

    def parse_favicon(self, response: Response) -> Iterator[PageItem]:
        content_type = _content_type(response)
        is_image = response.status == 200 and bool(content_type and content_type.startswith("image/")) and len(response.body) > 0
        yield page_item(response.meta["origin"], response.url, "favicon", status=response.status if is_image else None,
                        error_code=None if is_image else "not_an_image", content_type=content_type)

    def origin_file_failed(self, failure: Failure) -> Iterator[PageItem]:
        request = failure.request
        meta = request.meta
        _, code = classify_failure(exception_names(failure), str(failure.value))
        self.crawler.stats.inc_value(f"{stats.ORIGINS_FAILED}{meta.get('page_kind')}")
        yield page_item(meta["origin"], request.url, meta.get("page_kind"), error_code=code)

    def _discovered(self, origin: str, candidates: list[Candidate], source_kind: str) -> Iterator[Any]:
        """Probe requests (or late source sightings) for candidates an origin listed itself."""
        for cand in candidates:
            try:
                if origin_of(cand["url"]) != origin:
                    self.crawler.stats.inc_value(stats.CROSS_ORIGIN_DROPPED)
                    continue
            except (KeyError, ValueError):
                continue
            cand.setdefault("source", {"kind": source_kind, "url": origin})
            yield from self.candidate_requests([cand])


MAX_MENTIONS = 20  # endpoints named only in a page's prose, probed per page
_ROUTE_TEMPLATE = re.compile(r"[{}<>]|/:[A-Za-z_]")


def mentioned_candidates(extract: dict[str, Any], page_url: str) -> list[Candidate]:
    """Endpoints a docs page names only in prose or headings (`POST /v1/pro/chat/completions`), with no
    example of its own: candidates with source kind "docs-mention", probed at low priority (the probe
    spider lowers their requests). Paths resolve against the page; route templates are not probed."""
    shown = {(ex.get("method"), ex.get("path")) for ex in extract.get("examples") or [] if isinstance(ex, dict)}
    out: list[Candidate] = []
    for e in extract.get("endpoints") or []:
        if not isinstance(e, dict) or (e.get("method"), e.get("path")) in shown or not isinstance(e.get("path"), str):
            continue
        if _ROUTE_TEMPLATE.search(e["path"]) or len(out) >= MAX_MENTIONS:
            continue
        url = resolve_url(e["url"] if isinstance(e.get("url"), str) else e["path"], page_url)
        if url is not None:
            out.append({"url": url, "method": e.get("method") or "GET", "source": {"kind": "docs-mention", "url": page_url}})
    return out


def _followed_links(extract: dict[str, Any], kind: str, from_sibling: bool) -> list[tuple[str, str, bool]]:
    """(URL, kind, sibling_ok) of the docs links a page offers: an OpenAPI document a page embeds
    (GitBook {% openapi src=… %}, Redoc, Swagger UI) is read as OpenAPI; a sibling host's docs only
    when the origin's own homepage links them, never further."""
    out = []
    for link in extract.get("links") or []:
        if link.get("kind") not in DOCS_LINK_KINDS:
            continue
        if link.get("sibling") and (kind != "homepage" or from_sibling):
            continue
        path = urlsplit(link["url"]).path
        as_openapi = link["kind"] == "openapi" and path not in OPENAPI_PATHS and path.lower().endswith((".json", ".yaml", ".yml"))
        out.append((link["url"], "openapi" if as_openapi else "docs", bool(link.get("sibling"))))
    return out


def page_item(origin: str, url: str, page_kind: str, *, status: int | None = None, error_code: str | None = None,
              content_type: str | None = None, extracted: dict[str, Any] | None = None) -> PageItem:
    """The one constructor of a page item: a file read from an origin (or not: `status` None, the
    `error_code` says why), stamped now."""
    return {"kind": "page", "origin": origin, "url": url, "page_kind": page_kind,
            "fetched_at": datetime.now(UTC).isoformat(), "status": status, "error_code": error_code,
            "content_type": content_type, "extracted": extracted if extracted is not None else {}}


def _content_type(response: Response) -> str | None:
    return response.headers.get(b"Content-Type", b"").decode("latin-1")[:200] or None


def _docs_candidates(extract: dict[str, Any], page_url: str) -> list[Candidate]:
    """Endpoints a docs page shows how to call: its curl (and similar) examples, which carry the
    method, the full URL with its example query, and the example body. Bare mentions such as
    "GET /v1/forecast" are not probed: without the page's example they name the route, not a call."""
    out: list[Candidate] = []
    seen: set[tuple[str, str]] = set()
    for ex in extract.get("examples") or []:
        url, method = ex.get("url"), (ex.get("method") or "GET").upper()
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        try:
            key = (canonical_url(url), method)
        except ValueError:
            continue
        if key in seen:
            continue
        seen.add(key)
        cand: Candidate = {"url": url, "method": method, "source": {"kind": "docs", "url": page_url}}
        if ex.get("body") is not None:
            cand["body"] = ex["body"]
        out.append(cand)
    return out[:100]
