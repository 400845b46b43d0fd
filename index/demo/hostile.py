"""The fleet's hostile origin and its hit counter: raw asyncio TCP servers that misbehave on purpose.

Well-behaved frameworks cannot send a wrong Content-Length, drip a body, reset a socket or emit a
100 KiB header line, so these servers write HTTP/1.1 by hand. Each path of `HostileOrigin` is one case
of the hostile-input catalog (`index.demo.spec.HOSTILE_RESOURCES` says what a crawl must record for
it). Everything a crawl could be tricked into fetching elsewhere lands on `HitCounter`, a tiny server
on another loopback address (127.0.0.2) that counts every TCP connection it accepts, so a test can
prove the crawler's SSRF guard kept it away (`GET /__hits` on the hostile origin reads the count).

Every connection is bounded: request head ≤ 16 KiB, request body ≤ 64 KiB, reads time out, holds last
at most 60 s, each connection at most 90 s, and shutdown cancels whatever is still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import ipaddress
import json
import socket
import struct
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from x402.extensions.bazaar import OutputConfig, declare_discovery_extension

from index.demo.bait import bait_head, with_bait_tags
from index.demo.spec import (
    HOSTILE_RESOURCES,
    METADATA_URL,
    PICKY_BODY_SCHEMA,
    ZERO_ADDRESS,
    DemoResource,
    Price,
)
from index.demo.wire import v1_accept, v1_challenge, v2_accept
from index.protocol.wire import PAYMENT_REQUIRED, encode_header_json

MAX_REQUEST_HEAD = 16 * 1024
MAX_REQUEST_BODY = 64 * 1024
READ_TIMEOUT = 10.0
HOLD_SECONDS = 60
CONNECTION_DEADLINE = 90.0
MAX_CONNECTIONS = 256

GZIP_BOMB_SIZE = 64 * 1024 * 1024  # decompressed
OVERSIZED_BODY = 3 * 1024 * 1024  # sent chunked; the crawler's DOWNLOAD_MAXSIZE is 2 MiB
HUGE_HEADER_SIZE = 100 * 1024  # base64 characters of the PAYMENT-REQUIRED value
# Identical complete v1 accepts (~500 B each) in /many-accepts: far past the parser's cap (20) while the
# body stays under 1 MiB. 10,000 would be ~5 MB, past DOWNLOAD_MAXSIZE: a too_large case instead.
MANY_ACCEPTS = 2_000

_BY_PATH = {r.path: r for r in HOSTILE_RESOURCES}
_JSON = ("Content-Type", "application/json")

COUNTER_HOST = "127.0.0.2"  # the hit counter's loopback address (Linux routes all of 127/8 to lo)

Headers = Sequence[tuple[str, str]]


@dataclass
class HttpRequest:
    """A request as read off the socket: method, path without query, lower-case headers, body."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes = b""
    body_too_large: bool = False


# ---------------------------------------------------------------------------------------------
# reading and writing HTTP/1.1 by hand


