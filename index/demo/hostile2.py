"""A second hostile origin: the cases of issue 20 (each once cost other results, unbounded memory, or
a crawl that never ended), written by hand like `index.demo.hostile`.

`CASES` lists every path with the crawl result it must produce. `HostileServers` runs the origin
(and a twin whose robots.txt says `Disallow: /`) on 127.0.0.1 in a background thread, for tests and
for `python -m index.demo.hostile2`, which prints their URLs and serves until interrupted.

Endless cases never end on their own: they write until the client goes away or HOLD_SECONDS pass
(each connection at most CONNECTION_DEADLINE), so a crawler without limits shows it in its memory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gzip
import json
import socket
import threading
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from index.demo.hostile import HOLD_SECONDS, HttpRequest, _BoundedServer, read_request, response_head, send, send_json
from index.protocol.wire import PAYMENT_REQUIRED, encode_header_json

PAY_TO = "0x2222222222222222222222222222222222222222"
SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
HEADER_LINE = 16 * 1024 - 64  # just under Twisted's 16 KiB line limit, so only a total cap stops it
TINY_CHUNK_BODY = 3 * 1024 * 1024  # sent as one-byte chunks
BOMB_SIZE = 256 * 1024**2  # what the bombs decode to (the ones that broke test-buy decoded to ~2 GiB)
_JSON = ("Content-Type", "application/json")


@dataclass(frozen=True)
class Case:
    """One path of the origin: what it does and what a crawl must record for it."""

    path: str
    description: str
    outcome: str  # index.probe.outcomes.Outcome value
    error_code: str | None = None  # the observation's error code, when the outcome has one
    findings: tuple[str, ...] = ()  # finding codes that must be present
    crawl: bool = True  # seeded in the crawl of every case (False: test-buy only)


CASES: tuple[Case, ...] = (
    Case("/header-flood", "402, then 16 KiB header lines without end", "too_large", "headers_too_large"),
    Case("/folded-header", "402 and one header folded (obs-fold) without end", "too_large", "headers_too_large"),
    Case("/continue-flood", "100 Continue without end", "too_large", "headers_too_large"),
    Case("/tiny-chunks", "402 whose 3 MiB body comes as one-byte chunks", "too_large", "body_too_fragmented"),
    Case("/slow-head", "402 status line, then one header byte per second", "timeout", "timeout"),
    Case("/corrupt-gzip", "402 with Content-Encoding: gzip and a body that is not gzip", "bad_encoding", "bad_encoding"),
    Case("/status-999", "Status 999", "other_status", "unknown_status"),
    Case("/nul-text", "Valid v2 challenge with NUL and lone surrogates in every text field", "paid",
         None, ("text_unstorable",)),
    Case("/gzip-gzip", "Content-Encoding: gzip, gzip: a few KB that decode to 256 MiB", "too_large", "too_large"),
    Case("/brotli-bomb", "Content-Encoding: br: a small answer that decodes to 256 MiB", "too_large", "too_large"),
    Case("/deflate-bomb", "Content-Encoding: deflate: 256 KB that decode to 256 MiB", "too_large", "too_large"),
    Case("/zstd-bomb", "Content-Encoding: zstd: a small answer that decodes to 256 MiB", "too_large", "too_large"),
    # rules we publish: the catalog once showed the first header's 0.001 USDC, called 2^256 − 1 USDC
    # conformant, and printed a Cyrillic look-alike name as if it were the Latin one
    Case("/two-challenges", "Two PAYMENT-REQUIRED headers: 0.001 USDC to one address, 1,000 USDC to another",
         "paid", None, ("header_ambiguous",)),
    Case("/max-amount", "A v2 challenge asking 2^256 − 1 atomic USDC", "paid", None, ("amount_implausible",)),
    Case("/look-alike", "A challenge whose description is the look-alike \"Сoinbase Оfficial\" (Cyrillic С, О)",
         "paid", None, ("text_mixed_script",)),
)
OTHER_PAY_TO = "0x3333333333333333333333333333333333333333"  # the second header's payee
MAX_UINT256 = 2**256 - 1
LOOK_ALIKE = "\u0421oinbase \u041efficial price feed"  # С, О: Cyrillic capitals ES and O


# Discovery without end. Facilitator listings, read with `--facilitator ORIGIN/same` and `ORIGIN/endless`:
SAME_PAGE_LISTING = "/same"  # the same one-item page whatever offset is asked for, total ten million
ENDLESS_LISTING = "/endless"  # ten million distinct one-item pages
LISTING_TOTAL = 10_000_000
WELL_KNOWN_ENTRIES = 1500  # past the well-known parser's 1,000 (invalid entries: nothing to probe)
LLMS_DOCS_LINKS = 250  # past llms.txt's 200 kept links, and far past the 5 docs pages read per origin


# ---------------------------------------------------------------------------------------------
# payloads


def challenge(url: str, description: str = "A paid answer", **extra_fields: Any) -> dict[str, Any]:
    """A valid v2 PaymentRequired object for `url` (Base Sepolia USDC, 0.001)."""
    accept = {"scheme": "exact", "network": "eip155:84532", "asset": SEPOLIA_USDC, "amount": "1000",
              "payTo": PAY_TO, "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"}}
    accept.update(extra_fields)
    return {"x402Version": 2, "error": "Payment required",
            "resource": {"url": url, "description": description, "mimeType": "application/json"},
            "accepts": [accept]}


UNSTORABLE = "nul\x00 and a lone surrogate \ud800 here"


def nul_challenge(url: str) -> dict[str, Any]:
    """A valid challenge whose every free-text field carries NUL and a lone surrogate (JSON can say
    both: `\\u0000`, `\\ud800`), as do extra, outputSchema and extensions."""
    obj = challenge(url, UNSTORABLE, extra={"name": "USDC", "version": "2", "note": UNSTORABLE},
                    outputSchema={"type": "object", "description": UNSTORABLE})
    obj["extensions"] = {"bazaar": {"info": {"output": {"example": {UNSTORABLE: UNSTORABLE}}}}, "note": UNSTORABLE}
    return obj


def _zeros_compressed(compressor: Any, size: int) -> bytes:
    block = bytes(1024 * 1024)
    out = [compressor.compress(block) for _ in range(size // len(block))]
    out.append(compressor.flush())
    return b"".join(out)


_BOMBS: dict[str, bytes] = {}
_BOMB_LOCK = threading.Lock()


def bomb(encoding: str) -> bytes:
    """BOMB_SIZE zeros encoded with `encoding` (gzip-gzip, br, deflate, zstd), built once."""
    with _BOMB_LOCK:
        if encoding in _BOMBS:
            return _BOMBS[encoding]
    built = _build_bomb(encoding)
    with _BOMB_LOCK:
        return _BOMBS.setdefault(encoding, built)


def _build_bomb(encoding: str) -> bytes:
    if encoding == "gzip-gzip":
        inner = _zeros_compressed(zlib.compressobj(1, zlib.DEFLATED, 31), BOMB_SIZE)
        return gzip.compress(inner, 9)
    if encoding == "deflate":
        return _zeros_compressed(zlib.compressobj(9, zlib.DEFLATED, 15), BOMB_SIZE)  # ~0.5 MB: under DOWNLOAD_MAXSIZE
    if encoding == "br":
        import brotli

        comp = brotli.Compressor(quality=1, lgwin=24)
        block = bytes(1024 * 1024)
        out = [comp.process(block) for _ in range(BOMB_SIZE // len(block))]
        out.append(comp.finish())
        return b"".join(out)
    if encoding == "zstd":
        from backports import zstd  # noqa: PLC0415 - httpx's own zstd decoder on Python < 3.14

        comp = zstd.ZstdCompressor(level=1)
        block = bytes(1024 * 1024)
        out = [comp.compress(block) for _ in range(BOMB_SIZE // len(block))]
        out.append(comp.flush())
        return b"".join(out)
    raise ValueError(encoding)


_BOMB_HEADERS = {"/gzip-gzip": ("gzip, gzip", "gzip-gzip"), "/brotli-bomb": ("br", "br"),
                 "/deflate-bomb": ("deflate", "deflate"), "/zstd-bomb": ("zstd", "zstd")}


# ---------------------------------------------------------------------------------------------
# the origin


Handler = Callable[[HttpRequest, asyncio.StreamWriter], Awaitable[None]]


class HostileOrigin2(_BoundedServer):
    """The cases above, plus robots.txt (allow all, or `Disallow: /` with `disallow_all`), a
    homepage, /llms.txt and /openapi.json, and `GET /__hits` → how often each path was asked for."""

    def __init__(self, base_url: str, *, disallow_all: bool = False) -> None:
        super().__init__()
        self.base = base_url
        self.disallow_all = disallow_all
        self.hits: Counter[str] = Counter()
        self.routes: dict[str, Handler] = {
            "/header-flood": self.header_flood, "/folded-header": self.folded_header,
            "/continue-flood": self.continue_flood, "/tiny-chunks": self.tiny_chunks, "/slow-head": self.slow_head,
            "/corrupt-gzip": self.corrupt_gzip, "/status-999": self.status_999, "/nul-text": self.nul_text,
            "/two-challenges": self.two_challenges, "/max-amount": self.max_amount, "/look-alike": self.look_alike,
            "/robots.txt": self.robots, "/": self.home, "/llms.txt": self.llms, "/openapi.json": self.openapi,
            "/__hits": self.hit_counts, "/.well-known/x402": self.well_known,
            SAME_PAGE_LISTING + "/discovery/resources": self.same_page, ENDLESS_LISTING + "/discovery/resources": self.endless,
            **{path: self.encoded_bomb for path in _BOMB_HEADERS},
        }
        missing = {c.path for c in CASES} - set(self.routes)
        assert not missing, missing

    def url(self, path: str) -> str:
        return self.base + path

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        if request is None:
            return
        if request.path != "/__hits":
            self.hits[request.path] += 1
        route = self.routes.get(request.path)
        if route is None:
            await send_json(writer, 404, {"error": "not found"})
            return
        await route(request, writer)

    async def _endless(self, writer: asyncio.StreamWriter, head: bytes, piece: bytes) -> None:
        """Write `head`, then `piece` again and again until the client leaves or HOLD_SECONDS pass."""
        writer.write(head)
        batch = piece * max(1, (256 * 1024) // len(piece))  # ~256 KiB a write: as fast as the client reads
        loop = asyncio.get_running_loop()
        until = loop.time() + HOLD_SECONDS
        while loop.time() < until and not writer.transport.is_closing():
            writer.write(batch)
            await writer.drain()

    # -- the response head without end -----------------------------------------------------------

    async def header_flood(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        head = b"HTTP/1.1 402 Payment Required\r\nContent-Type: application/json\r\n"
        await self._endless(writer, head, b"X-Pad: " + b"p" * HEADER_LINE + b"\r\n")

    async def folded_header(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        head = b"HTTP/1.1 402 Payment Required\r\nX-Folded: start\r\n"
        await self._endless(writer, head, b" " + b"f" * HEADER_LINE + b"\r\n")

    async def continue_flood(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await self._endless(writer, b"", b"HTTP/1.1 100 Continue\r\n\r\n" * 64)

    async def slow_head(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 402 Payment Required\r\n")
        for _ in range(HOLD_SECONDS):
            writer.write(b"X")
            await writer.drain()
            await asyncio.sleep(1)

    # -- bodies ---------------------------------------------------------------------------------

    async def tiny_chunks(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        writer.write(response_head(402, [_JSON, ("Transfer-Encoding", "chunked"), ("Connection", "close")]))
        batch = b"1\r\na\r\n" * 4096  # 4096 one-byte chunks per write: the chunks, not the writes, are tiny
        for _ in range(TINY_CHUNK_BODY // 4096):
            if writer.transport.is_closing():
                return
            writer.write(batch)
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def corrupt_gzip(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        body = b"\x1f\x8b\x08\x00" + b"this is not a deflate stream at all" * 10
        await send(writer, 402, [_JSON, ("Content-Encoding", "gzip")], body)

    async def encoded_bomb(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        header, kind = _BOMB_HEADERS[request.path]
        body = await asyncio.to_thread(bomb, kind)
        await send(writer, 402, [_JSON, ("Content-Encoding", header)], body)

    async def status_999(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 999, {"error": "no such status"})

    async def nul_text(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        obj = nul_challenge(self.url("/nul-text"))
        # json.dumps writes \u0000 and \ud800 escapes: valid JSON that decodes to unstorable text
        body = json.dumps(obj).encode()
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON, ("X-Note", "nul\\u0000")], body)

    # -- answers that parse, and must not be believed --------------------------------------------

    async def two_challenges(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        url = self.url("/two-challenges")
        cheap, dear = challenge(url), challenge(url, amount="1000000000", payTo=OTHER_PAY_TO)
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(cheap)), (PAYMENT_REQUIRED, encode_header_json(dear)),
                                 _JSON], b"{}")

    async def max_amount(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        obj = challenge(self.url("/max-amount"), amount=str(MAX_UINT256))
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON], b"{}")

    async def look_alike(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        obj = challenge(self.url("/look-alike"), LOOK_ALIKE)
        await send(writer, 402, [(PAYMENT_REQUIRED, encode_header_json(obj)), _JSON], b"{}")

    # -- what discovery reads -------------------------------------------------------------------

    async def robots(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        rules = "User-agent: *\nDisallow: /\n" if self.disallow_all else "User-agent: *\nAllow: /\n"
        await send(writer, 200, [("Content-Type", "text/plain")], rules.encode())

    async def home(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        html = ('<!doctype html><html><head><title>Hostile origin 2</title></head><body>'
                '<a href="/llms.txt">llms.txt</a> <a href="/openapi.json">API</a></body></html>')
        await send(writer, 200, [("Content-Type", "text/html; charset=utf-8")], html.encode())

    async def llms(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        links = "".join(f"- [Guide {i}]({self.base}/docs/guide-{i}.md)\n" for i in range(LLMS_DOCS_LINKS))
        text = f"# Hostile 2\n- [API]({self.base}/openapi.json)\n{links}"
        await send(writer, 200, [("Content-Type", "text/plain")], text.encode())

    async def well_known(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 200, {"x402Version": 2, "resources": list(range(WELL_KNOWN_ENTRIES))})

    def _listing_item(self, path: str, text: str = "listed") -> dict[str, Any]:
        obj = challenge(self.url(path), text, extra={"name": "USDC", "version": "2", "note": text})
        return {"resource": self.url(path), "type": "http", "x402Version": 2, "accepts": obj["accepts"], "description": text}

    async def same_page(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        # its item also carries NUL and a lone surrogate: a listing's text reaches the store too
        await send_json(writer, 200, {"x402Version": 2, "items": [self._listing_item("/listed/same", UNSTORABLE)],
                                      "pagination": {"limit": 1, "offset": 0, "total": LISTING_TOTAL}})

    async def endless(self, request: HttpRequest, writer: asyncio.StreamWriter) -> None:
        offset = dict(p.partition("=")[::2] for p in request.query.split("&")).get("offset", "0")
        offset = offset if offset.isdigit() else "0"
        await send_json(writer, 200, {"x402Version": 2, "items": [self._listing_item(f"/listed/{offset}")],
                                      "pagination": {"limit": 1, "offset": int(offset), "total": LISTING_TOTAL}})

    async def openapi(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 200, {"openapi": "3.1.0", "info": {"title": "Hostile 2", "version": "1"}, "paths": {}})

    async def hit_counts(self, _: HttpRequest, writer: asyncio.StreamWriter) -> None:
        await send_json(writer, 200, dict(self.hits))


# ---------------------------------------------------------------------------------------------
# running it


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class HostileServers:
    """The origin (`urls["origin"]`) and its robots-refusing twin (`urls["robots"]`) on 127.0.0.1, in
    a background thread: `with HostileServers() as urls: ...`. `servers` holds the live objects."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        self.servers: dict[str, HostileOrigin2] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> dict[str, str]:
        # The bombs take a few seconds to build; built first (in parallel: the compressors release
        # the GIL), so no request waits for one while a client's timeout runs.
        with concurrent.futures.ThreadPoolExecutor(len(_BOMB_HEADERS)) as pool:
            list(pool.map(bomb, [kind for _, kind in _BOMB_HEADERS.values()]))
        socks = {"origin": _bind(), "robots": _bind()}
        self.urls = {k: f"http://127.0.0.1:{s.getsockname()[1]}" for k, s in socks.items()}
        self.servers = {"origin": HostileOrigin2(self.urls["origin"]),
                        "robots": HostileOrigin2(self.urls["robots"], disallow_all=True)}
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(socks),), daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("hostile origin 2 did not start")
        return self.urls

    async def _serve(self, socks: dict[str, socket.socket]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        for key, server in self.servers.items():
            socks[key].listen(128)
            await server.start(socks[key])
        self._ready.set()
        await self._stop.wait()
        for server in self.servers.values():
            server.close()
        for server in self.servers.values():
            await server.wait_closed()

    def __exit__(self, *_: object) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(15)


def seeds(urls: dict[str, str]) -> Iterator[str]:
    """`--seed` lines for every crawled case of the origin."""
    for case in CASES:
        if case.crawl:
            yield f"GET {urls['origin']}{case.path}"


def facilitators(urls: dict[str, str]) -> list[str]:
    """`--facilitator` values for the two listings without end."""
    return [urls["origin"] + SAME_PAGE_LISTING, urls["origin"] + ENDLESS_LISTING]


def main() -> None:
    import time

    with HostileServers() as urls:
        print(json.dumps(urls), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
