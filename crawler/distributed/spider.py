"""ProbeSpider on a shared frontier: the same probes and discovery, with the crawl's memory of what
it has seen (claims, sources, origins met, docs budgets) kept in Redis for the whole fleet.

Subclassing, not forking: the requests, callbacks and items are ProbeSpider's. What changes is who
decides that a resource or an origin is new (an atomic claim in Redis instead of a set in this
process), where a late source goes (the run's sightings list; the coordinator stores them once every
probe is stored), and that every callback holds its request's lease until what it yielded is safe.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request

from crawler.discovery import Candidate
from crawler.distributed.frontier import (CLAIMED, DOCS_CAPPED, DOCS_CAPPED_FIRST, DOCS_CLAIMED, DUPLICATE, SIGHTING,
                                          Frontier, current_run)
from crawler.spiders.origins import HTML_ACCEPT
from crawler.stats import OUTCOME
from crawler.spiders.probe import _GOOD_ANSWERS, ProbeSpider, _source_with_claims
from index.docs.links import is_sibling
from index.probe.budget import docs_budget_finding
from index.urls import canonical_url, origin_of, resource_key

LEASE = "_x402_lease"  # request meta: the lease of the request this one replaces (a redirect, a retry)
ITEM_LEASE = "_lease"  # item key: the lease to release once the item is stored (removed before storing)


class Leases:
    """This worker's leases: a lease is released (acked in Redis) when its callback has finished and
    every item the callback yielded is stored."""

    def __init__(self, ack: Callable[[bytes], None]) -> None:
        self._ack = ack
        self._held: dict[int, list[Any]] = {}  # token -> [working-list entry, holds]
        self._next = 0

    def take(self, entry: bytes) -> int:
        self._next += 1
        self._held[self._next] = [entry, 1]
        return self._next

    def hold(self, token: int) -> None:
        self._held[token][1] += 1

    def release(self, token: int) -> None:
        held = self._held.get(token)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del self._held[token]
            self._ack(held[0])

    def __len__(self) -> int:
        return len(self._held)

    def around(self, request: Request | None, output: Iterable[Any] | None) -> Iterator[Any]:
        """A callback's output, with its lease held until the last element is handled (the scraper
        handles one element at a time: CONCURRENT_ITEMS = 1) and by each item until it is stored."""
        token = request.meta.pop(LEASE, None) if request is not None else None  # a nested callback passes through
        try:
            for element in output or ():
                self._tag(token, element)
                yield element
        finally:
            if token is not None:
                self.release(token)

    async def around_async(self, request: Request, output: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """`around` for an asynchronous callback."""
        token = request.meta.pop(LEASE, None)
        try:
            async for element in output:
                self._tag(token, element)
                yield element
        finally:
            if token is not None:
                self.release(token)

    def _tag(self, token: int | None, element: Any) -> None:
        if token is not None and isinstance(element, dict):
            element[ITEM_LEASE] = token
            self.hold(token)


class DistributedProbeSpider(ProbeSpider):
    """Started with a Frontier (`frontier=`); takes its work from the run's tasks and queue."""

    name = "probe-distributed"

    def __init__(self, frontier: Frontier, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.frontier = frontier
        self.leases = Leases(frontier.ack)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> DistributedProbeSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator with nothing to start: the work comes from the frontier

    def _idle(self) -> None:
        """Idle is not done: other workers may still yield work. Done is the coordinator's word (or
        another run opened: this one was abandoned)."""
        if self.frontier.done():
            return
        current = current_run(self.frontier.server)
        if current is not None and current != self.frontier.run_id:
            return
        raise DontCloseSpider

    # -- tasks from the coordinator -------------------------------------------------------------

    def take_tasks(self, enqueue: Callable[[Request], Any], limit: int = 20) -> int:
        """Turn up to `limit` tasks into requests in the shared queue; each task's lease is acked
        once its requests are queued. Returns the number of tasks taken."""
        taken = 0
        while taken < limit:
            got = self.frontier.take_task()
            if got is None:
                break
            entry, task = got
            for request in self._task_requests(task):
                enqueue(request)
            self.frontier.ack(entry)
            taken += 1
        return taken

    def _task_requests(self, task: dict[str, Any]) -> Iterator[Request]:
        kind = task.get("kind")
        if kind == "candidate":
            yield from self.candidate_requests([task["cand"]])
        elif kind == "facilitator":
            yield self._discovery_request(task["url"], 0)
        elif kind == "origin":
            yield from self.origin_requests(task["url"])

    # -- claims instead of this process' sets --------------------------------------------------------

    def candidate_requests(self, candidates: Iterable[Candidate]) -> Iterator[Any]:
        for cand in candidates:
            key = resource_key(cand)
            if key is None:
                self.crawler.stats.inc_value("x402/candidates/bad_url")
                continue
            verdict = self.frontier.claim(key, _source_with_claims(cand), dict(cand))
            if verdict == SIGHTING:
                if cand.get("source"):
                    self.frontier.add_sighting({"kind": "source", "url": key[0], "method": key[1],
                                                "source": _source_with_claims(cand), "seen_at": datetime.now(UTC).isoformat()})
                continue
            if verdict == DUPLICATE:
                self.crawler.stats.inc_value("x402/candidates/duplicate")
                continue
            assert verdict == CLAIMED
            request = ProbeSpider._probe_request(self, cand)
            # the claim is the fleet's record; this process keeps nothing per resource
            self._queued.discard(key)
            self._sources.pop(key, None)
            if request is None:
                self.frontier.unclaim(key)
                continue
            yield request
            yield from self.origin_requests(request.meta["url"])

    def _meet_origin(self, origin: str) -> bool:
        """The first worker of the fleet to meet `origin` reads its files; its docs budget is the
        fleet's (claim_docs), not this process's."""
        return self.frontier.claim_origin(origin, self.settings.getint("X402_DOCS_PAGES"))

    def _docs_requests(self, origin: str, links: list[str] | list[tuple[str, str, bool]],
                       findings: list[dict[str, Any]]) -> list[Request]:
        """OriginDiscovery's (URLs, or (URL, kind, sibling_ok)), with the origin's docs budget (and
        its one `discovery_capped` finding) kept for the fleet."""
        out = []
        for entry in links:
            link, kind, sibling_ok = entry if isinstance(entry, tuple) else (entry, "docs", False)
            try:
                url = canonical_url(link)
            except ValueError:
                continue
            off_origin = origin_of(url) != origin
            if off_origin and not (sibling_ok and kind == "docs" and is_sibling(url, origin)):
                continue
            verdict = self.frontier.claim_docs(origin, url)
            if verdict in (DOCS_CAPPED_FIRST, DOCS_CAPPED):
                if verdict == DOCS_CAPPED_FIRST:
                    findings.append(docs_budget_finding(origin, self.settings.getint("X402_DOCS_PAGES")))
                break
            if verdict == DOCS_CLAIMED:
                out.append(self._docs_page(origin, url, kind, off_origin))
        return out

    def _docs_request(self, origin: str, url: str, kind: str = "docs", sibling_ok: bool = False) -> Request | None:
        found = self._docs_requests(origin, [(url, kind, sibling_ok)], [])
        return found[0] if found else None

    def _docs_page(self, origin: str, url: str, kind: str = "docs", sibling: bool = False) -> Request:
        accept = HTML_ACCEPT if kind == "docs" else "application/json, application/yaml;q=0.9, text/plain;q=0.8"
        return Request(url, callback=self.parse_origin_file, errback=self.origin_file_failed,
                       headers={"Accept": accept}, dont_filter=True,
                       meta={"origin": origin, "page_kind": kind, "handle_httpstatus_all": True, "sibling": sibling})

    def _finish(self, meta: dict[str, Any], final: dict[str, Any]) -> Iterator[dict[str, Any]]:
        attempts = [*meta["prior"], final]
        answered = final["outcome"] in _GOOD_ANSWERS
        resource_method = final["method"] if answered else attempts[0]["method"]
        self.crawler.stats.inc_value(OUTCOME + final["outcome"])
        # finished for the fleet, and every source any worker saw for it until now (later ones are sightings)
        sources = self.frontier.finish(meta["queue_key"], (meta["url"], resource_method))
        for item in attempts:
            item["resource_method"] = resource_method
            item["final"] = item is final
            if sources:
                item["sources"] = list(sources)
            yield item

    # -- every callback holds its lease ------------------------------------------------------------

    def parse_discovery(self, response: Any) -> Any:
        return self.leases.around(response.request, super().parse_discovery(response))

    def discovery_failed(self, failure: Any) -> Any:
        return self.leases.around(failure.request, super().discovery_failed(failure))

    def parse_probe(self, response: Any) -> Any:
        return self.leases.around(response.request, super().parse_probe(response))

    def probe_failed(self, failure: Any) -> Any:
        return self.leases.around(failure.request, super().probe_failed(failure))

    def parse_origin_file(self, response: Any) -> Any:
        return self.leases.around(response.request, super().parse_origin_file(response))

    def parse_manifest_and_dns(self, response: Any) -> Any:
        return self.leases.around_async(response.request, super().parse_manifest_and_dns(response))

    def parse_favicon(self, response: Any) -> Any:
        return self.leases.around(response.request, super().parse_favicon(response))

    def origin_file_failed(self, failure: Any) -> Any:
        return self.leases.around(failure.request, super().origin_file_failed(failure))
