"""Probe throughput: our crawler against a bare Scrapy spider, on one loopback x402 server.

    .venv/bin/python bench/probe.py [--n 5000] [--repeat 1]
    .venv/bin/python bench/probe.py --profile            # cProfile 3000-probe runs (baseline, ours) → bench/out/
    .venv/bin/python bench/probe.py --variants --only bulk,inline+bulk   # prototype tunings (bench/variants.py)
    .venv/bin/python bench/probe.py --variant bulk       # the whole bench with one tuning applied to ours

A server process (`bench/server402.py`) answers N paid endpoints `/r/<i>` with a v2 402. Then, each
in its own subprocess (Twisted's reactor cannot restart), alternately:

- baseline: a bare Scrapy spider, minimal settings, whose callback base64-decodes and JSON-parses the
  `PAYMENT-REQUIRED` header and yields a small dict; no pipeline;
- ours: `crawler.run.run_crawl` with project defaults, except the loopback overrides both share
  (concurrency, no delay, no AutoThrottle), parsing with `index.protocol.challenge` and storing every observation in
  a fresh SQLite file through the batched pipeline. The parent checks the file holds N `paid` rows.

Rate = N / Scrapy's `elapsed_time_seconds` (engine open → close, final flush included, interpreter
start-up excluded). Peak RSS is the child's `VmHWM`. The last line printed is one JSON object.
Each run also reports its CPU per probe and the CPU other processes used meanwhile ("other load"):
on a shared machine the rate moves with the neighbours, CPU per probe much less. Only 127.0.0.1 is
ever contacted. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import selectors
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
OUT_DIR = BENCH_DIR / "out"
SERVER = BENCH_DIR / "server402.py"

# The loopback setup: every URL is on one host, so per-domain concurrency is raised to the global
# limit, and politeness delays are off. Both crawlers get exactly these.
CONCURRENCY = 64
LOOPBACK_OVERRIDES: dict[str, Any] = {
    "CONCURRENT_REQUESTS": CONCURRENCY,
    "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
}

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchFailure(RuntimeError):
    """A crawl did not do its whole job (lost rows, missing answers, crashed): the bench fails loudly."""


# -------------------------------------------------------------------------------------------
# helpers shared by parent and children


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_seconds(pid: int) -> float:
    """user+system CPU seconds a process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, from /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def wait_until_quiet(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (at most `max_wait` s) for one second in which the machine uses under `threshold` cores;
    the machine may be shared. Returns the load of the last second sampled, in cores."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = machine_busy_seconds()
        time.sleep(1.0)
        load = machine_busy_seconds() - busy
        if load < threshold or time.monotonic() >= deadline:
            return load


def urls_for(n: int, ports: list[int]) -> list[str]:
    """The N probe URLs, spread over the server ports."""
    return [f"http://127.0.0.1:{ports[i % len(ports)]}/r/{i}" for i in range(n)]


class CrawlClock:
    """Process CPU over the engine's open → close window (wall time comes from Scrapy's CoreStats)."""

    def __init__(self) -> None:
        self.cpu_open = self.cpu_close = 0.0

    def attach(self, crawler: Any) -> None:
        from scrapy import signals

        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def opened(self) -> None:
        self.cpu_open = time.process_time()

    def closed(self) -> None:
        self.cpu_close = time.process_time()


def _own_cpu_total(who: int | None = None) -> float:
    """CPU seconds of this process (or, with RUSAGE_CHILDREN, of its finished helper processes)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF if who is None else who)
    return usage.ru_utime + usage.ru_stime


def crawl_result(kind: str, n: int, stats: dict[str, Any], clock: CrawlClock, **extra: Any) -> dict[str, Any]:
    """What a child reports: rate over Scrapy's own elapsed time, CPU, peak RSS, a few stats."""
    elapsed = float(stats.get("elapsed_time_seconds") or 0.0)
    return {
        "kind": kind,
        "n": n,
        "elapsed_s": elapsed,
        "per_s": n / elapsed if elapsed else 0.0,
        "cpu_s": clock.cpu_close - clock.cpu_open,
        "peak_rss_mb": peak_rss_mb(),
        "responses": stats.get("downloader/response_count", 0),
        "status_402": stats.get("downloader/response_status_count/402", 0),
        "items": stats.get("item_scraped_count", 0),
        "finish_reason": stats.get("finish_reason"),
        "store_waits": stats.get("x402/store/waits", 0),  # process_item waited for the database writer
        "errors": stats.get("log_count/ERROR", 0),
        "child_total_cpu_s": _own_cpu_total(),
        # helper processes of the crawl (the database writer process), once they have exited
        "helper_cpu_s": _own_cpu_total(__import__("resource").RUSAGE_CHILDREN),
        **extra,
    }


# -------------------------------------------------------------------------------------------
# child: baseline


def run_baseline(n: int, ports: list[int], cprofile: Path | None = None) -> dict[str, Any]:
    """A bare Scrapy spider over the same URLs: decode the header, yield a small dict, no pipeline."""
    import scrapy
    from scrapy.crawler import AsyncCrawlerProcess

    urls = urls_for(n, ports)

    class Baseline402Spider(scrapy.Spider):
        name = "baseline402"

        async def start(self) -> Any:
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, dont_filter=True)

        def parse(self, response: Any) -> Any:
            obj = json.loads(base64.b64decode(response.headers[b"PAYMENT-REQUIRED"], validate=True))
            yield {"url": response.url, "status": response.status, "amount": obj["accepts"][0]["amount"]}

    settings = {
        **LOOPBACK_OVERRIDES,
        "HTTPERROR_ALLOWED_CODES": [402],
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,
        "RETRY_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "CONCURRENT_ITEMS": 1,
        "DOWNLOAD_TIMEOUT": 15,
        "LOG_LEVEL": "WARNING",
    }
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(Baseline402Spider)
    clock = CrawlClock()
    clock.attach(crawler)
    process.crawl(crawler)
    if cprofile is not None:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    process.start()
    if cprofile is not None:
        prof.disable()
        _report_profile("baseline", prof, [], cprofile)
    return crawl_result("baseline", n, crawler.stats.get_stats(), clock)


