"""A throwaway redis-server for tests: on 127.0.0.1 at a free port, its files in a temporary folder,
append-only persistence on (so a restart keeps the frontier, as the deploy recipe's Redis does),
stopped and removed afterwards. `restart()` stops it and starts it again on the same port; with
`wipe=True` its files are deleted in between (a Redis that comes back empty).

When no redis-server binary exists, `find_redis_server()` returns None and the caller skips, saying
why; `make test` installs Debian's package first.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or (str(Path("/usr/bin/redis-server")) if Path("/usr/bin/redis-server").exists() else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, binary: str, root: Path) -> None:
        self.binary = binary
        self.root = root
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(data), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "yes", "--daemonize", "no",
             "--logfile", str(self.root / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited: {(self.root / 'redis.log').read_text()[-2000:]}")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer within 20 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, *, wipe: bool = False, down: float = 0.0) -> None:
        self.stop()
        if wipe:
            shutil.rmtree(self.root / "data", ignore_errors=True)
        time.sleep(down)
        self.start()


@contextmanager
def throwaway_redis(binary: str) -> Iterator[RedisServer]:
    root = Path(tempfile.mkdtemp(prefix="x402-redis-"))
    server = RedisServer(binary, root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
