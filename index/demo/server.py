"""Run the whole demo fleet in one process on 127.0.0.1, and a context manager that starts it in
a subprocess for `make demo` and the tests.

`python -m index.demo.server [--base-port N]` binds every origin (port 0: any free port), prints one
JSON line describing the fleet (its manifest), and serves until SIGTERM or Ctrl-C.

Ports from N, in order: weather, ai, chain, facilitator (N..N+3, the well-behaved fleet), then the
hostile origin (N+4), the HTTPS origin with a self-signed certificate (N+5), the hit counter
(N+6, on 127.0.0.2: every other server listens on 127.0.0.1), the buyer-test origin (N+7,
index.demo.buyer) and the seller origin with a verified owner, L402 and MPP (N+8, index.demo.owner). No other ports: the discovery documents (index.demo.discovery) are routes on the
origins themselves, the facilitator's `POST /__reset` re-arms its once-per-lifetime 429 on the second
discovery page, and its `GET /__payments` tells what payments the origins received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn

from index.demo.apps import origin_app
from index.demo.buyer import BuyerOrigin, buyer_manifest
from index.demo.discovery import declared_usd, discovery_urls, dropped_entries, expect_sources
from index.demo.facilitator import PAGE_CAP, DemoFacilitator, PaymentSpy, facilitator_app
from index.demo.hostile import COUNTER_HOST, HitCounter, HostileOrigin
from index.demo.owner import OwnerOrigin, owner_manifest
from index.demo.spec import HOSTILE_RESOURCES, ORIGINS, TLS_EXPECT_OUTCOME, TLS_ORIGIN, Price
from index.demo.tls import self_signed_certificate

HOST = "127.0.0.1"
# Port order after the base port; never reorder (existing ports stay where they were).
PORT_KEYS = [o.key for o in ORIGINS] + ["facilitator", "hostile", TLS_ORIGIN.key, "counter", "buyer", "owner"]
NOT_CRAWLED = ("facilitator", "counter", "buyer", "owner")  # not in the manifest's `origins`
# The newcomer's demo (`x402-index demo`): the well-behaved origins, the facilitator and the seller
# origin (a verified owner, an L402 and an MPP endpoint). The hostile, TLS, counter and buyer-test
# origins serve the tests.
WELL_BEHAVED_KEYS = [o.key for o in ORIGINS] + ["facilitator", "owner"]

STOP_GRACE_S = 2  # seconds the fleet's servers give open connections when stopped; then it is killed


def _bind(port: int, host: str = HOST) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _terms(prices: tuple[Price, ...], pay_to: str) -> list[dict[str, Any]]:
    return [{"network": p.network, "network_caip2": p.caip2, "amount_atomic": p.atomic, "usd": p.usd,
             "asset": p.asset, "pay_to": pay_to} for p in prices]


def manifest(origin_urls: dict[str, str], facilitator_url: str, counter_url: str | None = None,
             buyer_url: str | None = None, owner: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the fleet serves: origins, facilitator, and every resource with its expected terms and
    the crawl result it must produce (`expect`). `paid` is true only for the well-behaved SDK
    resources; hostile ones (`hostile: true`) say what a crawl must record in `expect` instead.

    `seeds` lists every resource the facilitator does not, except redirects that leave 127.0.0.0/8
    (`expect.leaves_loopback`): crawled with the SSRF guard lifted, those would really connect there.
    Resources marked `undeclared` are seeded as a bare URL, so the crawler must find their method.
    `guarded_seeds` lists the redirects whose `blocked` needs the guard on (`expect.needs_ssrf_guard`).

    Discovery from origins: `origin_seeds` lists the well-behaved origins' base URLs, and each
    resource's `expect_sources` the source kinds (facilitator, well_known, openapi, llms_txt, docs,
    seed) a crawl from `--facilitator <facilitator> --seed <each origin_seeds URL>` must record on it
    ([] for what that crawl cannot reach: the hostile and TLS origins are not seeded). `declared_usd`
    gives the prices an origin's own documents declare, by kind (the ai OpenAPI declares $0.50 for
    images, whose live 402 asks $1). `discovery_urls` says where each document lives,
    `dropped_entries` which entries a crawler must drop (another origin's URL in weather's
    /.well-known/x402). The facilitator pages by at most `facilitator_page_size` whatever `limit`
    says, answers 429 (Retry-After: 1) to the first request for page two in its lifetime, and
    `facilitator_reset_url` (POST) re-arms that.

    Test-buys: `payments_url` (the facilitator's `GET /__payments`) lists every request the origins
    received, with the payment header it carried if any, and the facilitator's ledger; `buyer`
    describes the buyer-test origin (index.demo.buyer), which no demo crawl seeds."""
    resources = []
    for origin in ORIGINS:
        base = origin_urls[origin.key]
        for res in origin.resources:
            outcome = "paid" if res.paid else {200: "free", 404: "not_found"}[res.status]
            resources.append({
                "origin": origin.key, "url": base + res.path, "method": res.method, "paid": res.paid,
                "status": res.status, "version": origin.version if res.paid else None,
                "listed_by_facilitator": res.listed_by_facilitator, "description": res.description,
                "accepts": _terms(res.prices, res.pay_to) if res.paid else [],
                "hostile": False, "expect": {"outcome": outcome, "findings": []},
                "expect_sources": expect_sources(origin, res), "declared_usd": declared_usd(origin, res),
            })
    for h in HOSTILE_RESOURCES if "hostile" in origin_urls else ():
        expect: dict[str, Any] = {"outcome": h.outcome, "findings": list(h.findings)}
        if h.needs_ssrf_guard:
            expect["needs_ssrf_guard"] = True
        if h.leaves_loopback:
            expect["leaves_loopback"] = True
        resources.append({
            "origin": "hostile", "url": origin_urls["hostile"] + h.path, "method": h.method, "paid": False,
            "status": h.status, "version": h.version, "listed_by_facilitator": h.listed_by_facilitator,
            "description": h.description, "accepts": _terms(h.prices, h.pay_to), "hostile": True, "expect": expect,
            "undeclared": h.undeclared,
            "expect_sources": ["facilitator"] if h.listed_by_facilitator else [], "declared_usd": {},
        })
    if TLS_ORIGIN.key in origin_urls:
        for res in TLS_ORIGIN.resources:
            resources.append({
                "origin": TLS_ORIGIN.key, "url": origin_urls[TLS_ORIGIN.key] + res.path, "method": res.method,
                "paid": False, "status": res.status, "version": TLS_ORIGIN.version,
                "listed_by_facilitator": res.listed_by_facilitator, "description": res.description,
                "accepts": _terms(res.prices, res.pay_to), "hostile": True,
                "expect": {"outcome": TLS_EXPECT_OUTCOME, "findings": []},
                "expect_sources": ["facilitator"] if res.listed_by_facilitator else [], "declared_usd": {},
            })
    seeds = [r["url"] if r.get("undeclared") else f"{r['method']} {r['url']}" for r in resources
             if not r["listed_by_facilitator"] and not r["expect"].get("leaves_loopback")]
    out: dict[str, Any] = {"origins": origin_urls, "facilitator": facilitator_url, "resources": resources, "seeds": seeds}
    out["origin_seeds"] = [origin_urls[o.key] for o in ORIGINS if o.key in origin_urls]
    out["discovery_urls"] = discovery_urls(origin_urls)
    out["dropped_entries"] = dropped_entries(origin_urls)
    out["facilitator_page_size"] = PAGE_CAP
    out["facilitator_reset_url"] = facilitator_url + "/__reset"
    out["payments_url"] = facilitator_url + "/__payments"
    if buyer_url:
        out["buyer"] = buyer_manifest(buyer_url)
    if owner:
        out["owner"] = owner
    if counter_url:
        out["counter"] = counter_url
    if "hostile" in origin_urls:
        out["hits_url"] = origin_urls["hostile"] + "/__hits"
        out["reset_url"] = origin_urls["hostile"] + "/__reset"
        out["guarded_seeds"] = [f"{r['method']} {r['url']}" for r in resources if r["expect"].get("needs_ssrf_guard")]
    return out


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the fleet handles signals once, for all servers
        yield


