"""Distributed crawl throughput: 1, 2 and 4 workers (crawler.distributed) against a loopback fleet
whose answers take ~100 ms, the same resources each time, side by side in one run.

    .venv/bin/python bench/distributed.py --n 3000 --workers 1,2,4

Parts, all real and on this machine: a redis-server (private port, no persistence), a throwaway
PostgreSQL cluster (tests/support/pgcluster.py; a fresh database per round), the slow fleet in its own process
(every answer a v2 402 written `--delay` seconds after its request, hosts 127.0.0.1…127.0.0.H on one
port: per-host limits stay out of the way), `x402-index worker --once` processes and the coordinator
(crawler.distributed.coordinator) in this process.

Per round: probes/s = N / (last final observation − first, from the database: steady state, worker
start-up left out), the ratio to one worker, peak RSS of each worker's crawl process (ru_maxrss from
wait4; its database writer process is not counted), machine cores busy meanwhile. The bench fails
(exit 1) when a round does not store exactly N paid probes, once each. The last line is one JSON
object: {"resources", "delay_s", "concurrency", "workers": [{"n", "per_s", "ratio", "peak_rss_mb", …}], "speedup_4"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

from server402 import _NOT_FOUND, _response, challenge, encode_header  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- the slow fleet (run as `bench/distributed.py --serve`) --------------------------------------

class SlowProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive; each answer written `delay` seconds after its request arrived."""

    def __init__(self, responses: dict[bytes, bytes], delay: float) -> None:
        self.responses, self.delay = responses, delay
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data
        loop = asyncio.get_running_loop()
        while (end := buf.find(b"\r\n\r\n")) >= 0:
            head = buf[:end]
            marker = head.lower().find(b"\r\ncontent-length:")
            body_len = 0
            if marker >= 0:
                stop = head.find(b"\r\n", marker + 2)
                body_len = int(head[marker + 17: stop if stop >= 0 else len(head)].strip() or 0)
            if len(buf) < end + 4 + body_len:
                break
            path = head.split(b"\r\n", 1)[0].split(b" ")[1].split(b"?", 1)[0]
            loop.call_later(self.delay, self._write, self.responses.get(path, _NOT_FOUND))
            buf = buf[end + 4 + body_len:]
        self.buffer = buf

    def _write(self, answer: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(answer)


def host(k: int) -> str:
    return f"127.0.0.{k + 1}"


def resource_urls(n: int, hosts: int, port: int) -> list[str]:
    return [f"http://{host(i % hosts)}:{port}/r/{i}" for i in range(n)]


async def _serve(n: int, hosts: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    servers, port = [], 0
    for k in range(hosts):
        responses: dict[bytes, bytes] = {}
        server = await loop.create_server(lambda r=responses: SlowProtocol(r, delay), host(k), port, backlog=1024,
                                          reuse_address=True)
        port = server.sockets[0].getsockname()[1]
        for i in range(k, n, hosts):
            url = f"http://{host(k)}:{port}/r/{i}"
            responses[f"/r/{i}".encode()] = _response(b"402 Payment Required", [
                (b"Content-Type", b"application/json"), (b"PAYMENT-REQUIRED", encode_header(challenge(url, i)))], b"{}")
        servers.append(server)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"PORT {port}", flush=True)
    await stop.wait()


# -- the bench ------------------------------------------------------------------------------

def machine_busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLOCK_TICKS


def start_redis(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", str(root), "--logfile", str(root / "redis.log")])
    url = f"redis://127.0.0.1:{port}/0"
    import redis

    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def fresh_database(cluster: str) -> str:
    from sqlalchemy import create_engine, text

    name = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(cluster, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return cluster.rsplit("/", 1)[0] + "/" + name


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_round(workers: int, urls: list[str], redis_url: str, redis_pid: int, cluster: str, settings: dict[str, Any],
              logs: Path) -> dict[str, Any]:
    import redis
    from sqlalchemy import func
    from sqlmodel import Session, select

    from crawler.discovery.seeds import seed_candidate
    from crawler.distributed.coordinator import coordinate
    from crawler.distributed.frontier import connect
    from index.schedule.runs import finish, prepare
    from index.store.models import Observation
    from index.store.engine import init_db

    redis.Redis.from_url(redis_url).flushall()
    db = fresh_database(cluster)
    engine = init_db(db)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "index.cli.app", "worker", "--once", "--redis", redis_url, "--db", db,
                               "--allow-private"], env=env, cwd=ROOT, stdout=(logs / f"{workers}-{i}.out").open("w"),
                              stderr=(logs / f"{workers}-{i}.err").open("w")) for i in range(workers)]
    job = prepare(engine, seeds=[seed_candidate(u, "bench") for u in urls], facilitators=[], origins=[], explicit=True,
                  everything=False, limit=None)
    busy, started, redis_cpu = machine_busy_seconds(), time.monotonic(), process_cpu_seconds(redis_pid)
    summary = coordinate(engine, connect(redis_url), job, settings, say=lambda text: None)
    wall = time.monotonic() - started
    cores = (machine_busy_seconds() - busy) / wall
    finish(engine, job, summary)
    rss, cpu = [], 0.0
    for proc in procs:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        rss.append(round(usage.ru_maxrss / 1024, 1))
        cpu += usage.ru_utime + usage.ru_stime
    with Session(engine) as session:
        first, last, finals = session.exec(select(func.min(Observation.observed_at), func.max(Observation.observed_at),  # type: ignore[call-overload]
                                                  func.count()).where(Observation.final.is_(True))).one()
        resources = session.exec(select(func.count(func.distinct(Observation.resource_id)))).one()
    engine.dispose()
    if summary["paid"] != len(urls) or finals != len(urls) or resources != len(urls):
        raise SystemExit(f"{workers} workers: {summary['paid']} paid, {finals} probes stored for {resources} resources; "
                         f"expected {len(urls)} of each (logs in {logs})")
    span = (last - first).total_seconds()
    return {"n": workers, "per_s": round(len(urls) / span, 1), "span_s": round(span, 2), "wall_s": round(wall, 2),
            "peak_rss_mb": max(rss), "rss_mb": rss, "cores_busy": round(cores, 2),
            # the crawl processes' whole lives (start-up included), their writer processes not counted
            "worker_cpu_ms_per_probe": round(cpu * 1000 / len(urls), 2),
            "redis_cpu_ms_per_probe": round((process_cpu_seconds(redis_pid) - redis_cpu) * 1000 / len(urls), 3),
            "exit_codes": [p.returncode for p in procs]}


