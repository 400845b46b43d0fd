"""Downloader middlewares: the SSRF guard.

Every request, redirects included (they re-enter the downloader), is checked before it leaves:
scheme http(s) only, no userinfo, and a host that is neither a non-global IP literal in any form nor
a name that resolves to one. Resolution happens here (in a thread) so the address we check is the
address Scrapy's DNS cache then connects to.
"""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from index.netguard import host_block_reason, ip_block_reason


class BlockedRequest(IgnoreRequest):
    """Refused by the SSRF guard; the probe outcome is `blocked`."""


class SSRFGuardMiddleware:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.allow_private = crawler.settings.getbool("X402_ALLOW_PRIVATE")
        self._resolved: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> SSRFGuardMiddleware:
        return cls(crawler)

    def _block(self, request: Any, reason: str) -> None:
        self.crawler.stats.inc_value(f"x402/ssrf/blocked/{reason.split(':')[0]}")
        raise BlockedRequest(f"blocked by SSRF guard: {reason}: {request.url}")

    async def process_request(self, request: Any) -> None:
        reason = host_block_reason(request.url, allow_private=self.allow_private)
        if reason:
            self._block(request, reason)
        if self.allow_private:
            return None
        hostname = urlsplit(request.url).hostname or ""
        if hostname not in self._resolved:
            self._resolved[hostname] = await maybe_deferred_to_future(deferToThread(_resolve_reason, hostname))
        if self._resolved[hostname]:
            self._block(request, self._resolved[hostname])
        return None


def _resolve_reason(hostname: str) -> str | None:
    """Why a hostname must not be fetched, judged on every address it resolves to."""
    try:
        infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return None  # unresolvable: the download itself will fail as unreachable
    for info in infos:
        reason = ip_block_reason(info[4][0])
        if reason:
            return f"resolves_to_{reason}"
    return None