# -------------------------------------------------------------------------------------------
# child: ours


def run_ours(n: int, ports: list[int], db_path: Path, variant: str = "", cprofile: Path | None = None) -> dict[str, Any]:
    """The real crawler (`crawler.run.run_crawl`) over the same URLs, storing into `db_path`.

    The only hooks: capturing the crawler object `run_crawl` creates (to read its stats and attach the
    CPU clock), timing database writes made in this process, and an optional `variant` from
    `bench/variants.py` (a prototype tuning, applied by monkeypatching or settings overrides).
    """
    from scrapy.crawler import AsyncCrawlerProcess

    import crawler.pipelines as pipelines
    from crawler.run import run_crawl

    captured: list[Any] = []
    clock = CrawlClock()
    original_create = AsyncCrawlerProcess.create_crawler

    def create_crawler(self: Any, *args: Any, **kwargs: Any) -> Any:
        created = original_create(self, *args, **kwargs)
        captured.append(created)
        clock.attach(created)
        return created

    AsyncCrawlerProcess.create_crawler = create_crawler  # type: ignore[method-assign]

    db_cpu = [0.0]
    db_profiles: list[Any] = []
    # Database writes done in this process (a variant's in-process writer; before the writer process,
    # the project's own pipeline thread): their CPU, and a profile of them in a worker thread.
    if hasattr(pipelines.StorePipeline, "_write"):  # a --src tree from before crawler/storewriter.py
        owner, name = pipelines.StorePipeline, "_write"
    else:
        import crawler.storewriter as owner  # type: ignore[no-redef]

        name = "write_batch"
    original_write = getattr(owner, name)

    @functools.wraps(original_write)
    def timed_write(*args: Any) -> Any:
        started = time.thread_time()
        prof = None
        # On the reactor thread (a variant writing inline) the main profile already sees this call;
        # enabling a second profiler there would displace it.
        if cprofile is not None and threading.current_thread() is not threading.main_thread():
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        try:
            return original_write(*args)
        finally:
            if prof is not None:
                prof.disable()
                db_profiles.append(prof)
            db_cpu[0] += time.thread_time() - started

    setattr(owner, name, timed_write)

    overrides = {**LOOPBACK_OVERRIDES, "LOG_LEVEL": "WARNING"}
    if variant:
        import variants

        overrides.update(variants.apply(variant))

    source = {"kind": "bench", "url": "bench/probe.py"}
    candidates = [{"url": url, "method": "GET", "source": source} for url in urls_for(n, ports)]
    db_url = f"sqlite:///{db_path}"
    if cprofile is not None:
        import cProfile

        main_prof = cProfile.Profile()
        main_prof.enable()
    from index.schedule.changes import begin_run
    from index.store.engine import init_db

    run_id = begin_run(init_db(db_url), "full")
    summary = run_crawl(candidates, [], db_url, run_id=run_id, allow_private=True, overrides=overrides)  # type: ignore[arg-type]
    if cprofile is not None:
        main_prof.disable()
        _report_profile("ours", main_prof, db_profiles, cprofile)
    import crawler

    return crawl_result("ours", n, captured[0].stats.get_stats(), clock, db_thread_cpu_s=db_cpu[0],
                        stored=summary["stored"], paid=summary["paid"], variant=variant or None,
                        src=str(Path(crawler.__file__).resolve().parent.parent))


