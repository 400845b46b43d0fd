"""The two requests a test-buy makes (the unpaid probe and the paid call): guarded like the crawl
and connected to the very address the guard checked, never redirected, bounded in time and size, certificates verified, no proxy from the environment."""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from index.probe.netguard import host_block_reason, ip_block_reason
from index.testbuy.decode import BoundedDecoder, accept_encoding

MAX_BODY = 1024 * 1024  # bytes of an answer we keep, decoded; the rest is not downloaded
MAX_WIRE = 2 * MAX_BODY  # raw bytes of an answer we read (compressed data is rarely larger than it decodes to)
ACCEPT_ENCODING = accept_encoding()  # each decoded with a bound (index.testbuy.decode)
USER_AGENT = "x402-index test-buy (+https://github.com/x402-index)"


class Blocked(Exception):
    """The URL (or an address its host resolves to) is one we never connect to."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    latency_ms: float
    truncated: bool = False
    content_type: str | None = field(default=None)


def guard(url: str, allow_private: bool = False, allow_hosts: frozenset[str] = frozenset()) -> str | None:
    """Raise Blocked for a URL the crawl's SSRF rules refuse, checking every address its host
    resolves to (not only literals). `allow_private` / `allow_hosts` lift it as in `crawl`.

    Returns the checked address the request must connect to (`request(connect_to=...)`), so a name
    that resolves elsewhere a moment later (DNS rebinding) cannot move the request; None when the
    guard is lifted or the host is an IP literal (the URL itself is then the address)."""
    reason = host_block_reason(url, allow_private, allow_hosts)
    if reason:
        raise Blocked(f"{url}: refused ({reason}); private and loopback addresses need --allow-private or --allow-host")
    parts = urlsplit(url)
    host = parts.hostname or ""
    if allow_private or host in allow_hosts or _is_ip(host):
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Blocked(f"{url}: cannot resolve {host} ({exc})") from None
    addresses = [str(info[4][0]) for info in infos]
    for address in addresses:
        reason = ip_block_reason(address)
        if reason:
            raise Blocked(f"{url}: {host} resolves to a {reason} address; refused")
    if not addresses:
        raise Blocked(f"{url}: {host} resolves to no address")
    return addresses[0]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def pinned(url: str, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """(URL with the host replaced by `address`, the Host header, httpx extensions) for a request
    that connects to `address` but is, for the server and for TLS, a request to the URL's host: the
    certificate is still verified against the name (SNI and hostname check use `sni_hostname`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}, extensions


def request(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float,
            connect_to: str | None = None) -> Answer:
    """One request, no redirect followed (a 3xx is the answer). Network errors and timeouts raise
    httpx exceptions; the caller decides what they mean. `connect_to`: the address `guard` checked.

    `timeout` bounds the whole exchange (connect, status line, headers, every 1xx, body): httpx's
    own timeouts are per read, so one header byte a second, or `100 Continue` without end, would
    hold a request for as long as the server likes. The raw body read is at most MAX_WIRE bytes and
    it decodes to at most MAX_BODY bytes (index.testbuy.decode): more sets `truncated`."""
    exchange = _exchange(method, url, headers, body, timeout, connect_to)
    # In a thread of its own, so a caller already inside an event loop (an MCP tool) can call it.
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="test-buy") as pool:
        return pool.submit(asyncio.run, exchange).result()


async def _exchange(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float,
                    connect_to: str | None) -> Answer:
    start = time.perf_counter()
    extensions: dict[str, str] = {}
    sent_headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": USER_AGENT, **headers}
    if connect_to is not None:
        url, host_header, extensions = pinned(url, connect_to)
        sent_headers.update(host_header)
    try:
        async with asyncio.timeout(timeout):
            async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, verify=True, trust_env=False) as client:
                async with client.stream(method, url, headers=sent_headers, content=body, extensions=extensions) as resp:
                    decoder = BoundedDecoder(resp.headers.get_list("content-encoding"), MAX_BODY)
                    wire = 0
                    async for raw in resp.aiter_raw():
                        wire += len(raw)
                        decoder.feed(raw)
                        if decoder.full or wire > MAX_WIRE:
                            break
                    latency = (time.perf_counter() - start) * 1000
                    out_headers = {k.lower(): v for k, v in resp.headers.items()}
                    return Answer(resp.status_code, out_headers, decoder.body(), latency,
                                  decoder.full or wire > MAX_WIRE, out_headers.get("content-type"))
    except TimeoutError:
        raise httpx.ReadTimeout(f"no complete answer within {timeout:g} s") from None
