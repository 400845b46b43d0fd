"""The two requests a test-buy makes (the unpaid probe and the paid call): guarded like the crawl,
never redirected, bounded in time and size, certificates verified, no proxy from the environment."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from index.netguard import host_block_reason, ip_block_reason

MAX_BODY = 1024 * 1024  # bytes of an answer we read; the rest is not downloaded
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


def guard(url: str, allow_private: bool = False, allow_hosts: frozenset[str] = frozenset()) -> None:
    """Raise Blocked for a URL the crawl's SSRF rules refuse, checking every address its host
    resolves to (not only literals). `allow_private` / `allow_hosts` lift it as in `crawl`."""
    reason = host_block_reason(url, allow_private, allow_hosts)
    if reason:
        raise Blocked(f"{url}: refused ({reason}); private and loopback addresses need --allow-private or --allow-host")
    host = urlsplit(url).hostname or ""
    if allow_private or host in allow_hosts:
        return
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Blocked(f"{url}: cannot resolve {host} ({exc})") from None
    for info in infos:
        address = str(info[4][0])
        reason = ip_block_reason(address)
        if reason:
            raise Blocked(f"{url}: {host} resolves to a {reason} address; refused")


def request(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float) -> Answer:
    """One request, no redirect followed (a 3xx is the answer). Network errors and timeouts raise
    httpx exceptions; the caller decides what they mean."""
    start = time.perf_counter()
    with httpx.Client(follow_redirects=False, timeout=timeout, verify=True, trust_env=False) as client:
        with client.stream(method, url, headers={"Accept": "application/json", "User-Agent": USER_AGENT, **headers},
                           content=body) as resp:
            chunks, size, truncated = [], 0, False
            for chunk in resp.iter_bytes():
                if time.perf_counter() - start > timeout:  # httpx's timeouts are per read; ours is total
                    raise httpx.ReadTimeout(f"no complete answer within {timeout:g} s")
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY:
                    truncated = True
                    break
            data = b"".join(chunks)[:MAX_BODY]
            latency = (time.perf_counter() - start) * 1000
            out_headers = {k.lower(): v for k, v in resp.headers.items()}
            return Answer(resp.status_code, out_headers, data, latency, truncated, out_headers.get("content-type"))