def bench(args: argparse.Namespace) -> int:
    from tests.support.pgcluster import find_bin_dir, throwaway_cluster

    counts = [int(x) for x in args.workers.split(",")]
    server = subprocess.Popen([sys.executable, __file__, "--serve", "--n", str(args.n), "--hosts", str(args.hosts),
                               "--delay", str(args.delay)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline().split()[1])
    root = Path(tempfile.mkdtemp(prefix="x402-bench-dist-"))
    redis_proc, redis_url = start_redis(root)
    settings = {"CONCURRENT_REQUESTS": args.concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
                "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "X402_DISCOVER_ORIGINS": False, "LOG_LEVEL": "WARNING"}
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL server binaries (initdb, pg_ctl): `make test` installs them")
    rounds = []
    try:
        with throwaway_cluster(bin_dir) as cluster:
            urls = resource_urls(args.n, args.hosts, port)
            for workers in counts:
                result = run_round(workers, urls, redis_url, redis_proc.pid, cluster, settings, root)
                rounds.append(result)
                base = rounds[0]["per_s"]
                result["ratio"] = round(result["per_s"] / base, 2)
                print(f"{workers} worker(s): {result['per_s']:.1f} probes/s (×{result['ratio']:.2f}) · span {result['span_s']} s "
                      f"· wall {result['wall_s']} s · peak RSS {result['peak_rss_mb']} MB per worker (max of {result['rss_mb']}) "
                      f"· {result['cores_busy']} cores busy · worker CPU {result['worker_cpu_ms_per_probe']} ms/probe", flush=True)
    finally:
        redis_proc.terminate()
        redis_proc.wait()
        server.terminate()
        server.wait()
        shutil.rmtree(root, ignore_errors=True)
    by_n = {r["n"]: r["per_s"] for r in rounds}
    summary = {"resources": args.n, "delay_s": args.delay, "concurrency": args.concurrency, "hosts": args.hosts,
               "workers": rounds, "speedup_4": round(by_n[4] / by_n[1], 2) if 1 in by_n and 4 in by_n else None}
    print(json.dumps(summary))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="distributed crawl throughput: 1, 2, 4 workers on a slow loopback fleet")
    parser.add_argument("--n", type=int, default=3000, help="resources (default 3000)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts, one round each (default 1,2,4)")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds each answer takes (default 0.1)")
    parser.add_argument("--concurrency", type=int, default=16, help="CONCURRENT_REQUESTS of each worker (default 16)")
    parser.add_argument("--hosts", type=int, default=8, help="loopback hosts 127.0.0.1… the resources are spread over")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.n, args.hosts, args.delay))
        return 0
    return bench(args)


if __name__ == "__main__":
    sys.exit(main())
