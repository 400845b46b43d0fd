"""A fast loopback x402 server for benchmarks: N paid endpoints `/r/<i>` answering 402.

Run as its own process (`python bench/server402.py --n 5000`); it binds 127.0.0.1 on a free port
(or `--port`), prints `PORT <port>` on stdout once it listens, and serves until SIGTERM/SIGINT.

Every answer is precomputed bytes, one per path, served by a raw asyncio protocol (uvloop when it
is installed): a `402 Payment Required` with a realistic x402 v2 challenge in the `PAYMENT-REQUIRED`
header (standard base64 of compact JSON), body `{}`, HTTP/1.1 keep-alive. `/` answers a tiny HTML
page and anything else 404, so a crawler that fetches a homepage or robots.txt gets a real answer.

`measure_capacity()` drives a server with a raw keep-alive client, for the capacity check.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import sys
import time
from typing import Any

NETWORK = "eip155:84532"  # Base Sepolia
ASSET = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"  # USDC on Base Sepolia
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"

# What the x402 SDK declares for `GET /weather?city=…`: `declare_discovery_extension(input={"city": "Paris"},
# input_schema=…, output=OutputConfig(example=…))`, plus the method its resource-server extension adds.
BAZAAR: dict[str, Any] = {
    "info": {
        "input": {"type": "http", "method": "GET", "queryParams": {"city": "Paris"}},
        "output": {"type": "json", "example": {"city": "Paris", "tempC": 21}},
    },
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "input": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "const": "http"},
                    "method": {"type": "string", "enum": ["GET", "HEAD", "DELETE"]},
                    "queryParams": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                },
                "required": ["type", "method"],
                "additionalProperties": False,
            },
            "output": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "example": {"type": "object"}},
                "required": ["type"],
            },
        },
        "required": ["input"],
    },
}

_HOME = b"<!doctype html><html><head><title>bench402</title></head><body>bench</body></html>"


def challenge(url: str, index: int) -> dict[str, Any]:
    """The v2 PaymentRequired object a real x402 server sends for one resource."""
    return {
        "x402Version": 2,
        "error": "Payment required",
        "resource": {"url": url, "description": f"Weather report #{index}", "mimeType": "application/json"},
        "accepts": [{
            "scheme": "exact",
            "network": NETWORK,
            "asset": ASSET,
            "amount": "1000",
            "payTo": PAY_TO,
            "maxTimeoutSeconds": 300,
            "extra": {"name": "USDC", "version": "2"},
        }],
        "extensions": {"bazaar": BAZAAR},
    }


def encode_header(obj: Any) -> bytes:
    """Standard base64 of compact UTF-8 JSON (what the reference SDKs put in PAYMENT-REQUIRED)."""
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode("utf-8"))


def _response(status: bytes, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    lines = [b"HTTP/1.1 " + status]
    lines += [name + b": " + value for name, value in headers]
    lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: keep-alive", b"", b""]
    return b"\r\n".join(lines) + body


def build_responses(n: int, port: int) -> dict[bytes, bytes]:
    """Every answer the server can give, as raw HTTP/1.1 bytes keyed by request path."""
    responses: dict[bytes, bytes] = {}
    for i in range(n):
        path = f"/r/{i}"
        header = encode_header(challenge(f"http://127.0.0.1:{port}{path}", i))
        responses[path.encode()] = _response(
            b"402 Payment Required",
            [(b"Content-Type", b"application/json"), (b"PAYMENT-REQUIRED", header)],
            b"{}",
        )
    responses[b"/"] = _response(b"200 OK", [(b"Content-Type", b"text/html; charset=utf-8")], _HOME)
    return responses


_NOT_FOUND = _response(b"404 Not Found", [(b"Content-Type", b"text/plain")], b"not found")


class Http402Protocol(asyncio.Protocol):
    """Minimal HTTP/1.1 server side: request line + headers (+ Content-Length body), keep-alive,
    pipelining tolerated. Answers are looked up, never built."""

    __slots__ = ("responses", "transport", "buffer", "served")

    def __init__(self, responses: dict[bytes, bytes], served: list[int]) -> None:
        self.responses = responses
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.served = served

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data if self.buffer else data
        out: list[bytes] = []
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buf[:end]
            body_len = 0
            marker = head.lower().find(b"\r\ncontent-length:")
            if marker >= 0:
                stop = head.find(b"\r\n", marker + 2)
                body_len = int(head[marker + 17: stop if stop >= 0 else len(head)].strip() or 0)
            total = end + 4 + body_len
            if len(buf) < total:
                break
            first = head[: head.find(b"\r\n")] if b"\r\n" in head else head
            parts = first.split(b" ")
            path = parts[1] if len(parts) > 1 else b"/"
            query = path.find(b"?")
            if query >= 0:
                path = path[:query]
            out.append(self.responses.get(path, _NOT_FOUND))
            buf = buf[total:]
        self.buffer = buf
        if out:
            self.served[0] += len(out)
            assert self.transport is not None
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # optional: used when present, never required
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def _serve(n: int, port: int) -> None:
    loop = asyncio.get_running_loop()
    served = [0]
    holder: dict[bytes, bytes] = {}
    server = await loop.create_server(lambda: Http402Protocol(holder, served), "127.0.0.1", port,
                                      backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    holder.update(build_responses(n, bound))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"PORT {bound}", flush=True)
    await stop.wait()
    server.close()
    print(f"SERVED {served[0]}", flush=True)


def serve(n: int, port: int = 0) -> None:
    """Serve N endpoints on 127.0.0.1:port until SIGTERM/SIGINT."""
    loop = _new_loop()
    try:
        loop.run_until_complete(_serve(n, port))
    finally:
        loop.close()


# -------------------------------------------------------------------------------------------
# capacity check: a raw keep-alive client, one request in flight per connection


class _ClientProtocol(asyncio.Protocol):
    """Sends GET /r/<i> over one keep-alive connection, the next as soon as an answer is complete."""

    def __init__(self, n: int, deadline: float, counter: list[int], done: asyncio.Future[None]) -> None:
        self.n, self.deadline, self.counter, self.done = n, deadline, counter, done
        self.buffer = b""
        self.i = 0
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        self.i = (self.i + 7919) % self.n
        self.transport.write(b"GET /r/%d HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n" % self.i)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                break
            marker = buf.find(b"Content-Length: ", 0, end)
            length = int(buf[marker + 16: buf.find(b"\r\n", marker)])
            if len(buf) < end + 4 + length:
                break
            buf = buf[end + 4 + length:]
            self.counter[0] += 1
            if time.monotonic() < self.deadline:
                self._send()
            else:
                self.transport.close()
        self.buffer = buf

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _drive(ports: list[int], n: int, connections: int, seconds: float) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    counter = [0]
    started = time.monotonic()
    deadline = started + seconds
    waits = []
    for c in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        await loop.create_connection(lambda d=done: _ClientProtocol(n, deadline, counter, d),
                                     "127.0.0.1", ports[c % len(ports)])
        waits.append(done)
    await asyncio.wait_for(asyncio.gather(*waits), timeout=seconds + 10)
    return counter[0], time.monotonic() - started


def measure_capacity(ports: list[int], n: int, connections: int = 64, seconds: float = 2.0) -> dict[str, float]:
    """Drive the servers for `seconds` from this process; returns requests and the elapsed time."""
    loop = _new_loop()
    try:
        count, elapsed = loop.run_until_complete(_drive(ports, n, connections, seconds))
    finally:
        loop.close()
    return {"requests": count, "seconds": elapsed, "per_s": count / elapsed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="number of paid endpoints /r/0 … /r/N-1")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    parser.add_argument("--drive", metavar="PORTS", help="instead of serving: drive these comma-separated ports")
    parser.add_argument("--seconds", type=float, default=2.0, help="with --drive: how long")
    parser.add_argument("--connections", type=int, default=64, help="with --drive: keep-alive connections")
    args = parser.parse_args(argv)
    if args.drive:
        ports = [int(p) for p in args.drive.split(",")]
        print(json.dumps(measure_capacity(ports, args.n, args.connections, args.seconds)), flush=True)
        return 0
    serve(args.n, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
