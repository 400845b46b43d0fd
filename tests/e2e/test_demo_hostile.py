"""The demo fleet's hostile origin, hit counter and self-signed HTTPS origin misbehave as designed.

These check the servers, not the crawler: raw sockets and httpx (no proxies, short timeouts) against
the session fleet, and a private in-process HostileOrigin for the stateful cases, so the shared
fleet's /rate-limited-once is never consumed here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import ssl
import time
import zlib
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from index.demo.hostile import (
    ABSURD_AMOUNTS,
    ABSURD_TIMEOUT,
    BIDI_DESCRIPTION,
    COUNTER_HOST,
    GZIP_BOMB_SIZE,
    HUGE_HEADER_SIZE,
    MANY_ACCEPTS,
    HitCounter,
    HostileOrigin,
)
from index.demo.server import PORT_KEYS, DemoFleet
from index.demo.spec import HOSTILE_RESOURCES, METADATA_URL, ZERO_ADDRESS
from index.probe.outcomes import Outcome
from index.protocol.challenge import parse_challenge
from index.protocol.wire import decode_header_json


def _client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=3, follow_redirects=False, **kwargs)


def _url(fleet: dict[str, Any], path: str) -> str:
    return fleet["origins"]["hostile"] + path


def _raw(url: str, read_timeout: float = 2.0, max_bytes: int = 64 * 1024) -> bytes:
    """Send a bare GET; return what arrives within `read_timeout` seconds in all (at most max_bytes)."""
    parts = urlsplit(url)
    deadline = time.monotonic() + read_timeout
    with socket.create_connection((parts.hostname, parts.port), timeout=2) as sock:
        sock.sendall(f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        try:
            while len(data) < max_bytes and (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except TimeoutError:
            pass
        return data


def _hits(fleet: dict[str, Any]) -> int:
    return httpx.get(fleet["hits_url"], trust_env=False, timeout=3).json()["hits"]


# -- manifest ----------------------------------------------------------------------------------


def test_manifest_describes_every_resource_and_keeps_the_well_behaved_counts(fleet: dict[str, Any]) -> None:
    assert {"weather", "ai", "chain", "hostile", "tls"} == set(fleet["origins"])
    assert fleet["origins"]["tls"].startswith("https://127.0.0.1:")
    assert fleet["counter"].startswith(f"http://{COUNTER_HOST}:")
    assert fleet["hits_url"] == _url(fleet, "/__hits")
    outcomes = {o.value for o in Outcome}
    for r in fleet["resources"]:
        assert isinstance(r["hostile"], bool) and r["expect"]["outcome"] in outcomes, r["url"]
        assert isinstance(r["expect"]["findings"], list)
    calm = [r for r in fleet["resources"] if not r["hostile"]]
    assert sum(r["paid"] for r in calm) == 12 and len(calm) == 14
    assert [r["expect"]["outcome"] for r in calm].count("free") == 1
    assert [r["expect"]["outcome"] for r in calm].count("not_found") == 1
    hostile = [r for r in fleet["resources"] if r["hostile"]]
    assert len(hostile) == len(HOSTILE_RESOURCES) + 1 and not any(r["paid"] for r in hostile)
    seeds = set(fleet["seeds"])
    for r in hostile:
        line = r["url"] if r.get("undeclared") else f"{r['method']} {r['url']}"
        if r["listed_by_facilitator"]:
            assert line not in seeds
        elif r["expect"].get("leaves_loopback"):
            assert line not in seeds and line in fleet["guarded_seeds"]
        else:
            assert line in seeds
        if r["expect"]["outcome"] == "paid":
            assert r["accepts"] and r["version"] in (1, 2), r["url"]
    assert {s.split("/")[-1] for s in fleet["guarded_seeds"]} == {"redirect-private", "redirect-metadata", "redirect-decimal"}


def test_base_port_lays_out_the_new_servers_after_the_old_ones() -> None:
    for _ in range(20):
        base = random.randrange(20000, 60000)
        try:
            for i, key in enumerate(PORT_KEYS):
                with socket.socket() as s:
                    s.bind((COUNTER_HOST if key == "counter" else "127.0.0.1", base + i))
            break
        except OSError:
            continue
    with DemoFleet(base_port=base) as running:
        m = running.manifest
    ports = {k: urlsplit(u).port for k, u in m["origins"].items()}
    assert ports == {"weather": base, "ai": base + 1, "chain": base + 2, "hostile": base + 4, "tls": base + 5}
    assert urlsplit(m["facilitator"]).port == base + 3
    assert m["counter"] == f"http://{COUNTER_HOST}:{base + 6}"


# -- malformed and odd challenges -----------------------------------------------------------


def test_bad_base64_and_absurd_amounts(fleet: dict[str, Any]) -> None:
    with _client() as c:
        bad = c.get(_url(fleet, "/bad-base64"))
        assert bad.status_code == 402 and bad.headers["payment-required"] == "not*valid*base64!!"
        absurd = c.get(_url(fleet, "/absurd-amounts"))
    obj = decode_header_json(absurd.headers["payment-required"])
    assert [a["amount"] for a in obj["accepts"]] == list(ABSURD_AMOUNTS)
    assert {a["maxTimeoutSeconds"] for a in obj["accepts"]} == {ABSURD_TIMEOUT}
    assert {a["payTo"] for a in obj["accepts"]} == {ZERO_ADDRESS}
    assert not parse_challenge(402, absurd.headers, absurd.content).usable


def test_huge_header_is_valid_base64_json_of_100_kib(fleet: dict[str, Any]) -> None:
    with _client() as c:
        resp = c.get(_url(fleet, "/huge-header"))
    value = resp.headers["payment-required"]
    assert len(value) == HUGE_HEADER_SIZE
    obj = json.loads(base64.b64decode(value, validate=True))
    assert obj["x402Version"] == 2 and obj["accepts"][0]["amount"] == "1000"


def test_bodies_nested_invalid_utf8_bidi_conflict_many(fleet: dict[str, Any]) -> None:
    with _client() as c:
        nested = c.get(_url(fleet, "/nested-json")).content
        utf8 = c.get(_url(fleet, "/invalid-utf8")).content
        bidi = c.get(_url(fleet, "/bidi-text"))
        body_only = c.get(_url(fleet, "/v2-body-only"))
        conflict = c.get(_url(fleet, "/conflict"))
        many = c.get(_url(fleet, "/many-accepts"))
    assert nested == b"[" * 200_000
    with pytest.raises(UnicodeDecodeError):
        utf8.decode("utf-8")
    assert bidi.json()["accepts"][0]["description"] == BIDI_DESCRIPTION and len(BIDI_DESCRIPTION) == 5000
    assert parse_challenge(402, bidi.headers, bidi.content).usable
    assert "payment-required" not in body_only.headers and body_only.json()["x402Version"] == 2
    header = decode_header_json(conflict.headers["payment-required"])
    assert header["accepts"][0]["amount"] != conflict.json()["accepts"][0]["maxAmountRequired"]
    assert len(many.json()["accepts"]) == MANY_ACCEPTS and len(many.content) < 1024 * 1024


# -- transport misbehaviour -------------------------------------------------------------------


def test_transport_misbehaviour(fleet: dict[str, Any]) -> None:
    head = _raw(_url(fleet, "/content-length-4g"), read_timeout=0.5)
    assert head.startswith(b"HTTP/1.1 402") and b"Content-Length: 4294967296\r\n" in head
    assert _raw(_url(fleet, "/silent"), read_timeout=0.5) == b""
    drip = _raw(_url(fleet, "/drip"), read_timeout=1.5)
    body = drip.split(b"\r\n\r\n", 1)[1]
    assert b"Content-Length: 1000" in drip and 1 <= len(body) <= 3
    chunked = _raw(_url(fleet, "/oversized"), read_timeout=2, max_bytes=4 * 1024 * 1024)
    head, _, rest = chunked.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Length" not in head and len(rest) > 3 * 1024 * 1024
    truncated = _raw(_url(fleet, "/truncated"))
    assert b"Content-Length: 1000" in truncated and len(truncated.split(b"\r\n\r\n", 1)[1]) == 20
    with pytest.raises(httpx.RemoteProtocolError):
        _client().get(_url(fleet, "/truncated"))
    with pytest.raises((ConnectionResetError, httpx.ReadError)):
        _client().get(_url(fleet, "/reset"))


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(fleet: dict[str, Any]) -> None:
    raw = _raw(_url(fleet, "/gzip-bomb"), max_bytes=1024 * 1024)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"Content-Encoding: gzip" in head and len(body) < 100_000
    inflater, total = zlib.decompressobj(31), 0
    chunk = inflater.decompress(body, 1 << 20)
    while chunk:
        total += len(chunk)
        chunk = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
    assert total == GZIP_BOMB_SIZE


def test_statuses_and_redirects(fleet: dict[str, Any]) -> None:
    counter_port = urlsplit(fleet["counter"]).port
    with _client() as c:
        assert c.get(_url(fleet, "/rate-limited-long")).headers["retry-after"] == "3600"
        assert c.get(_url(fleet, "/server-error")).status_code == 500
        assert c.get(_url(fleet, "/auth")).status_code == 401
        loc = {p: c.get(_url(fleet, p)).headers["location"] for p in
               ("/redirect-loop", "/redirect-file", "/redirect-private", "/redirect-metadata", "/redirect-decimal")}
    assert loc == {
        "/redirect-loop": _url(fleet, "/redirect-loop"), "/redirect-file": "file:///etc/passwd",
        "/redirect-private": f"http://127.0.0.2:{counter_port}/hit", "/redirect-metadata": METADATA_URL,
        "/redirect-decimal": f"http://2130706434:{counter_port}/hit",
    }


# -- picky POST, counter, TLS -------------------------------------------------------------------


def test_picky_post_validates_its_body_and_is_listed_with_its_schema(fleet: dict[str, Any]) -> None:
    url = _url(fleet, "/v1/search")
    with _client() as c:
        assert c.get(url).status_code == 405
        assert c.post(url, json={}).status_code == 422
        assert c.post(url, json={"query": "x", "limit": 0}).status_code == 422
        assert c.post(url, json={"query": "x", "limit": True}).status_code == 422
        ok = c.post(url, json={"query": "", "limit": 1})
        listing = c.get(fleet["facilitator"] + "/discovery/resources?limit=100").json()
    assert ok.status_code == 402 and parse_challenge(402, ok.headers, ok.content).usable
    item = next(i for i in listing["items"] if i["resource"] == url)
    bazaar = item["extensions"]["bazaar"]
    assert bazaar["info"]["input"]["method"] == "POST" and bazaar["info"]["input"]["bodyType"] == "json"
    body_schema = bazaar["schema"]["properties"]["input"]["properties"]["body"]
    assert body_schema["required"] == ["query", "limit"]
    assert body_schema["properties"]["limit"] == {"type": "integer", "minimum": 1, "description": "How many results"}


def test_counter_counts_bare_tcp_connections_on_127_0_0_2(fleet: dict[str, Any]) -> None:
    before = _hits(fleet)
    with socket.create_connection((COUNTER_HOST, urlsplit(fleet["counter"]).port), timeout=2):
        pass
    deadline = time.monotonic() + 3
    while _hits(fleet) < before + 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _hits(fleet) == before + 1


def test_tls_origin_serves_a_402_behind_a_self_signed_certificate(fleet: dict[str, Any]) -> None:
    url = fleet["origins"]["tls"] + "/v1/secure-quote"
    with _client(verify=False) as c:
        resp = c.get(url)
    assert resp.status_code == 402 and parse_challenge(402, resp.headers, resp.content).usable
    with pytest.raises(httpx.ConnectError) as err, _client() as c:
        c.get(url)
    assert isinstance(err.value.__context__ or err.value.__cause__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(err.value)


# -- stateful cases on a private in-process origin -------------------------------------------


async def _get(port: int, path: str, method: str = "GET") -> tuple[int, dict[str, str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 3)).decode("latin-1").split("\r\n")
    writer.close()
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    return int(head[0].split()[1]), headers


def test_rate_limited_once_is_stateful_and_reset_forgets_it() -> None:
    async def scenario() -> list[int]:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        counter = HitCounter()
        origin = HostileOrigin(f"http://127.0.0.1:{port}", counter, 9)
        await origin.start(sock)
        try:
            first, headers = await _get(port, "/rate-limited-once")
            assert headers["retry-after"] == "1"
            seen = [first, (await _get(port, "/rate-limited-once"))[0]]
            seen.append((await _get(port, "/__reset", "POST"))[0])
            seen.append((await _get(port, "/rate-limited-once"))[0])
            # a held connection is cancelled on close()
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /silent HTTP/1.1\r\nHost: x\r\n\r\n")
            await asyncio.sleep(0.1)
            assert len(origin.tasks) == 1
        finally:
            origin.close()
            await origin.wait_closed()
        assert not origin.tasks
        return seen

    assert asyncio.run(scenario()) == [429, 402, 200, 429]
