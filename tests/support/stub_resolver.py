"""A resolver for tests: fixed answers for names under `.test`, so the SSRF guard can be shown a
name that resolves to a metadata, private or loopback address without any real DNS or socket.
Used with `-s TWISTED_DNS_RESOLVER=tests.support.stub_resolver.StubResolver`."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.resolver import GuardedResolver

ANSWERS = {
    "metadata.test": "169.254.169.254",
    "private.test": "10.0.0.1",
    "cgnat.test": "100.64.0.1",
    "counter.test": "127.0.0.2",  # the hit-counting server: must never be reached
    "nat64.test": "64:ff9b::7f00:2",
}
LOOKUPS: list[str] = []


class StubResolver(GuardedResolver):
    def lookup(self, name: str) -> Any:
        LOOKUPS.append(name)
        if name in ANSWERS:
            return defer.succeed(ANSWERS[name])
        if name.endswith(".test"):
            return defer.fail(DNSLookupError(name))
        return super().lookup(name)
