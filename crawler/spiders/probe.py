"""The probe spider: ask each candidate, unpaid, what it costs. It only moves data.

Every attempt becomes one item (a `ProbeItem`, index.store.items) with a coded outcome; parsing is
`index.protocol.challenge`.
Facilitator discovery pages, and what each origin says about itself (crawler.spiders.origins), are
read in the same crawl and feed more candidates into it.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from functools import cached_property
from itertools import chain
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import JsonRequest, Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import stats
from crawler.discovery import Candidate
from crawler.discovery.facilitator import MAX_PAGES, discovery_url, parse_discovery_page
from crawler.discovery.seeds import seed_candidate
from crawler.failures import exception_names
from crawler.middlewares import BlockedRequest
from crawler.resolver import blocked_reason
from crawler.spiders.bounds import SourcePool, backlog_room
from crawler.spiders.origins import OriginDiscovery
from index.probe.budget import ListingWalk, listing_page
from index.probe.outcomes import Outcome, classify_failure, outcome_for_status, unhandled_status
from index.probe.plan import NO_BODY, Attempt, probe_plan, refused_before_paywall
from index.store.items import ProbeItem, SourceItem
from index.urls import canonical_url, origin_of, resource_key
from index.protocol.challenge import parse_challenge
from index.protocol.other402 import other_protocol
from index.untrusted import safe_json_loads

# Probes of endpoints listed by their owners (seed lists, facilitator registries, an origin's own
# x402 manifest) do not consult robots.txt: the listing invites calls. Recorded on every observation.
ROBOTS_POLICY = "not_consulted:listed_endpoint"
# Statuses the probe callback handles itself; 3xx are left to Scrapy's redirect middleware. A set:
# Scrapy's HttpError and Redirect middlewares test every response's status against it.
NON_REDIRECT_STATUSES = frozenset(range(100, 600)) - {301, 302, 303, 307, 308}
# Final outcomes that show which method the resource answers to.
_GOOD_ANSWERS = frozenset({Outcome.PAID.value, Outcome.PAID_INVALID.value, Outcome.OTHER_PROTOCOL.value, Outcome.FREE.value, Outcome.AUTH_REQUIRED.value})


class ProbeSpider(OriginDiscovery, scrapy.Spider):
    """From Python: ProbeSpider(candidates=[...], facilitators=[...], origins=[...]). From the scrapy
    command: `scrapy crawl probe -a seed="URL, POST URL" -a facilitator=URL -a origin=URL`."""

    name = "probe"

    def __init__(self, candidates: Iterable[Candidate] | None = None, facilitators: list[str] | None = None,
                 origins: list[str] | None = None, seed: str = "", facilitator: str = "", origin: str = "",
                 known: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # iterated once, by start(): a crawl's due resources are read from the store as they are needed
        self.candidates: Iterable[Candidate] = chain(
            candidates if candidates is not None else (), [seed_candidate(s, "scrapy:-a seed") for s in _split(seed)])
        self.facilitators = list(facilitators or []) + _split(facilitator)
        self.origins = list(origins or []) + _split(origin)
        self._queued: set[tuple[str, str]] = set()
        self._finished: set[tuple[str, str]] = set()
        # the sources naming each resource (a tuple: most have one), each source dict shared by every
        # resource it names (crawler.spiders.bounds): per-resource state is a large crawl's memory
        self._sources: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {}
        self._pooled = SourcePool()
        # Validate-first endpoints (400/422 to every body we had): a body that arrives later in the
        # same crawl (docs example, OpenAPI schema, listing) earns one more probe with it.
        self._unprobeable: set[tuple[str, str]] = set()
        self._body_later: dict[tuple[str, str], Candidate] = {}
        self._reprobed: set[tuple[str, str]] = set()
        # Resources this run leaves alone (not due, or already probed before a crash): discovery
        # that names one records a sighting of its source instead of probing it.
        for url, method in known or []:
            key = (url, method.upper())
            self._queued.add(key)
            self._finished.add(key)
            self._sources.setdefault(key, ())
        self._init_origins()
        self._listing_walks: dict[str, ListingWalk] = {}

    # -- requests ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        for fac in self.facilitators:
            yield self._discovery_request(fac, 0)
        for origin in self.origins:
            for req in self.origin_requests(origin):
                yield req
        for item in self.candidate_requests(self.candidates):
            if isinstance(item, Request):
                await backlog_room(self.crawler)
            yield item

    def candidate_requests(self, candidates: Iterable[Candidate]) -> Any:
        """Probe requests for new candidates; for one already probed in this crawl, a `source` item
        so its provenance still lands on the resource; and the discovery of each new origin."""
        for cand in candidates:
            mention = (cand.get("source") or {}).get("kind") == "docs-mention"
            if mention and self._queued_without_query(cand):
                continue  # already asked for, with its example's query
            req = self._probe_request(cand)
            if req is not None and mention:
                req = req.replace(priority=-10)  # named in prose only: after every listed endpoint
            if req is not None:
                yield req
                yield from self.origin_requests(req.meta["url"])
            elif cand.get("source"):
                key = resource_key(cand)
                if key is not None and key in self._finished:
                    yield source_item(key, _source_with_claims(cand) or {})

    def _queued_without_query(self, cand: Candidate) -> bool:
        """True when the crawl already queued this URL (any query) with this method."""
        url, method = str(cand.get("url") or "").split("?", 1)[0], (cand.get("method") or "GET").upper()
        return any(m == method and u.split("?", 1)[0] == url for u, m in self._queued)

    def _discovery_request(self, facilitator: str, offset: int, page: int = 0) -> Request:
        limit = self.settings.getint("X402_DISCOVERY_PAGE_SIZE")
        return Request(
            discovery_url(facilitator, offset, limit, kind=None), callback=self.parse_discovery, errback=self.discovery_failed,
            meta={"facilitator": facilitator, "offset": offset, "limit": limit, "page": page, "dont_obey_robotstxt": True},
            dont_filter=True,
        )

    def _probe_request(self, cand: Candidate, attempt: int = 0, prior: list[dict[str, Any]] | None = None,
                       fresh: bool = True) -> Request | None:
        """The request for attempt number `attempt` of a candidate's probe plan (None when the plan is
        exhausted, the URL is unusable, or the candidate was already queued)."""
        try:
            url = canonical_url(cand["url"])
        except ValueError:
            self.crawler.stats.inc_value(stats.BAD_URL)
            return None
        key = (url, sys.intern((cand.get("method") or "GET").upper()))  # one str per method, not per resource
        if attempt == 0 and fresh:
            source = self._pooled(_source_with_claims(cand))
            if _brings_body(cand) and key not in self._reprobed:
                if key in self._unprobeable:  # refused our bodies so far: ask again with this one
                    return self._reprobe(cand, key, source)
                if key in self._queued and key not in self._finished:
                    self._body_later.setdefault(key, cand)  # in flight: used if that probe ends unprobeable
            if source and key in self._sources and source not in self._sources[key] and key in self._finished:
                return None  # already probed: the caller records this source as a sighting
            sources = self._sources.setdefault(key, ())
            if source and source not in sources:
                self._sources[key] = (*sources, source)
            if key in self._queued:
                self.crawler.stats.inc_value(stats.DUPLICATE)
                return None
            self._queued.add(key)
            self.crawler.stats.inc_value(stats.QUEUED)
        plan = _plan(cand, url)
        if attempt >= len(plan):
            return None
        step = plan[attempt]
        meta = {
            "candidate": cand, "url": url, "queue_key": key, "method": step.method, "attempt": attempt,
            "why": step.why, "prior": prior or [],
            # Endpoints listed by their owners in a registry or seed list are probed without
            # consulting robots.txt: the listing is the owner's invitation. Recorded on the item.
            "dont_obey_robotstxt": True,
            # Every answer reaches the callback except redirects, which Scrapy follows (each hop is
            # checked by the SSRF guard again).
            "handle_httpstatus_list": NON_REDIRECT_STATUSES,
        }
        if step.has_body:
            return JsonRequest(step.url, method=step.method, data=step.body, callback=self.parse_probe,
                               errback=self.probe_failed, meta=meta, dont_filter=True)
        return Request(step.url, method=step.method, callback=self.parse_probe, errback=self.probe_failed,
                       meta=meta, dont_filter=True)

    def _reprobe(self, cand: Candidate, key: tuple[str, str], source: dict[str, Any] | None) -> Request | None:
        """A validate-first endpoint probed again, in the same crawl, with the body a later source gave."""
        self._reprobed.add(key)
        self._unprobeable.discard(key)
        sources = self._sources.setdefault(key, ())
        if source and source not in sources:
            self._sources[key] = (*sources, source)
        self.crawler.stats.inc_value(stats.REPROBED)
        return self._probe_request(cand, 0, [], fresh=False)

    # -- callbacks ----------------------------------------------------------------------------

    def parse_discovery(self, response: Response) -> Any:
        meta = response.meta
        self.crawler.stats.inc_value(stats.DISCOVERY_PAGES)
        try:
            obj = safe_json_loads(response.body)
        except ValueError:
            self.crawler.stats.inc_value(stats.DISCOVERY_INVALID_JSON)
            return
        page = meta.get("page", 0)
        candidates, next_offset = parse_discovery_page(obj, response.url, meta["offset"], meta["limit"], page)
        self.crawler.stats.inc_value(stats.DISCOVERY_ITEMS, len(candidates))
        yield from self.candidate_requests(candidates)
        # a listing ends at its page cap or at a page it served before (index.probe.budget)
        more = next_offset is not None or (page + 1 >= MAX_PAGES and bool(candidates))
        stop = self._listing_walk(meta["facilitator"]).read(candidates, response.url, more)
        if stop is not None:
            self.crawler.stats.inc_value(f"x402/discovery/{stop['code']}")
            yield listing_page(origin_of(meta["facilitator"]), response.url, response.status, stop)
        elif next_offset is not None:
            yield self._discovery_request(meta["facilitator"], next_offset, page + 1)

    def _listing_walk(self, facilitator: str) -> ListingWalk:
        if facilitator not in self._listing_walks:
            self._listing_walks[facilitator] = ListingWalk(self.settings.getint("X402_DISCOVERY_MAX_PAGES", MAX_PAGES))
        return self._listing_walks[facilitator]

    def discovery_failed(self, failure: Failure) -> None:
        self.crawler.stats.inc_value(stats.DISCOVERY_FAILED)
        self.logger.warning("facilitator discovery failed: %s (%s)", failure.request.url, failure.value)

    def parse_probe(self, response: Response) -> Any:
        meta = response.meta
        status = response.status
        headers = _flat_headers(response.headers, self._raw_limit)
        challenge = parse_challenge(status, headers, response.body, probed_url=response.url) if status == 402 else None
        usable = challenge is not None and challenge.usable  # a property that checks every accept: once
        other = other_protocol(status, headers) if challenge is not None and not usable else None
        outcome = outcome_for_status(status, usable, other is not None)
        item = self._item(meta, outcome, status=status, headers=headers, body=response.body,
                          latency=meta.get("download_latency"), challenge=challenge,
                          final_url=response.url if response.url != meta["url"] else None)
        if other is not None:  # kept with the observation (parsed.other_protocol), read by the catalog
            item["challenge"]["other_protocol"] = other
        if refused_before_paywall(status):
            retry = self._probe_request(meta["candidate"], meta["attempt"] + 1, [*meta["prior"], item])
            if retry is not None:
                self.crawler.stats.inc_value(stats.REATTEMPTS)
                yield retry
                return
            item["outcome"] = Outcome.UNPROBEABLE.value  # every way of asking was refused
        yield from self._finish(meta, item)

    def probe_failed(self, failure: Failure) -> Any:
        request = failure.request
        if isinstance(failure.value, HttpError):  # a redirect we did not follow, or a status HTTP does not define
            response = failure.value.response
            headers = _flat_headers(response.headers, self._raw_limit)
            outcome, code = unhandled_status(response.status)
            item = self._item(request.meta, outcome, status=response.status, headers=headers,
                              body=response.body, latency=request.meta.get("download_latency"), error_code=code)
        else:
            outcome, code = classify_failure(exception_names(failure), str(failure.value))
            if isinstance(failure.value, BlockedRequest):
                outcome, code = Outcome.BLOCKED, f"ssrf:{failure.value.reason}"
            elif outcome is Outcome.UNREACHABLE and code == "dns":
                reason = blocked_reason(urlsplit(request.url).hostname)
                if reason:
                    outcome, code = Outcome.BLOCKED, f"ssrf:{reason}"
            item = self._item(request.meta, outcome, error_code=code)
        yield from self._finish(request.meta, item)

    def _finish(self, meta: dict[str, Any], final: ProbeItem) -> Iterator[ProbeItem]:
        """Yield every attempt of one probe, stamped with the resource they belong to: the method
        that got a real answer when one did; else, when the first method was refused as a method
        (405) and another was refused only for its body (400/415/422), that one (a POST route seeded
        as a bare URL is one POST resource, not a dead GET twin); else the first method asked."""
        attempts = [*meta["prior"], final]
        answered = final["outcome"] in _GOOD_ANSWERS
        body_refused = [a["method"] for a in attempts if a.get("http_status") in (400, 415, 422)]
        resource_method = final["method"] if answered else (
            body_refused[0] if attempts[0].get("http_status") == 405 and body_refused else attempts[0]["method"])
        self.crawler.stats.inc_value(stats.OUTCOME + final["outcome"])
        self._finished.add(meta["queue_key"])
        stored_as = (meta["url"], resource_method)
        later = None
        if final["outcome"] == Outcome.UNPROBEABLE.value:
            self._unprobeable.update({meta["queue_key"], stored_as})
            later = self._body_later.pop(meta["queue_key"], None)
        if stored_as != meta["queue_key"]:  # a GET refused, paid by POST: a later "POST url" is the same resource
            self._queued.add(stored_as)
            self._finished.add(stored_as)
            self._sources.setdefault(stored_as, ())
        for item in attempts:
            item["resource_method"] = resource_method
            item["final"] = item is final
            yield item
        if later is not None and meta["queue_key"] not in self._reprobed:
            retry = self._reprobe(later, meta["queue_key"], _source_with_claims(later))
            if retry is not None:
                yield retry

    # -- items ----------------------------------------------------------------------------------

    @cached_property
    def _raw_limit(self) -> int:
        """X402_RAW_BODY_LIMIT, read once (settings are frozen during a crawl; this runs per response)."""
        return self.settings.getint("X402_RAW_BODY_LIMIT")

    def _item(self, meta: dict[str, Any], outcome: Outcome, *, status: int | None = None,
              headers: dict[str, str | list[str]] | None = None, body: bytes = b"", latency: float | None = None,
              challenge: Any = None, error_code: str | None = None, final_url: str | None = None) -> ProbeItem:
        cand, url = meta["candidate"], meta["url"]
        self.crawler.stats.inc_value(stats.ATTEMPTS)
        limit = self._raw_limit
        return {
            "kind": "probe",
            "url": url,
            "method": meta["method"],
            "attempt": meta["attempt"],
            "attempt_why": meta.get("why"),
            "robots": ROBOTS_POLICY,
            "final_url": final_url,
            "observed_at": datetime.now(UTC).isoformat(),
            "outcome": outcome.value,
            "http_status": status,
            "latency_ms": round(latency * 1000, 1) if latency is not None else None,
            "error_code": error_code,
            "headers": headers or {},
            "body": body[:limit].decode("utf-8", "replace") if body else None,
            # python mode: JSON values already; a lone surrogate from the server would make mode="json"
            # raise here, and the store replaces it (index.probe.storable)
            "challenge": challenge.model_dump() if challenge is not None else None,
            "sources": list(self._sources.get(meta["queue_key"], ())) or ([cand["source"]] if cand.get("source") else []),
        }


def source_item(key: tuple[str, str], source: dict[str, Any]) -> SourceItem:
    """A source seen naming the resource `key` (url, method) after its probe: merged into its sources."""
    return {"kind": "source", "url": key[0], "method": key[1], "source": source, "seen_at": datetime.now(UTC).isoformat()}


def _plan(cand: Candidate, url: str) -> list[Attempt]:
    body = cand["body"] if "body" in cand else NO_BODY
    return probe_plan(url, cand.get("method"), body, cand.get("hints"))


def _source_with_claims(cand: Candidate) -> dict[str, Any] | None:
    """The candidate's source, carrying what that source declared (price, terms, input hints, an
    example body), if anything. The catalog reads the hints and example when the live 402 has none."""
    source = cand.get("source")
    if not source:
        return None
    declared = dict(cand.get("declared") or {})
    if cand.get("hints"):
        declared["hints"] = cand["hints"]
    if cand.get("body") is not None:
        declared["example_body"] = cand["body"]
    return {**source, "declared": declared} if declared else dict(source)


def _brings_body(cand: Candidate) -> bool:
    """True when a candidate carries a request body, or a body schema to build one from."""
    if cand.get("body") is not None:
        return True
    hints = cand.get("hints") or {}
    schema = hints.get("input_schema") if isinstance(hints, dict) else None
    props = schema.get("properties") if isinstance(schema, dict) else None
    return isinstance(props, dict) and isinstance(props.get("body"), dict)


def _split(arg: str) -> list[str]:
    return [part.strip() for part in arg.split(",") if part.strip()]


def _flat_headers(headers: Any, limit: int) -> dict[str, str | list[str]]:
    """Scrapy's bytes headers as {lower-case name: value}, each value capped; a header sent on several
    lines keeps every value, as a list (two PAYMENT-REQUIRED that disagree are a finding, not the first)."""
    out: dict[str, str | list[str]] = {}
    # Scrapy's Headers store each name normalized with its list of values: read them as stored (its
    # items() looks every name up again)
    for key, values in (dict.items(headers) if isinstance(headers, dict) else headers.items()):
        name = key.decode("latin-1").lower()
        texts = [value[: limit + 1].decode("latin-1") for value in values] or [""]
        out[name] = texts[0] if len(texts) == 1 else texts
    return out
