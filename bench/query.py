"""Query benchmark: what an agent waits for at N resources, from the build's index.sqlite against the
index.json path it replaces.

    .venv/bin/python bench/query.py                 # 100,000 records (the issue's size)
    .venv/bin/python bench/query.py --n 20000 --runs 3

The records are bench/build.py's synthetic ones; their index.json and index.sqlite are written as a
build writes them (index_entry_dict per record; index.site.queryindex), untimed except the query
file's own cost, into bench/out/query (ignored by git). Then, side by side:

- warm MCP: `search_resources` calls into one running server object (index.query.mcp.Tools), a mix
  of typical agent queries, median and p95 over every call;
- a plain SQLite query of the same rows (the same statement on an open connection, no JSON decoded):
  the floor of the warm path;
- the index.json path in the same process: json.load of index.json alone, and load + filter + sort;
- cold CLI: `x402-index query ... --format json` as a whole process, several runs, with index.sqlite
  and without it (the JSON path), and the floor of any cold call: the interpreter alone, and the
  interpreter importing the CLI (typer, rich, the app).

The last line printed is one JSON object: {"records", "mcp_ms", "mcp_p95_ms", "cli_ms", "json_load_ms", ...}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orjson  # noqa: E402

from build import make_record  # noqa: E402  (bench/build.py)
from index.catalog.categories import categories  # noqa: E402
from index.catalog.record import SCHEMA_ID, SCHEMA_VERSION, index_entry_dict  # noqa: E402
from index.query import sqlindex  # noqa: E402
from index.query.filters import Query, filter_entries, load_entries, sort_entries  # noqa: E402
from index.query.mcp import ServerConfig, Tools  # noqa: E402
from index.site.queryindex import QUERY_FILE, write_file  # noqa: E402

# what agents ask: words, a category under a price cap, the most reliable on a network, the cheapest,
# a page of everything, verified only
MCP_CALLS = [
    {"q": "weather forecast"},
    {"q": "embeddings", "sort": "price", "limit": 10},
    {"category": "ai", "max_price_usd": 0.01, "sort": "price"},
    {"network": "base", "sort": "uptime", "min_uptime_pct": 90},
    {"sort": "latency", "limit": 20},
    {},
    {"verified_only": True, "sort": "last_verified"},
    {"q": "provider 123", "network": "eip155:84532"},
]
CLI_ARGS = ["--q", "weather forecast", "--max-price", "0.01", "--sort", "price", "--limit", "20", "--format", "json"]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def timed(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def to_query(call: dict) -> Query:
    return Query(q=call.get("q"), category=call.get("category"), network=call.get("network"),
                 max_price=call.get("max_price_usd"), verified_only=call.get("verified_only", False),
                 min_uptime=call.get("min_uptime_pct"), sort=call.get("sort"), limit=call.get("limit", 20))


def json_path(folder: Path, query: Query) -> list[dict]:
    rows = filter_entries(load_entries(folder), q=query.q, category=query.category, network=query.network,
                          max_price=query.max_price, verified_only=query.verified_only, min_uptime=query.min_uptime)
    rows = sort_entries(rows, query.sort)
    return rows[:query.limit] if query.limit is not None else rows


def cli(folder: Path, runs: int) -> tuple[list[float], list[float], float]:
    """Wall and CPU seconds of each whole `x402-index query` process, and the largest peak RSS of those
    runs (MB). CPU (user + system) is the steadier figure on a shared machine."""
    exe = Path(sys.executable).parent / "x402-index"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "index.cli"]
    # through /usr/bin/time: a child forked from this (large) process would report this process's
    # resident size as its own peak
    times, cpu, peak = [], [], 0.0
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd, "query", "--index", str(folder), *CLI_ARGS],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t)
        if proc.returncode != 0:
            raise SystemExit(f"x402-index query failed ({proc.returncode}): {proc.stderr[-500:]}")
        kb, user, system = proc.stderr.split()[-3:]
        cpu.append(float(user) + float(system))
        peak = max(peak, int(kb) / 1024)
    return times, cpu, peak


def floor(code: str, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `python -c code`."""
    walls, cpus = [], []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S", sys.executable, "-c", code], check=True,
                              stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t)
        user, system = proc.stderr.split()[-2:]
        cpus.append(float(user) + float(system))
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each cold or JSON measurement")
    parser.add_argument("--mcp-rounds", type=int, default=25, help="rounds of the MCP call mix")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "query")
    args = parser.parse_args(argv)

    rng = random.Random(402)
    cats = [c.name for c in categories()]
    t = time.perf_counter()
    entries = sorted((index_entry_dict(make_record(i, rng, cats)) for i in range(args.n)), key=lambda e: e["slug"])
    for k, e in enumerate(entries):  # spread reliability and verification as a real catalog has them
        e["uptime_7d_pct"] = None if k % 13 == 0 else round(80 + (k * 7919 % 2001) / 100, 2)
        e["p50_latency_ms"] = None if k % 13 == 0 else float(40 + k * 104729 % 900)
        e["verified"] = k % 50 == 0
        e["last_verified"] = f"2026-11-{1 + k % 28:02d}T10:00:00Z" if e["verified"] else None
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    index_json = args.out / "index.json"
    index_json.write_bytes(orjson.dumps({"schema_version": SCHEMA_VERSION, "generated_at": entries[0]["last_probed_at"],
                                         "record_schema": SCHEMA_ID, "catalog": "catalog.jsonl", "resources": entries}))
    print(f"made {args.n} entries and index.json in {time.perf_counter() - t:.1f} s (not timed)", flush=True)
    t = time.perf_counter()
    write_file(args.out / QUERY_FILE, entries, entries[0]["last_probed_at"], SCHEMA_VERSION)
    write_s = time.perf_counter() - t
    json_mb = index_json.stat().st_size / 1e6
    sqlite_mb = (args.out / QUERY_FILE).stat().st_size / 1e6
    print(f"index.sqlite written in {write_s:.2f} s: {sqlite_mb:.1f} MB beside index.json's {json_mb:.1f} MB", flush=True)
    del entries

    # warm MCP: one server object, the first call (opening the file) apart
    tools = Tools(ServerConfig(index=str(args.out), db=None))
    t = time.perf_counter()
    tools.search_resources(**MCP_CALLS[0])
    first_ms = ms(time.perf_counter() - t)
    per_call: dict[int, list[float]] = {k: [] for k in range(len(MCP_CALLS))}
    counts = {}
    for _ in range(args.mcp_rounds):
        for k, call in enumerate(MCP_CALLS):
            t = time.perf_counter()
            counts[k] = tools.search_resources(**call)["count"]
            per_call[k].append(time.perf_counter() - t)
    every = [x for xs in per_call.values() for x in xs]
    mcp_ms, mcp_p95 = ms(statistics.median(every)), ms(p95(every))
    print(f"warm MCP search_resources: median {mcp_ms} ms, p95 {mcp_p95} ms over {len(every)} calls "
          f"(first call, opening the file: {first_ms} ms)", flush=True)

    # the floor of the warm path: the same statements, rows not decoded, on the open connection
    index = sqlindex.open_index(args.out / QUERY_FILE)
    plain: dict[int, list[float]] = {k: [] for k in range(len(MCP_CALLS))}
    from index.protocol.networks import to_caip2
    for _ in range(args.mcp_rounds):
        for k, call in enumerate(MCP_CALLS):
            sql, sql_args = sqlindex.statement(
                (call.get("q") or "").lower().split(), category=call.get("category"),
                network=to_caip2(call["network"]) if call.get("network") else None, max_price=call.get("max_price_usd"),
                verified_only=call.get("verified_only", False), min_uptime=call.get("min_uptime_pct"),
                sort=call.get("sort"), limit=call.get("limit", 20))
            t = time.perf_counter()
            index.execute(sql, sql_args)
            plain[k].append(time.perf_counter() - t)
    plain_ms = ms(statistics.median([x for xs in plain.values() for x in xs]))
    for k, call in enumerate(MCP_CALLS):
        print(f"  {json.dumps(call):60s} {counts[k]:6d} rows  mcp {ms(statistics.median(per_call[k])):8.2f} ms"
              f"  plain SQL {ms(statistics.median(plain[k])):8.2f} ms", flush=True)

    # the index.json path in this process
    load_s = timed(lambda: json.loads(index_json.read_bytes()), args.runs)
    json_load_ms = ms(statistics.median(load_s))
    query_s = timed(lambda: json_path(args.out, to_query(MCP_CALLS[2])), max(1, args.runs // 2))
    json_query_ms = ms(statistics.median(query_s))

    # cold CLI, with index.sqlite and without it
    cli_s, cli_cpu, cli_rss = cli(args.out, args.runs)
    cli_ms = ms(statistics.median(cli_s))
    hidden = args.out / (QUERY_FILE + ".off")
    (args.out / QUERY_FILE).rename(hidden)
    try:
        cli_json_s, cli_json_cpu, cli_json_rss = cli(args.out, max(1, args.runs // 2))
    finally:
        hidden.rename(args.out / QUERY_FILE)
    cli_json_ms = ms(statistics.median(cli_json_s))
    cli_cpu_ms, cli_json_cpu_ms = ms(statistics.median(cli_cpu)), ms(statistics.median(cli_json_cpu))
    python_ms, python_cpu = map(ms, floor("pass", args.runs))
    import_ms, import_cpu = map(ms, floor("import index.cli.app", args.runs))
    cli_query_ms, cli_query_cpu = map(ms, floor("import index.cli.app, index.query.filters, index.query.sqlindex, orjson", args.runs))
    # any Typer command with an option: parsing it imports Typer's pydantic adapters
    typer_ms, typer_cpu = map(ms, floor("import typer, rich.console\napp = typer.Typer()\n@app.command()\n"
                        "def f(x: str = typer.Option('')) -> None: pass\napp(['--x', '1'], standalone_mode=False)", args.runs))

    def ratio(a: float, b: float) -> str:
        return f"{a / b:,.1f}×" if b else "n/a"

    print(f"\n{'':40s} {'index.sqlite':>14s} {'index.json':>14s} {'ratio':>8s}")
    print(f"{'warm call (MCP), median':40s} {mcp_ms:11.2f} ms {json_query_ms:11.2f} ms {ratio(json_query_ms, mcp_ms):>8s}")
    print(f"{'warm call (MCP), p95':40s} {mcp_p95:11.2f} ms")
    print(f"{'plain SQLite, same rows (floor)':40s} {plain_ms:11.2f} ms {json_load_ms:11.2f} ms {ratio(json_load_ms, plain_ms):>8s}"
          "   (index.json: json.load alone)")
    print(f"{'cold CLI query, median':40s} {cli_ms:11.2f} ms {cli_json_ms:11.2f} ms {ratio(cli_json_ms, cli_ms):>8s}")
    print(f"{'cold CLI query, median CPU':40s} {cli_cpu_ms:11.2f} ms {cli_json_cpu_ms:11.2f} ms {ratio(cli_json_cpu_ms, cli_cpu_ms):>8s}")
    print(f"{'cold CLI peak RSS':40s} {cli_rss:11.1f} MB {cli_json_rss:11.1f} MB {ratio(cli_json_rss, cli_rss):>8s}")
    for label, wall, cpu in (("python -c pass", python_ms, python_cpu), ("python importing the CLI", import_ms, import_cpu),
                             ("... and what query imports", cli_query_ms, cli_query_cpu),
                             ("a one-option Typer command", typer_ms, typer_cpu)):
        print(f"{'floor: ' + label:40s} {wall:11.2f} ms wall, {cpu:.0f} ms CPU")
    print(f"targets (issue 22): warm ≤ 50 ms: {'met' if mcp_p95 <= 50 else 'MISSED'} (p95); "
          f"cold CLI ≤ 300 ms: {'met' if cli_ms <= 300 else 'MISSED'}")
    shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps({"records": args.n, "mcp_ms": mcp_ms, "mcp_p95_ms": mcp_p95, "mcp_first_ms": first_ms,
                      "sqlite_plain_ms": plain_ms, "cli_ms": cli_ms, "cli_cpu_ms": cli_cpu_ms, "cli_rss_mb": round(cli_rss, 1),
                      "json_load_ms": json_load_ms, "json_query_ms": json_query_ms, "cli_json_ms": cli_json_ms, "cli_json_cpu_ms": cli_json_cpu_ms,
                      "cli_json_rss_mb": round(cli_json_rss, 1), "python_floor_ms": python_ms,
                      "cli_import_floor_ms": import_ms, "cli_query_import_floor_ms": cli_query_ms, "typer_command_floor_ms": typer_ms,
                      "floors_cpu_ms": {"python": python_cpu, "cli_import": import_cpu, "query_import": cli_query_cpu,
                                        "typer_command": typer_cpu},
                      "sqlite_write_s": round(write_s, 2), "sqlite_mb": round(sqlite_mb, 1), "json_mb": round(json_mb, 1),
                      "load_avg": [round(x, 2) for x in os.getloadavg()]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