# Own time by where the code lives: the answer to "where does the time go" at a glance.
_AREAS = (
    ("/inspect.py", "stdlib inspect/ast/tokenize/compile"), ("/ast.py", "stdlib inspect/ast/tokenize/compile"),
    ("/tokenize.py", "stdlib inspect/ast/tokenize/compile"), ("builtins.compile", "stdlib inspect/ast/tokenize/compile"),
    ("/scrapy/", "scrapy"), ("/twisted/", "twisted"), ("/asyncio/", "asyncio"), ("/sqlalchemy/", "sqlalchemy"),
    ("/sqlmodel/", "sqlalchemy"), ("sqlite3", "sqlite (C)"), ("pydantic", "pydantic"), ("/json/", "json"),
    ("epoll", "socket/epoll syscalls"), ("_socket", "socket/epoll syscalls"), ("/logging/", "logging"),
    ("/pydispatch/", "scrapy signals (pydispatch)"), ("/ipaddress.py", "ipaddress"), ("/weakref", "weakref"),
)


def _ours_roots() -> tuple[str, ...]:
    """The folders of our packages (crawler/, index/) and of the bench itself."""
    roots = [str(BENCH_DIR) + os.sep]
    for name in ("crawler", "index"):
        module = sys.modules.get(name)
        if module is not None and module.__file__:
            roots.append(str(Path(module.__file__).resolve().parent) + os.sep)
    return tuple(roots)


def _area(func: tuple[str, int, str], ours: tuple[str, ...]) -> str:
    filename, _, name = func
    if filename.startswith(ours):
        return "ours (index/, crawler/, bench/)"
    text = f"{filename}:{name}"
    for needle, area in _AREAS:
        if needle in text:
            return area
    return "other (stdlib, builtins)"


# Functions whose cumulative time is worth a line of its own.
_WATCH = (
    ("is_generator_with_return_value", "scrapy's generator-return check (WARN_ON_GENERATOR_RETURN_VALUE)"),
    ("parse_challenge", "index.protocol.challenge.parse_challenge"),
    ("model_dump", "pydantic model_dump (item challenge)"),
    ("_item", "ProbeSpider._item"),
    ("process_item", "StorePipeline.process_item"),
    ("sqlmodel_table_construct", "SQLModel object construction"),
    ("record_probes", "record_probes"),
)


def _watched(stats: Any) -> list[tuple[str, float]]:
    """Cumulative seconds of a few functions that matter here (the outermost call counts once)."""
    out = []
    for name, label in _WATCH:
        cum = sum(v[3] for f, v in stats.stats.items() if f[2] == name)
        if cum:
            out.append((label, cum))
    return out


def _by_area(stats: Any) -> list[tuple[str, float, float]]:
    """(area, own seconds, share) sorted by own time."""
    totals: dict[str, float] = {}
    ours = _ours_roots()
    for func, (_, _, tottime, _, _) in stats.stats.items():
        area = _area(func, ours)
        totals[area] = totals.get(area, 0.0) + tottime
    whole = sum(totals.values()) or 1.0
    return sorted(((a, t, t / whole) for a, t in totals.items()), key=lambda x: -x[1])


def _print_areas(title: str, stats: Any) -> None:
    print(f"=== {title}: own time by area (under the profiler; socket/epoll includes waiting for the GIL) ===")
    for area, seconds, share in _by_area(stats):
        print(f"  {area:<40} {seconds:7.2f} s  {100 * share:5.1f} %")
    for label, seconds in _watched(stats):
        print(f"  cumulative in {label:<52} {seconds:7.2f} s")