async def read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """The next request, or None when the client sent nothing usable in time. Never reads past
    MAX_REQUEST_HEAD bytes of head (the stream's limit) or MAX_REQUEST_BODY bytes of body."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    method, target, _ = parts
    if target.startswith(("http://", "https://")):  # absolute-form
        split = urlsplit(target)
        target = (split.path or "/") + (f"?{split.query}" if split.query else "")
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    request = HttpRequest(method.upper(), path, query, headers)
    length = headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_REQUEST_BODY:
        request.body_too_large = True  # not read: answered from the head alone, then the connection closes
    elif int(length) > 0:
        try:
            request.body = await asyncio.wait_for(reader.readexactly(int(length)), READ_TIMEOUT)
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            return None
    return request


def status_line(status: int) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    return f"HTTP/1.1 {status} {reason}\r\n".encode("ascii")


def response_head(status: int, headers: Headers) -> bytes:
    """Status line and headers, exactly as given (no framing added), ending with the blank line."""
    lines = b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers)
    return status_line(status) + lines + b"\r\n"


async def send(writer: asyncio.StreamWriter, status: int, headers: Headers = (), body: bytes = b"") -> None:
    """A complete, correctly framed response; the connection closes after it."""
    framing = [("Content-Length", str(len(body))), ("Connection", "close")]
    writer.write(response_head(status, [*headers, *framing]) + body)
    await writer.drain()


async def send_json(writer: asyncio.StreamWriter, status: int, obj: Any, headers: Headers = ()) -> None:
    await send(writer, status, [*headers, _JSON], json.dumps(obj).encode())


def reset_connection(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER on, timeout 0)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# ---------------------------------------------------------------------------------------------
# payloads


@functools.cache
def gzip_bomb() -> bytes:
    """GZIP_BOMB_SIZE zeros, gzip-compressed (~65 KB), built once, 1 MiB at a time."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    block = bytes(1024 * 1024)
    out = [comp.compress(block) for _ in range(GZIP_BOMB_SIZE // len(block))]
    out.append(comp.flush())
    return b"".join(out)


def v2_challenge(res: DemoResource, url: str, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    """A v2 PaymentRequired object, shaped like the official SDK middleware's."""
    out: dict[str, Any] = {
        "x402Version": 2, "error": "Payment required",
        "resource": {"url": url, "description": res.description, "mimeType": "application/json"},
        "accepts": [v2_accept(res, p) for p in res.prices],
    }
    if extensions:
        out["extensions"] = extensions
    return out


PICKY_OUTPUT_EXAMPLE = {"results": [{"title": "x402 overview", "score": 0.93}]}


def picky_extension() -> dict[str, Any]:
    """The bazaar extension of POST /v1/search, built by the official SDK: a body JSON-Schema and no
    usable example (the SDK writes `body: {}` when a server declares only a schema)."""
    ext = declare_discovery_extension(input=None, input_schema=PICKY_BODY_SCHEMA, body_type="json",
                                      output=OutputConfig(example=PICKY_OUTPUT_EXAMPLE))
    ext["bazaar"]["info"]["input"]["method"] = "POST"
    return ext


def picky_body_errors(body: bytes) -> list[str]:
    """What is wrong with a /v1/search body: [] when it matches PICKY_BODY_SCHEMA."""
    try:
        obj = json.loads(body) if body.strip() else None
    except (ValueError, RecursionError):
        return ["body is not JSON"]
    if not isinstance(obj, dict):
        return ["body must be a JSON object"]
    errors = []
    if not isinstance(obj.get("query"), str):
        errors.append("query: required string")
    limit = obj.get("limit")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        errors.append("limit: required integer >= 1")
    return errors


BIDI_DESCRIPTION = (
    "\u202eReversed text\u202c \u200f\u2066isolate\u2069 \x00\x07\x1b[31mred\x1b[0m\x7f "
    "</script><script>alert(1)</script> <!--<script> \"><img src=x onerror=alert(1)> "
    "javascript:alert(1) "
)
BIDI_DESCRIPTION += "\u202e" + "A" * (5000 - len(BIDI_DESCRIPTION) - 1)
assert len(BIDI_DESCRIPTION) == 5000

ABSURD_AMOUNTS: tuple[Any, ...] = (0.01, "0.01", "-5", "1e30", "9" * 5000, "NaN", True)
ABSURD_TIMEOUT = 315_360_000  # ten years, in seconds


# ---------------------------------------------------------------------------------------------
# servers


class _BoundedServer:
    """An asyncio TCP server on a pre-bound socket whose every connection is tracked, bounded in
    time and cancelled on close()."""

    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    async def start(self, sock: socket.socket) -> None:
        self.server = await asyncio.start_server(self._connected, sock=sock, limit=MAX_REQUEST_HEAD)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self.tasks) >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        self.tasks.add(task)
        try:
            async with asyncio.timeout(CONNECTION_DEADLINE):
                await self.handle(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.CancelledError):
            pass
        finally:
            self.tasks.discard(task)
            if not writer.transport.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop listening and cancel every open connection."""
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()

    async def wait_closed(self) -> None:
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)


class HitCounter(_BoundedServer):
    """Counts every TCP connection it accepts (before reading a byte) and every request it reads;
    answers each request 200 `counted`. It stands in for any address a crawl must never reach."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0
        self.requests = 0

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await super()._connected(reader, writer)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        if request is None:
            return
        self.requests += 1
        await send(writer, 200, [("Content-Type", "text/plain")], b"counted\n")

    def reset(self) -> None:
        self.connections = 0
        self.requests = 0


Handler = Callable[[HttpRequest, asyncio.StreamWriter], Awaitable[None]]


class HostileOrigin(_BoundedServer):
    """One misbehaviour per path (see the module docstring), plus two control paths for tests:
    `GET /__hits` → {"hits": accepted connections, "requests": requests} of the hit counter, and
    `POST /__reset` → forgets /rate-limited-once's first call and zeroes the counter."""

    def __init__(self, base_url: str, counter: HitCounter, counter_port: int, counter_host: str = COUNTER_HOST) -> None:
        super().__init__()
        self.base = base_url
        self.counter = counter
        self.counter_host = counter_host
        self.counter_port = counter_port
        self.rate_limited_once_done = False
        self._many_accepts_body: bytes | None = None
        self.routes: dict[str, Handler] = {
            "/": self.home, "/__hits": self.hits, "/__reset": self.reset,
            "/drip": self.drip, "/silent": self.silent, "/content-length-4g": self.content_length_4g,
            "/oversized": self.oversized, "/gzip-bomb": self.gzip_bomb, "/truncated": self.truncated,
            "/reset": self.reset_socket, "/bad-base64": self.bad_base64, "/huge-header": self.huge_header,
            "/redirect-loop": self.redirect_loop, "/redirect-file": self.redirect_file,
            "/redirect-private": self.redirect_private, "/redirect-metadata": self.redirect_metadata,
            "/redirect-decimal": self.redirect_decimal, "/absurd-amounts": self.absurd_amounts,
            "/nested-json": self.nested_json, "/invalid-utf8": self.invalid_utf8, "/bidi-text": self.bidi_text,
            "/v2-body-only": self.v2_body_only, "/conflict": self.conflict, "/many-accepts": self.many_accepts,
            "/rate-limited-once": self.rate_limited_once, "/rate-limited-long": self.rate_limited_long,
            "/server-error": self.server_error, "/auth": self.auth, "/v1/search": self.picky_search,
            "/post-only": self.post_only, "/needs-token": self.needs_token,
            "/bait-tags": self.bait_tags,
        }
        missing = set(_BY_PATH) - set(self.routes)
        assert not missing, missing

    def url(self, path: str) -> str:
        return self.base + path

    def _res(self, path: str, **changes: Any) -> DemoResource:
        res = _BY_PATH[path].as_demo()
        return dataclasses.replace(res, **changes) if changes else res

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        if request is None:
            return
        route = self.routes.get(request.path)
        if route is None:
            await send_json(writer, 404, {"error": "not found"})
            return
        await route(request, writer)

    # -- control and pages ------------------------------------------------------------------

    async def home(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        items = "".join(f"<li><code>{r.method} {r.path}</code></li>" for r in HOSTILE_RESOURCES)
        # title and description carry markup bait (index.demo.bait) for the site's XSS tests
        html = (f"<!doctype html><html><head>{bait_head()}</head>"
                f"<body><h1>Hostile test origin</h1><ul>{items}</ul></body></html>")
        await send(writer, 200, [("Content-Type", "text/html; charset=utf-8")], html.encode())

    async def hits(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 200, {"hits": self.counter.connections, "requests": self.counter.requests})

    async def reset(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        if request.method != "POST":
            await send_json(writer, 405, {"error": "POST only"}, [("Allow", "POST")])
            return
        self.rate_limited_once_done = False
        self.counter.reset()
        await send_json(writer, 200, {"ok": True})

    # -- transport misbehaviour ---------------------------------------------------------------

    async def drip(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(402, [_JSON, ("Content-Length", "1000"), ("Connection", "close")]))
        for _ in range(HOLD_SECONDS):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(1)

    async def silent(self, _: HttpRequest, __: asyncio.StreamWriter) -> None:
        await asyncio.sleep(HOLD_SECONDS)

    async def content_length_4g(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(402, [_JSON, ("Content-Length", str(4 * 1024**3)), ("Connection", "close")]))
        writer.write(b'{"x402Version":2,')
        await writer.drain()
        await asyncio.sleep(HOLD_SECONDS)

    async def oversized(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(402, [_JSON, ("Transfer-Encoding", "chunked"), ("Connection", "close")]))
        chunk = b"a" * 65536
        parts = [b'{"pad":"'] + [chunk] * (OVERSIZED_BODY // len(chunk)) + [b'"}']
        for part in parts:
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def gzip_bomb(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        body = await asyncio.to_thread(gzip_bomb)
        await send(writer, 402, [_JSON, ("Content-Encoding", "gzip")], body)

    async def truncated(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(402, [_JSON, ("Content-Length", "1000"), ("Connection", "close")]))
        writer.write(b'{"x402Version":1,"ac')  # 20 of the 1000 bytes promised
        await writer.drain()

    async def reset_socket(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        reset_connection(writer)

    # -- malformed challenges -------------------------------------------------------------------

    async def bad_base64(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send(writer, 402, [(PAYMENT_REQUIRED, "not*valid*base64!!"), _JSON], b"{}")

    async def huge_header(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send(writer, 402, [(PAYMENT_REQUIRED, self.huge_header_value()), _JSON], b"{}")

    def huge_header_value(self) -> str:
        """A valid v2 challenge padded (in an extension) to HUGE_HEADER_SIZE base64 characters."""
        obj = v2_challenge(self._res("/huge-header", prices=(Price("eip155:84532", "0.001"),)), self.url("/huge-header"))
        obj["extensions"] = {"padding": ""}
        short = len(json.dumps(obj, separators=(",", ":")))
        obj["extensions"]["padding"] = "p" * (HUGE_HEADER_SIZE * 3 // 4 - short)
        value = encode_header_json(obj)
        assert len(value) == HUGE_HEADER_SIZE, len(value)
        return value

    async def absurd_amounts(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        res = self._res("/absurd-amounts", prices=(Price("eip155:84532", "0.001"),), pay_to=ZERO_ADDRESS)
        obj = v2_challenge(res, self.url("/absurd-amounts"))
        template = obj["accepts"][0]
        obj["accepts"] = [{**template, "amount": amount, "maxTimeoutSeconds": ABSURD_TIMEOUT} for amount in ABSURD_AMOUNTS]
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON], b"{}")

    async def nested_json(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send(writer, 402, [_JSON], b"[" * 200_000)

    async def invalid_utf8(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        body = (b'{"x402Version":1,"error":"bad \xff\xfe bytes","accepts":[{"scheme":"exact",'
                b'"network":"base-sepolia","maxAmountRequired":"1000","description":"caf\xc3\x28 \xed\xa0\x80",'
                b'"payTo":"' + _BY_PATH["/invalid-utf8"].pay_to.encode() + b'"}]}')
        await send(writer, 402, [("Content-Type", "application/json; charset=utf-8")], body)

    # -- valid challenges with something odd about them -----------------------------------------

    async def bidi_text(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        res = self._res("/bidi-text", description=BIDI_DESCRIPTION)
        await send_json(writer, 402, v1_challenge(res, self.url("/bidi-text")))

    async def bait_tags(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        """A valid v2 challenge whose tags carry markup bait (index.demo.bait)."""
        obj = with_bait_tags(v2_challenge(self._res("/bait-tags"), self.url("/bait-tags")))
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON], b"{}")

    async def v2_body_only(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 402, v2_challenge(self._res("/v2-body-only"), self.url("/v2-body-only")))

    async def conflict(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        res = self._res("/conflict")
        header = encode_header_json(v2_challenge(res, self.url("/conflict")))
        body_res = dataclasses.replace(res, prices=(Price("base-sepolia", "0.002"),))
        await send_json(writer, 402, v1_challenge(body_res, self.url("/conflict")), [(PAYMENT_REQUIRED, header)])

    async def many_accepts(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send(writer, 402, [_JSON], self.many_accepts_body())

    def many_accepts_body(self) -> bytes:
        """MANY_ACCEPTS copies of one complete v1 accept (built once)."""
        if self._many_accepts_body is not None:
            return self._many_accepts_body
        res = self._res("/many-accepts")
        accept = v1_accept(res, res.prices[0], self.url("/many-accepts"))
        body = json.dumps({"x402Version": 1, "error": "X-PAYMENT header is required",
                           "accepts": [accept] * MANY_ACCEPTS}, separators=(",", ":")).encode()
        assert len(body) < 1024 * 1024, len(body)
        self._many_accepts_body = body
        return body

    async def _paid_v2(self, path: str, writer: asyncio.StreamWriter, extensions: dict[str, Any] | None = None) -> None:
        obj = v2_challenge(self._res(path), self.url(path), extensions)
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON], b"{}")

    # -- statuses ---------------------------------------------------------------------------------

    async def rate_limited_once(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        if not self.rate_limited_once_done:
            self.rate_limited_once_done = True
            await send_json(writer, 429, {"error": "slow down"}, [("Retry-After", "1")])
            return
        await self._paid_v2("/rate-limited-once", writer)

    async def rate_limited_long(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 429, {"error": "come back in an hour"}, [("Retry-After", "3600")])

    async def server_error(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 500, {"error": "internal error"})

    async def auth(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 401, {"error": "unauthorized"}, [("WWW-Authenticate", 'Bearer realm="hostile"')])

    async def picky_search(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        """POST only; a body that does not match PICKY_BODY_SCHEMA gets 422 before any paywall."""
        if request.method != "POST":
            await send_json(writer, 405, {"error": "method not allowed"}, [("Allow", "POST")])
            return
        if request.body_too_large:
            await send_json(writer, 413, {"error": "body too large"})
            return
        errors = picky_body_errors(request.body)
        if errors:
            await send_json(writer, 422, {"error": "invalid body", "details": errors})
            return
        await self._paid_v2("/v1/search", writer, picky_extension())

    async def post_only(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        """A POST route whose listing forgot to say so: 405 to anything else."""
        if request.method != "POST":
            await send_json(writer, 405, {"error": "method not allowed"}, [("Allow", "POST")])
            return
        await self._paid_v2("/post-only", writer)

    async def needs_token(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        """Refuses every request for a parameter nobody documented: the paywall is never reached."""
        await send_json(writer, 400, {"error": "missing required parameter: token"})

    # -- redirects ----------------------------------------------------------------------------

    async def _redirect(self, writer: asyncio.StreamWriter, location: str) -> None:
        await send(writer, 302, [("Location", location)])

    async def redirect_loop(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await self._redirect(writer, self.url("/redirect-loop"))

    async def redirect_file(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await self._redirect(writer, "file:///etc/passwd")

    async def redirect_private(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await self._redirect(writer, f"http://{self.counter_host}:{self.counter_port}/hit")

    async def redirect_metadata(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await self._redirect(writer, METADATA_URL)

    async def redirect_decimal(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        # The counter's own address (127.0.0.2) as one decimal number, so a followed redirect is counted.
        await self._redirect(writer, f"http://{int(ipaddress.IPv4Address(self.counter_host))}:{self.counter_port}/hit")
