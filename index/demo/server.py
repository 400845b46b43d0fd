"""Run the whole demo fleet in one process on 127.0.0.1, and a context manager that starts it in
a subprocess for `make demo` and the tests.

`python -m index.demo.server [--base-port N]` binds every origin (port 0: any free port), prints one
JSON line describing the fleet (its manifest), and serves until SIGTERM or Ctrl-C.
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
from collections.abc import Iterator
from typing import Any

import uvicorn

from index.demo.apps import origin_app
from index.demo.facilitator import DemoFacilitator, facilitator_app
from index.demo.spec import ORIGINS

HOST = "127.0.0.1"


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def manifest(origin_urls: dict[str, str], facilitator_url: str) -> dict[str, Any]:
    """What the fleet serves: origins, facilitator, and every resource with its expected terms."""
    resources = []
    for origin in ORIGINS:
        base = origin_urls[origin.key]
        for res in origin.resources:
            resources.append({
                "origin": origin.key, "url": base + res.path, "method": res.method, "paid": res.paid,
                "status": res.status, "version": origin.version if res.paid else None,
                "listed_by_facilitator": res.listed_by_facilitator, "description": res.description,
                "accepts": [{"network": p.network, "network_caip2": p.caip2, "amount_atomic": p.atomic,
                             "usd": p.usd, "asset": p.asset, "pay_to": res.pay_to} for p in res.prices] if res.paid else [],
            })
    seeds = [f"{r['method']} {r['url']}" for r in resources if not r["listed_by_facilitator"]]
    return {"origins": origin_urls, "facilitator": facilitator_url, "resources": resources, "seeds": seeds}


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the fleet handles signals once, for all servers
        yield


async def serve(base_port: int = 0) -> None:
    keys = [o.key for o in ORIGINS] + ["facilitator"]
    socks = {key: _bind(base_port + i if base_port else 0) for i, key in enumerate(keys)}
    urls = {key: f"http://{HOST}:{s.getsockname()[1]}" for key, s in socks.items()}
    origin_urls = {o.key: urls[o.key] for o in ORIGINS}
    facilitator = DemoFacilitator()
    apps = {o.key: origin_app(o, urls[o.key], facilitator) for o in ORIGINS}
    apps["facilitator"] = facilitator_app(facilitator, origin_urls)
    servers = [_Server(uvicorn.Config(apps[k], log_level="warning", access_log=False, lifespan="on")) for k in keys]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: [setattr(s, "should_exit", True) for s in servers])
    tasks = [asyncio.create_task(s.serve(sockets=[socks[k]])) for s, k in zip(servers, keys, strict=True)]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            break
        await asyncio.sleep(0.02)
    print(json.dumps(manifest(origin_urls, urls["facilitator"])), flush=True)
    await asyncio.gather(*tasks)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the x402-index demo fleet on 127.0.0.1.")
    parser.add_argument("--base-port", type=int, default=0, help="first port (0: any free ports)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.base_port))


class DemoFleet:
    """Start the fleet in a subprocess; `.manifest` describes it. Stops on exit, whatever happened."""

    def __init__(self, base_port: int = 0, startup_timeout: float = 60.0) -> None:
        self.base_port = base_port
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.manifest: dict[str, Any] = {}

    def __enter__(self) -> DemoFleet:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "index.demo.server", "--base-port", str(self.base_port)],
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
                self.proc.wait(timeout=10)
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