def _report_profile(kind: str, main_prof: Any, db_profiles: list[Any], path: Path) -> None:
    """Dump the profiles; print the top 25 cumulative entries and own time by area."""
    import pstats

    path.parent.mkdir(parents=True, exist_ok=True)
    main_prof.dump_stats(str(path))
    stats = pstats.Stats(main_prof)
    print(f"\n=== {kind}: reactor thread, top 25 by cumulative time ({path}) ===")
    stats.sort_stats("cumulative").print_stats(25)
    _print_areas(f"{kind}: reactor thread", stats)
    if db_profiles:
        db_path = path.with_name(path.stem + "-db.prof")
        db_stats = pstats.Stats(db_profiles[0])
        for prof in db_profiles[1:]:
            db_stats.add(prof)
        db_stats.dump_stats(str(db_path))
        print(f"\n=== {kind}: database thread ({len(db_profiles)} batches), top 25 by cumulative time ({db_path}) ===")
        db_stats.sort_stats("cumulative").print_stats(25)
        _print_areas(f"{kind}: database thread", db_stats)
    sys.stdout.flush()


def child_main(args: argparse.Namespace) -> int:
    """Entry point of a child process: run one crawl, write its result as JSON to --result."""
    ports = [int(p) for p in args.ports.split(",")]
    if args.child == "baseline":
        result = run_baseline(args.n, ports, Path(args.cprofile) if args.cprofile else None)
    else:
        result = run_ours(args.n, ports, Path(args.db), args.variant,
                          Path(args.cprofile) if args.cprofile else None)
    Path(args.result).write_text(json.dumps(result, default=str))
    return 0


# -------------------------------------------------------------------------------------------
# parent


class Servers:
    """The loopback x402 server processes (one port each), started and stopped by us."""

    def __init__(self, n: int, count: int) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.ports: list[int] = []
        for _ in range(count):
            proc = subprocess.Popen([sys.executable, str(SERVER), "--n", str(n)], stdout=subprocess.PIPE, text=True)
            self.procs.append(proc)
            self.ports.append(_read_port(proc, timeout=30.0))

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _read_port(proc: subprocess.Popen[str], timeout: float) -> int:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if sel.select(timeout=max(deadline - time.monotonic(), 0.01)):
                line = proc.stdout.readline()
                if line.startswith("PORT "):
                    return int(line.split()[1])
                if not line:
                    break
    finally:
        sel.close()
    proc.kill()
    raise SystemExit("bench server did not start")


def server_capacity(servers: Servers, n: int, seconds: float) -> dict[str, float]:
    """Drive the servers alone with a raw keep-alive client process; also the servers' CPU per request."""
    cpu_before = servers.cpu_seconds()
    out = subprocess.run(
        [sys.executable, str(SERVER), "--n", str(n), "--drive", ",".join(map(str, servers.ports)),
         "--seconds", str(seconds), "--connections", str(CONCURRENCY)],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )
    server_cpu = servers.cpu_seconds() - cpu_before
    driven = json.loads(out.stdout.strip().splitlines()[-1])
    driven["server_cpu_s"] = server_cpu
    # What the servers could do with their CPU fully used (one core each).
    driven["per_server_cpu_s"] = driven["requests"] / server_cpu if server_cpu else float("inf")
    return driven


SETTLE_SECONDS = 20.0  # set from --settle
NOISY_CORES = 0.3  # other processes using more than this many cores during a run make it noisy