async def serve(base_port: int = 0, test_origins: bool = True) -> None:
    with tempfile.TemporaryDirectory(prefix="x402-demo-tls-") as tmp:
        await _serve(base_port, Path(tmp), test_origins)


def _bind_counter(port: int) -> socket.socket:
    """The hit counter's socket on 127.0.0.2; on systems that only route 127.0.0.1 (macOS by
    default), on 127.0.0.1 with a warning: the SSRF redirect cases then prove less."""
    try:
        return _bind(port, COUNTER_HOST)
    except OSError as exc:
        print(f"demo fleet: cannot bind {COUNTER_HOST} ({exc}); the hit counter listens on {HOST}", file=sys.stderr)
        return _bind(port, HOST)


async def _serve(base_port: int, tls_dir: Path, test_origins: bool = True) -> None:
    keys = PORT_KEYS if test_origins else WELL_BEHAVED_KEYS
    socks = {key: (_bind_counter if key == "counter" else _bind)(base_port + i if base_port else 0)
             for i, key in enumerate(keys)}
    ports = {key: s.getsockname()[1] for key, s in socks.items()}
    urls = {key: f"http://{HOST}:{port}" for key, port in ports.items()}
    counter_url = buyer_url = None
    if test_origins:
        urls[TLS_ORIGIN.key] = f"https://{HOST}:{ports[TLS_ORIGIN.key]}"
        counter_host = socks["counter"].getsockname()[0]
        counter_url = f"http://{counter_host}:{ports['counter']}"
        buyer_url = urls["buyer"]
    origin_urls = {key: urls[key] for key in keys if key not in NOT_CRAWLED}
    facilitator = DemoFacilitator()
    apps: dict[str, Any] = {o.key: PaymentSpy(origin_app(o, urls[o.key], facilitator, origin_urls), facilitator, o.key)
                            for o in (*ORIGINS, TLS_ORIGIN) if o.key in urls}
    if test_origins:
        apps["buyer"] = PaymentSpy(BuyerOrigin(urls["buyer"], facilitator).app(), facilitator, "buyer")
    seller = OwnerOrigin(urls["owner"], facilitator)
    apps["owner"] = PaymentSpy(seller.app(), facilitator, "owner")
    apps["facilitator"] = facilitator_app(facilitator, origin_urls)
    tls: dict[str, str] = {}
    if test_origins:
        certfile, keyfile = self_signed_certificate(tls_dir, HOST)
        tls = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)}
    uvicorn_keys = [k for k in keys if k in apps]
    # Ctrl-C stops the fleet at once: a connection a client left open (keep-alive) is not waited for
    servers = [_Server(uvicorn.Config(apps[k], log_level="warning", access_log=False, lifespan="on",
                                      timeout_graceful_shutdown=STOP_GRACE_S,
                                      **(tls if k == TLS_ORIGIN.key else {}))) for k in uvicorn_keys]
    raw: list[Any] = []  # the hostile origin and its hit counter: plain asyncio servers
    if test_origins:
        counter = HitCounter()
        hostile = HostileOrigin(urls["hostile"], counter, ports["counter"], counter_host)
        await counter.start(socks["counter"])
        await hostile.start(socks["hostile"])
        raw = [hostile, counter]

    def stop() -> None:
        for s in servers:
            s.should_exit = True
        for r in raw:
            r.close()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(s.serve(sockets=[socks[k]])) for s, k in zip(servers, uvicorn_keys, strict=True)]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.02)
    print(json.dumps(manifest(origin_urls, urls["facilitator"], counter_url, buyer_url, owner_manifest(seller))), flush=True)
    try:
        await asyncio.gather(*tasks)
    finally:
        stop()
        for r in raw:
            await r.wait_closed()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the x402-index demo fleet on 127.0.0.1.")
    parser.add_argument("--base-port", type=int, default=0, help="first port (0: any free ports)")
    parser.add_argument("--no-test-origins", action="store_true",
                        help="only the well-behaved origins and the facilitator (no hostile, TLS or buyer-test origin)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.base_port, test_origins=not args.no_test_origins))


class DemoFleet:
    """Start the fleet in a subprocess; `.manifest` describes it. Stops on exit, whatever happened."""

    def __init__(self, base_port: int = 0, startup_timeout: float = 60.0, test_origins: bool = True) -> None:
        self.base_port = base_port
        self.test_origins = test_origins
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.manifest: dict[str, Any] = {}

    def __enter__(self) -> DemoFleet:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "index.demo.server", "--base-port", str(self.base_port),
             *([] if self.test_origins else ["--no-test-origins"])],
            stdout=subprocess.PIPE, stderr=None, text=True, env=env,
        )
        line = _readline(self.proc, self.startup_timeout)
        if not line:
            self.stop()
            raise RuntimeError("the demo fleet did not start (is a port in use?)")
        self.manifest = json.loads(line)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_GRACE_S + 3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        return ""
    return proc.stdout.readline().strip()


if __name__ == "__main__":
    main()
