"""The probe spider: ask each candidate, unpaid, what it costs. It only moves data.

Every attempt becomes one item (a plain dict) with a coded outcome; parsing is `index.x402`.
Facilitator discovery pages are read here too and feed more candidates into the same crawl.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.http import JsonRequest, Request, Response
from twisted.python.failure import Failure

from crawler.discovery import Candidate
from crawler.discovery.facilitator import discovery_url, parse_discovery_page
from crawler.discovery.seeds import seed_candidate
from index.htmlmeta import extract_meta
from index.outcomes import Outcome, outcome_for_error, outcome_for_status
from index.urls import canonical_url, origin_of
from index.x402 import parse_challenge, safe_json_loads


class ProbeSpider(scrapy.Spider):
    """From Python: ProbeSpider(candidates=[...], facilitators=[...]). From the scrapy command:
    `scrapy crawl probe -a seed="URL, POST URL" -a facilitator=URL`."""

    name = "probe"

    def __init__(self, candidates: list[Candidate] | None = None, facilitators: list[str] | None = None,
                 seed: str = "", facilitator: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.candidates = list(candidates or []) + [seed_candidate(s, "scrapy:-a seed") for s in _split(seed)]
        self.facilitators = list(facilitators or []) + _split(facilitator)
        self._queued: set[tuple[str, str]] = set()
        self._sources: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._origins_fetched: set[str] = set()

    # -- requests ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Request]:
        for fac in self.facilitators:
            yield self._discovery_request(fac, 0)
        for cand in self.candidates:
            req = self._probe_request(cand)
            if req is not None:
                yield req

    def _discovery_request(self, facilitator: str, offset: int) -> Request:
        limit = self.settings.getint("X402_DISCOVERY_PAGE_SIZE")
        return Request(
            discovery_url(facilitator, offset, limit), callback=self.parse_discovery, errback=self.discovery_failed,
            meta={"facilitator": facilitator, "offset": offset, "limit": limit, "dont_obey_robotstxt": True},
            dont_filter=True,
        )

    def _probe_request(self, cand: Candidate, method: str | None = None, body: Any = None, attempt: int = 0) -> Request | None:
        try:
            url = canonical_url(cand["url"])
        except ValueError:
            self.crawler.stats.inc_value("x402/candidates/bad_url")
            return None
        method = (method or cand.get("method") or "GET").upper()
        key = (url, method)
        self._sources.setdefault(key, [])
        if cand.get("source") and cand["source"] not in self._sources[key]:
            self._sources[key].append(cand["source"])
        if attempt == 0:
            if key in self._queued:
                self.crawler.stats.inc_value("x402/candidates/duplicate")
                return None
            self._queued.add(key)
            self.crawler.stats.inc_value("x402/candidates/queued")
        meta = {
            "candidate": cand, "url": url, "method": method, "attempt": attempt,
            # Endpoints listed by their owners in a registry or seed list are probed without
            # consulting robots.txt: the listing is the owner's invitation. Recorded on the item.
            "dont_obey_robotstxt": True, "handle_httpstatus_all": True,
        }
        if body is not None or (method in ("POST", "PUT", "PATCH") and cand.get("body") is not None):
            return JsonRequest(url, method=method, data=body if body is not None else cand.get("body"),
                               callback=self.parse_probe, errback=self.probe_failed, meta=meta, dont_filter=True)
        headers = {"Content-Type": "application/json"} if method in ("POST", "PUT", "PATCH") else None
        return Request(url, method=method, body=b"{}" if headers else b"", headers=headers,
                       callback=self.parse_probe, errback=self.probe_failed, meta=meta, dont_filter=True)

    # -- callbacks ----------------------------------------------------------------------------

    def parse_discovery(self, response: Response) -> Any:
        meta = response.meta
        self.crawler.stats.inc_value("x402/discovery/pages")
        try:
            obj = safe_json_loads(response.body)
        except ValueError:
            self.crawler.stats.inc_value("x402/discovery/invalid_json")
            return
        candidates, next_offset = parse_discovery_page(obj, response.url, meta["offset"], meta["limit"])
        self.crawler.stats.inc_value("x402/discovery/items", len(candidates))
        for cand in candidates:
            req = self._probe_request(cand)
            if req is not None:
                yield req
        if next_offset is not None:
            yield self._discovery_request(meta["facilitator"], next_offset)

    def discovery_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("x402/discovery/failed")
        self.logger.warning("facilitator discovery failed: %s (%s)", failure.request.url, failure.value)

    def parse_probe(self, response: Response) -> Any:
        meta = response.meta
        status = response.status
        headers = _flat_headers(response.headers, self.settings.getint("X402_RAW_BODY_LIMIT"))
        challenge = parse_challenge(status, headers, response.body) if status == 402 else None
        outcome = outcome_for_status(status, bool(challenge and challenge.usable))
        yield self._item(meta, outcome, status=status, headers=headers, body=response.body,
                         latency=meta.get("download_latency"), challenge=challenge)
        if outcome is Outcome.PAID:
            home = self._homepage_request(response.url)
            if home is not None:
                yield home
        # A GET answered 405 may be a POST-only route whose source did not say so.
        if outcome is Outcome.METHOD_NOT_ALLOWED and meta["method"] == "GET" and not meta["candidate"].get("method"):
            req = self._probe_request(meta["candidate"], method="POST", attempt=meta["attempt"] + 1)
            if req is not None:
                yield req

    def probe_failed(self, failure: Failure) -> Any:
        request = failure.request
        names = [cls.__name__ for cls in type(failure.value).__mro__]
        outcome = outcome_for_error(names, str(failure.value))
        yield self._item(request.meta, outcome, error_code=type(failure.value).__name__)

    def _homepage_request(self, url: str) -> Request | None:
        """The origin's homepage, once per crawl, for its title, description and favicon.
        Unlike probes, this obeys robots.txt."""
        origin = origin_of(url)
        if origin in self._origins_fetched:
            return None
        self._origins_fetched.add(origin)
        return Request(origin + "/", callback=self.parse_homepage, errback=self.homepage_failed,
                       headers={"Accept": "text/html,application/xhtml+xml"}, meta={"origin": origin}, dont_filter=True)

    def parse_homepage(self, response: Response) -> Any:
        self.crawler.stats.inc_value("x402/origin/homepages")
        meta = extract_meta(response.body, response.url) if response.status == 200 and hasattr(response, "text") else {}
        yield {"kind": "origin", "origin": response.meta["origin"], "fetched_at": datetime.now(UTC).isoformat(),
               "status": response.status, "meta": meta}

    def homepage_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value("x402/origin/homepage_failed")

    # -- items ----------------------------------------------------------------------------------

    def _item(self, meta: dict[str, Any], outcome: Outcome, *, status: int | None = None,
              headers: dict[str, str] | None = None, body: bytes = b"", latency: float | None = None,
              challenge: Any = None, error_code: str | None = None) -> dict[str, Any]:
        cand, url = meta["candidate"], meta["url"]
        self.crawler.stats.inc_value(f"x402/outcome/{outcome.value}")
        limit = self.settings.getint("X402_RAW_BODY_LIMIT")
        return {
            "kind": "probe",
            "url": url,
            "method": meta["method"],
            "observed_at": datetime.now(UTC).isoformat(),
            "outcome": outcome.value,
            "http_status": status,
            "latency_ms": round(latency * 1000, 1) if latency is not None else None,
            "error_code": error_code,
            "headers": headers or {},
            "body": body[:limit].decode("utf-8", "replace") if body else None,
            "challenge": challenge.model_dump(mode="json") if challenge is not None else None,
            "sources": list(self._sources.get((url, meta["method"]), [])) or ([cand["source"]] if cand.get("source") else []),
        }


def _split(arg: str) -> list[str]:
    return [part.strip() for part in arg.split(",") if part.strip()]


def _flat_headers(headers: Any, limit: int) -> dict[str, str]:
    """Scrapy's bytes headers as {lower-case name: first value}, each value capped."""
    out: dict[str, str] = {}
    for key, values in headers.items():
        name = key.decode("latin-1").lower()
        value = values[0] if values else b""
        out[name] = value[: limit + 1].decode("latin-1")
    return out