def run_child(kind: str, n: int, servers: Servers, variant: str = "", cprofile: Path | None = None,
              src: str = "") -> dict[str, Any]:
    """One crawl in a fresh interpreter; for ours, check the database holds N paid observations.
    `src`: a source tree to import `crawler` and `index` from instead of the installed checkout."""
    with tempfile.TemporaryDirectory(prefix="x402-bench-") as tmp:
        result_path = Path(tmp) / "result.json"
        db_path = Path(tmp) / "bench.db"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--n", str(n),
               "--ports", ",".join(map(str, servers.ports)), "--result", str(result_path), "--db", str(db_path)]
        if variant:
            cmd += ["--variant", variant]
        if cprofile is not None:
            cmd += ["--cprofile", str(cprofile)]
        env = dict(os.environ)
        if src:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(src).resolve()), env.get("PYTHONPATH")]))
        if SETTLE_SECONDS > 0:
            wait_until_quiet(SETTLE_SECONDS)
        server_cpu, busy = servers.cpu_seconds(), machine_busy_seconds()
        proc = subprocess.run(cmd, cwd=tmp, env=env, timeout=120 + n / 20)
        server_cpu, busy = servers.cpu_seconds() - server_cpu, machine_busy_seconds() - busy
        if proc.returncode != 0 or not result_path.exists():
            raise BenchFailure(f"{kind} crawl failed (exit {proc.returncode})")
        result = json.loads(result_path.read_text())
        result["server_cpu_s"] = server_cpu
        # CPU the rest of the machine used while this child ran (start-up included): noise, if large.
        own = result["child_total_cpu_s"] + result.get("helper_cpu_s", 0.0)
        result["other_cpu_s"] = max(busy - server_cpu - own, 0.0)
        result["other_load_cores"] = result["other_cpu_s"] / max(result["elapsed_s"] + 1.0, 1e-6)
        if result["responses"] < n or result["status_402"] < n:
            raise BenchFailure(f"{kind}: only {result['status_402']} of {n} probes answered 402: {result}")
        if kind == "ours" and _variant_stores(variant):
            paid, total = _count_observations(db_path)
            result["db_paid"] = paid
            if paid != n or total != n:
                raise BenchFailure(f"ours: database holds {total} observations, {paid} paid; expected {n} paid")
    return result


def _variant_stores(variant: str) -> bool:
    if not variant:
        return True
    import variants

    return variants.stores(variant)


def _count_observations(db_path: Path) -> tuple[int, int]:
    with sqlite3.connect(db_path) as conn:
        paid = conn.execute("SELECT count(*) FROM observations WHERE outcome = 'paid'").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM observations").fetchone()[0]
    return int(paid), int(total)


def describe(result: dict[str, Any]) -> str:
    label = result["kind"] + (f"[{result['variant']}]" if result.get("variant") else "")
    line = (f"  {label:<24} {result['per_s']:8.1f} probes/s  {result['elapsed_s']:6.2f} s  "
            f"cpu {result['cpu_s']:6.2f} s ({1000 * result['cpu_s'] / result['n']:.2f} ms/probe)  "
            f"rss {result['peak_rss_mb']:6.1f} MiB  server cpu {result['server_cpu_s']:.2f} s  "
            f"other load {result['other_cpu_s']:.1f} s")
    if result.get("db_thread_cpu_s", 0.0) >= 0.01:
        line += f"  db thread {result['db_thread_cpu_s']:.2f} s"
    if result.get("helper_cpu_s", 0.0) >= 0.01:
        line += f"  writer process {result['helper_cpu_s']:.2f} s"
    if result.get("store_waits"):
        line += f"  waited for the writer {result['store_waits']}×"
    if result.get("other_load_cores", 0.0) > NOISY_CORES:
        line += "  [noisy: the machine was busy]"
    return line


