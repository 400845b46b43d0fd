"""A whole crawl run at N resources: `crawler.run.crawl_job` (prepare → crawl → finish → change lines)
against the loopback 402 server of bench/server402.py, phase by phase: seconds and peak RSS.

    .venv/bin/python bench/crawljob.py [--n 50000] [--rounds first,again]

Rounds, each in a fresh child process (Twisted's reactor cannot restart), on one SQLite store:

- `first`: an empty store, every URL named as a seed (explicit): N resources added, N `added` changes;
- `again`: the same store, a scheduled crawl with every resource due (`--all`): the due queue is
  read from the store, nothing changes, but the run still compares N states before and after.

Each phase's peak RSS is the crawl process's `VmHWM` over that phase alone (reset through
/proc/self/clear_refs before it); `writer_peak_rss_mb` is the database writer process's `VmHWM`, read
as the crawl tells it to finish. Settings are bench/probe.py's loopback overrides on top of the project's defaults.
The last line printed is one JSON object. Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from probe import LOOPBACK_OVERRIDES, Servers, machine_busy_seconds, peak_rss_mb, urls_for  # noqa: E402


def _reset_peak() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    except OSError:
        pass


def child(n: int, ports: list[int], db_path: Path, round_name: str) -> dict[str, Any]:
    """One crawl_job, with each lifecycle phase timed and its peak RSS measured."""
    import index.schedule.runs as runs
    from crawler.discovery.seeds import Sources
    from crawler.run import crawl_job

    phases: dict[str, dict[str, float]] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _reset_peak()
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = {"s": round(time.perf_counter() - started, 2),
                                "cpu_s": round(time.process_time() - cpu, 2),
                                "peak_rss_mb": round(peak_rss_mb(), 1)}
        return wrapper

    for name in ("prepare", "finish", "change_lines"):
        setattr(runs, name, timed(name, getattr(runs, name)))
    import crawler.run as run_module

    run_module.run_crawl = timed("crawl", run_module.run_crawl)
    # The writer process's own peak, read just before it is told to finish (its ru_maxrss would count
    # the crawl process's pages it shared between fork and exec).
    import crawler.pipelines as pipelines

    writer_peak = [0.0]
    original_close = pipelines.WriterProcess.close

    def close(self: Any) -> Any:
        try:
            status = Path(f"/proc/{self.transport.pid}/status").read_text()
            writer_peak[0] = max(writer_peak[0], next(int(line.split()[1]) / 1024 for line in status.splitlines()
                                                      if line.startswith("VmHWM:")))
        except (OSError, AttributeError, StopIteration):
            pass
        return original_close(self)

    pipelines.WriterProcess.close = close  # type: ignore[method-assign]
    source = {"kind": "bench", "url": "bench/crawljob.py"}
    if round_name == "first":
        sources = Sources(candidates=[{"url": u, "method": "GET", "source": source} for u in urls_for(n, ports)],
                          explicit=True)
        everything = False
    else:
        sources, everything = Sources(), True
    started = time.perf_counter()
    job = crawl_job(f"sqlite:///{db_path}", sources, everything=everything, allow_private=True,
                    overrides={**LOOPBACK_OVERRIDES, "LOG_LEVEL": "WARNING"})
    wall = time.perf_counter() - started
    summary = job.summary or {}
    return {
        "round": round_name, "ok": job.ok, "wall_s": round(wall, 2), "probed": summary.get("probed"),
        "paid": summary.get("paid"), "changes": {k: v for k, v in job.counts.items() if v},
        "change_lines": len(job.changes), "phases": phases,
        "peak_rss_mb": max(p["peak_rss_mb"] for p in phases.values()),
        "writer_peak_rss_mb": round(writer_peak[0], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A whole crawl run at N resources, phase by phase.")
    parser.add_argument("--n", type=int, default=50000)
    parser.add_argument("--rounds", default="first,again", help="comma-separated: first, again")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.n, [int(p) for p in args.ports.split(",")], Path(args.db), args.child)
        Path(args.result).write_text(json.dumps(result))
        return 0
    servers = Servers(args.n, 1)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="x402-crawljob-") as tmp:
            db = Path(tmp) / "bench.db"
            for name in args.rounds.split(","):
                out = Path(tmp) / f"{name}.json"
                busy = machine_busy_seconds()
                proc = subprocess.run([sys.executable, __file__, "--child", name, "--n", str(args.n),
                                       "--ports", ",".join(map(str, servers.ports)), "--db", str(db),
                                       "--result", str(out)], cwd=tmp, timeout=300 + args.n / 20)
                if proc.returncode != 0 or not out.exists():
                    print(f"BENCH FAILED: round {name} exited {proc.returncode}", file=sys.stderr)
                    return 1
                result = json.loads(out.read_text())
                result["machine_busy_cores"] = round((machine_busy_seconds() - busy) / max(result["wall_s"], 1e-6), 2)
                if not result["ok"] or result["paid"] != args.n:
                    print(f"BENCH FAILED: round {name}: {result}", file=sys.stderr)
                    return 1
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        servers.stop()
    print(json.dumps({"n": args.n, "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
                      "writer_peak_rss_mb": max(r["writer_peak_rss_mb"] for r in results),
                      **{r["round"]: {"wall_s": r["wall_s"], "peak_rss_mb": r["peak_rss_mb"],
                                      **{f"{k}_s": v["s"] for k, v in r["phases"].items()},
                                      **{f"{k}_rss_mb": v["peak_rss_mb"] for k, v in r["phases"].items()}}
                         for r in results}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
