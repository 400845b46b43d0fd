"""The SSRF guard's resolve-time half: a DNS resolver that refuses non-global answers.

Scrapy connects to whatever address its resolver returns, so checking here means the address we
judge is the address we connect to: a name that resolves to a private address, or that rebinds to
one between two lookups, never gets a socket. Refused names are remembered (per process: Scrapy
builds the resolver for the whole process, and we run one crawl per process), so the probe that
failed can be recorded as `blocked` instead of as a DNS failure.
"""

from __future__ import annotations

from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from index.probe.netguard import ip_block_reason

# name → reason, for every name the resolver refused in this process.
BLOCKED_NAMES: dict[str, str] = {}


class BlockedAddress(DNSLookupError):
    """A name resolved to an address the guard refuses."""


class GuardedResolver(CachingThreadedResolver):
    def __init__(self, reactor: Any, cache_size: int, timeout: float, *, allow_private: bool = False,
                 allow_hosts: frozenset[str] = frozenset()) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = allow_private
        self.allow_hosts = allow_hosts

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        settings = crawler.settings  # Scrapy passes the crawler process here, with the process settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"),
                   allow_private=settings.getbool("X402_ALLOW_PRIVATE"),
                   allow_hosts=allow_hosts_setting(settings))

    def lookup(self, name: str) -> Deferred[str]:
        """The raw lookup (cached); a test subclass replaces it with a stub answering fixed addresses."""
        return super().getHostByName(name)

    def getHostByName(self, name: str, timeout: Any = ()) -> Deferred[str]:  # noqa: N802 - Twisted's name
        d = self.lookup(name)
        if self.allow_private or name.lower().rstrip(".") in self.allow_hosts:
            return d
        d.addCallback(self._check, name)
        return d

    def _check(self, address: str, name: str) -> str:
        reason = ip_block_reason(address)
        if reason:
            BLOCKED_NAMES[name.lower().rstrip(".")] = f"resolves_to_{reason}"
            raise BlockedAddress(f"{name} resolves to a {reason} address")
        return address


def allow_hosts_setting(settings: Any) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in settings.getlist("X402_ALLOW_HOSTS") if h.strip())



def blocked_reason(hostname: str | None) -> str | None:
    """Why the resolver refused `hostname` in this process, if it did."""
    return BLOCKED_NAMES.get((hostname or "").lower().rstrip("."))