def bench(args: argparse.Namespace) -> int:
    """Start the server, check its capacity, alternate baseline/ours, print medians and the JSON line."""
    servers = Servers(args.n, args.servers)
    try:
        capacity = server_capacity(servers, args.n, args.capacity_seconds)
        print(f"server alone: {capacity['per_s']:,.0f} req/s driven by one client process over "
              f"{CONCURRENCY} keep-alive connections ({capacity['requests']:,} in {capacity['seconds']:.1f} s); "
              f"server CPU {capacity['server_cpu_s']:.2f} s → ≈{capacity['per_server_cpu_s']:,.0f} req per CPU-second",
              flush=True)
        baselines: list[dict[str, Any]] = []
        ours: list[dict[str, Any]] = []
        for i in range(args.repeat):
            print(f"round {i + 1}/{args.repeat} (n={args.n}, {args.servers} server process(es), "
                  f"concurrency {CONCURRENCY})", flush=True)
            baselines.append(run_child("baseline", args.n, servers))
            print(describe(baselines[-1]), flush=True)
            ours.append(run_child("ours", args.n, servers, args.variant, src=args.src))
            print(describe(ours[-1]), flush=True)
    finally:
        servers.stop()

    ours_rate = statistics.median(r["per_s"] for r in ours)
    base_rate = statistics.median(r["per_s"] for r in baselines)
    ratio = ours_rate / base_rate
    ours_rss = max(r["peak_rss_mb"] for r in ours)
    base_rss = max(r["peak_rss_mb"] for r in baselines)
    print(f"baseline (bare Scrapy): {base_rate:.1f} probes/s (median of {len(baselines)})")
    print(f"ours (run_crawl + parse + SQLite): {ours_rate:.1f} probes/s (median of {len(ours)})")
    print(f"ratio ours/baseline: {ratio:.3f}   peak RSS ours {ours_rss:.1f} MiB, baseline {base_rss:.1f} MiB")
    noisy = sum(r["other_load_cores"] > NOISY_CORES for r in ours + baselines)
    if noisy:
        print(f"note: {noisy} of {len(ours) + len(baselines)} runs shared the machine with other work "
              f"(> {NOISY_CORES} cores used by other processes); CPU ms/probe is the steadier figure")
    targets = ratio >= 0.8 and ours_rate >= 300
    print(f"targets (≥ 0.8 × baseline and ≥ 300 probes/s): {'met' if targets else 'NOT met'}")
    summary = {
        "n": args.n,
        "ours_per_s": round(ours_rate, 1),
        "baseline_per_s": round(base_rate, 1),
        "ratio": round(ratio, 3),
        "peak_rss_mb": round(ours_rss, 1),
        "baseline_peak_rss_mb": round(base_rss, 1),
        "repeat": args.repeat,
        "ours_cpu_ms_per_probe": round(1000 * statistics.median(r["cpu_s"] / r["n"] for r in ours), 3),
        # the database writer process, start-up included (on the other core)
        "ours_writer_cpu_ms_per_probe": round(1000 * statistics.median(r.get("helper_cpu_s", 0.0) / r["n"] for r in ours), 3),
        "baseline_cpu_ms_per_probe": round(1000 * statistics.median(r["cpu_s"] / r["n"] for r in baselines), 3),
        "ours_best_per_s": round(max(r["per_s"] for r in ours), 1),
        "baseline_best_per_s": round(max(r["per_s"] for r in baselines), 1),
        "server_capacity_per_s": round(capacity["per_s"]),
        "other_load_cores": round(statistics.median(r["other_load_cores"] for r in ours + baselines), 2),
        "noisy_runs": noisy,
        "servers": args.servers,
        "concurrency": CONCURRENCY,
        "variant": args.variant or None,
    }
    print(json.dumps(summary))
    return 0


def profile(args: argparse.Namespace) -> int:
    """cProfile one run of the baseline and one of ours (reactor thread and database thread) at
    --profile-n probes; profiles go to bench/out/, summaries to stdout. Rates under the profiler are
    not comparable with unprofiled ones."""
    n = args.profile_n
    suffix = f"-{args.variant}" if args.variant else ""
    servers = Servers(n, args.servers)
    try:
        base = run_child("baseline", n, servers, cprofile=OUT_DIR / f"baseline-{n}.prof")
        ours = run_child("ours", n, servers, args.variant, cprofile=OUT_DIR / f"ours-{n}{suffix}.prof", src=args.src)
    finally:
        servers.stop()
    print(describe(base))
    print(describe(ours))
    print(json.dumps({"n": n, "profiled": True, "ours_per_s": round(ours["per_s"], 1),
                      "baseline_per_s": round(base["per_s"], 1), "variant": args.variant or None,
                      "profiles": str(OUT_DIR)}))
    return 0


