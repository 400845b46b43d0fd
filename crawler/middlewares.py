"""Downloader middlewares: the SSRF guard's request half, Retry-After back-off, and robots.txt.

SSRF: every request, redirects included (they re-enter the downloader), is checked before it
leaves: scheme http(s) only, no userinfo, no well-known non-web port, and no IP literal in any form
(dotted, decimal, hex, short, IPv6, mapped) outside global unicast. Names are judged at resolve time
by `crawler.resolver.GuardedResolver`, so the address checked is the address connected.

Retry-After: a 429 or 503 is retried a bounded number of times after the wait the server asked for
(capped). The wait is applied to that host's download slot, not by sleeping, so every other host
keeps being probed meanwhile.

robots.txt: Scrapy 2.19's RobotsTxtMiddleware hands a host's parsed rules to the first request that
waited for them and `None` (= allow everything) to every later waiter (they all await the same
Deferred, whose first consumer swallows its result). Ours makes every waiter read the stored rules.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.resolver import allow_hosts_setting
from index.probe.netguard import host_block_reason
from index.probe.politeness import RETRY_STATUSES, backoff_seconds, retry_after_seconds

logger = logging.getLogger(__name__)


class BlockedRequest(IgnoreRequest):
    """Refused by the SSRF guard; the probe outcome is `blocked`."""

    def __init__(self, reason: str, url: str) -> None:
        super().__init__(f"blocked by SSRF guard: {reason}: {url}")
        self.reason = reason


class SSRFGuardMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("X402_ALLOW_PRIVATE")
        self.allow_hosts = allow_hosts_setting(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Any) -> SSRFGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Any) -> None:
        reason = host_block_reason(request.url, allow_private=self.allow_private, allow_hosts=self.allow_hosts)
        if reason:
            self.crawler.stats.inc_value(f"x402/ssrf/blocked/{reason}")
            raise BlockedRequest(reason, request.url)
        return None


class RetryAfterMiddleware:
    """Honour 429/503 `Retry-After` (capped) by delaying the host's slot, then restore its pace."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        settings = crawler.settings
        self.max_times = settings.getint("X402_RETRY_AFTER_TIMES")
        self.max_wait = settings.getfloat("X402_RETRY_AFTER_MAX")

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls(crawler)

    def _slot(self, request: Any) -> Any:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        return downloader.slots.get(key)

    def process_response(self, request: Any, response: Any) -> Any:
        tries = request.meta.get("x402_retry_after_tries", 0)
        if response.status not in RETRY_STATUSES:
            if tries:
                self._restore(request)
            return response
        if request.meta.get("dont_retry") or tries >= self.max_times:
            self._restore(request)
            return response
        wait = backoff_seconds(retry_after_seconds(response.headers.get(b"Retry-After")), tries)
        stats = self.crawler.stats
        if wait > self.max_wait:
            stats.inc_value("x402/retry_after/too_long")
            self._restore(request)
            return response  # recorded as rate limited; the next scheduled crawl asks again
        slot = self._slot(request)
        retry = request.copy()
        retry.meta["x402_retry_after_tries"] = tries + 1
        if slot is not None:
            retry.meta.setdefault("x402_slot_delay", slot.delay)
            slot.delay = max(slot.delay, wait)
        retry.dont_filter = True
        stats.inc_value("x402/retry_after/retried")
        logger.debug("%s answered %s; retrying in %.1f s", request.url, response.status, wait)
        return retry

    def _restore(self, request: Any) -> None:
        """Put the host's pace back once the retried request has its answer."""
        previous = request.meta.get("x402_slot_delay")
        slot = self._slot(request)
        if previous is not None and slot is not None:
            slot.delay = previous


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's, except that every request waiting for a host's robots.txt gets its rules.

    Upstream, `robot_parser()` awaits the host's pending Deferred directly; the first awaiter's
    callback consumes the parsed rules and the rest get None, which `process_request_2` reads as
    "no robots.txt": with `Disallow: /`, a host's homepage and llms.txt were fetched while its
    OpenAPI document (the request that asked first) was refused. Here a waiter only waits for the
    Deferred to fire, passing its result on untouched, and then reads the rules Scrapy stored for
    the host (`_parsers[netloc]` is set to the parser, or None after an error, before it fires).
    """

    async def robot_parser(self, request: Any) -> Any:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        fired: Deferred[None] = Deferred()

        def relay(result: Any) -> Any:
            fired.callback(None)
            return result  # the next waiter still sees it

        pending.addBoth(relay)
        await maybe_deferred_to_future(fired)
        return self._parsers.get(netloc)