def compare_variants(args: argparse.Namespace) -> int:
    """Each round: the baseline, ours as is, then each prototype tuning of bench/variants.py.
    Prints medians (and best rates) per variant, with ratios to the baseline's median."""
    import variants

    names = ([] if args.no_plain else [""]) + (args.only.split(",") if args.only else list(variants.VARIANTS))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    baselines: list[dict[str, Any]] = []
    servers = Servers(args.n, args.servers)
    try:
        for i in range(args.repeat):
            print(f"round {i + 1}/{args.repeat} (n={args.n})", flush=True)
            baselines.append(run_child("baseline", args.n, servers))
            print(describe(baselines[-1]), flush=True)
            for name in names:
                try:
                    runs[name].append(run_child("ours", args.n, servers, name, src=args.src))
                except BenchFailure as exc:
                    print(f"  {name or 'ours'}: FAILED: {exc}", flush=True)
                    continue
                print(describe(runs[name][-1]), flush=True)
    finally:
        servers.stop()
    base = statistics.median(r["per_s"] for r in baselines)
    base_cpu = statistics.median(r["cpu_s"] / r["n"] for r in baselines) * 1000
    print(f"  {'baseline (bare Scrapy)':<46} {base:7.1f} probes/s (best {max(r['per_s'] for r in baselines):6.1f})"
          f"           {base_cpu:.2f} ms CPU/probe")
    table: dict[str, Any] = {"baseline": {"per_s": round(base, 1), "cpu_ms_per_probe": round(base_cpu, 3)}}
    for name in names:
        label = name or "ours (as is)"
        if not runs[name]:
            print(f"  {label:<46} failed in every round")
            table[label] = None
            continue
        rate = statistics.median(r["per_s"] for r in runs[name])
        best = max(r["per_s"] for r in runs[name])
        # CPU of the crawl process plus any writer process: the cost of a probe, wherever it is paid
        cpu = statistics.median((r["cpu_s"] + r.get("helper_cpu_s", 0.0)) / r["n"] for r in runs[name]) * 1000
        rss = max(r["peak_rss_mb"] for r in runs[name])
        db_cpu = statistics.median(r.get("db_thread_cpu_s", 0.0) / r["n"] for r in runs[name]) * 1000
        print(f"  {label:<46} {rate:7.1f} probes/s (best {best:6.1f})  ×{rate / base:5.2f} of baseline  "
              f"{cpu:.2f} ms CPU/probe (db thread {db_cpu:.2f})  peak rss {rss:.0f} MiB")
        table[label] = {"per_s": round(rate, 1), "best_per_s": round(best, 1), "vs_baseline": round(rate / base, 3),
                        "cpu_ms_per_probe": round(cpu, 3), "db_thread_cpu_ms_per_probe": round(db_cpu, 3),
                        "peak_rss_mb": round(rss, 1), "runs": len(runs[name])}
    for name in names:
        if name:
            print(f"  {name}: " + " + ".join(variants.VARIANTS[part].doc for part in name.split("+")))
    noisy = sum(r["other_load_cores"] > NOISY_CORES for rs in [baselines, *runs.values()] for r in rs)
    print(json.dumps({"n": args.n, "repeat": args.repeat, "noisy_runs": noisy, "variants": table}))
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Probe throughput: ours vs a bare Scrapy spider on loopback.")
    parser.add_argument("--n", type=int, default=5000, help="probes per crawl (default 5000)")
    parser.add_argument("--repeat", type=int, default=1, help="alternate baseline/ours this many times; medians")
    parser.add_argument("--servers", type=int, default=1, help="server processes (one port each)")
    parser.add_argument("--capacity-seconds", type=float, default=2.0, help="how long to drive the server alone")
    parser.add_argument("--variant", default="", help="apply one prototype tuning of bench/variants.py to ours")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one run of the baseline and one of ours (bench/out/*.prof) instead of benchmarking")
    parser.add_argument("--profile-n", type=int, default=3000, help="probes in the --profile run")
    parser.add_argument("--variants", action="store_true",
                        help="compare the baseline, ours, and ours with each prototype tuning (bench/variants.py)")
    parser.add_argument("--settle", type=float, default=SETTLE_SECONDS,
                        help="before each crawl, wait up to this many seconds for a quiet machine (0: don't)")
    parser.add_argument("--src", default="", help="import crawler/index from this tree (e.g. a `git archive` of a commit)")
    parser.add_argument("--only", default="", help="with --variants: comma-separated variant names")
    parser.add_argument("--no-plain", action="store_true",
                        help="with --variants: skip ours as is (e.g. when it cannot complete)")
    # internal: child processes
    parser.add_argument("--child", choices=["baseline", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--cprofile", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.n < 1 or args.repeat < 1 or args.servers < 1:
        parser.error("--n, --repeat and --servers must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global SETTLE_SECONDS
    SETTLE_SECONDS = args.settle
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    if args.child:
        return child_main(args)
    try:
        if args.profile:
            return profile(args)
        if args.variants:
            return compare_variants(args)
        return bench(args)
    except BenchFailure as exc:
        print(f"BENCH FAILED: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
