"""The scheduled publish cycle: what the cron job does after each crawl, at N resources.

    .venv/bin/python bench/cycle.py --n 20000 --keep           # fill a 20k store (kept), run the cycle
    .venv/bin/python bench/cycle.py --n 20000 --reuse          # the kept store again, no fill
    .venv/bin/python bench/cycle.py --n 20000 --reuse --src /tmp/base   # and the code of another tree beside it

A store of N resources is filled as `bench/catalog.py` fills it (origin pages, eight crawl runs over
30 days, written through the crawler's own write path; not timed) and copied aside. Then, for each
code tree (this checkout, and `--src` when given: a `git archive` of another commit), from a fresh
copy of that store:

1. `first`: the whole scheduled publish (`index.publish.build` with the search index) into an empty
   served folder: the site as it stands after the eighth crawl (and the baseline of a build that
   reuses nothing);
2. a crawl that changes the terms (price) of 1 % of the resources, every other probe answered as
   before (not timed as part of the cycle);
3. `cycle`: the scheduled publish again into the same served folder;
4. a crawl that changes nothing (every resource answers as it did, new latencies);
5. `quiet`: the scheduled publish again.

Each publish runs in a process of its own (the code tree on its PYTHONPATH) and reports its wall and
CPU seconds (itself and its children: the forked render workers and pagefind), its peak RSS (itself,
and the largest child), and the files written, counted by comparing the folder's (inode, size,
mtime) before and after (pagefind's bundle included). The last line is one JSON object:
{"records", "cycle_s", "quiet_cycle_s", "peak_rss_mb", ...}; with --src, the same keys for the
other tree under "base" and the ratios ours / base.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from collections.abc import Iterator
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalog import SITE, Probes, Spec, category_words, fill, record_in_batches  # noqa: E402

OUT = ROOT / "bench" / "out"
CRAWL_GAP = timedelta(hours=6)  # the scheduled crawls after the store's last one
CHANGED_EVERY = 100  # crawl 9 changes the price of one resource in this many

PUBLISH = r"""
import json, os, resource, sys, time
from pathlib import Path
t, c = time.perf_counter(), os.times()
from index.publish import build
counts = build(sys.argv[1], Path(sys.argv[2]), sys.argv[3], search=sys.argv[4] == "1")
wall = time.perf_counter() - t
e = os.times()
print(json.dumps({"wall_s": wall, "cpu_s": (e.user + e.system) - (c.user + c.system),
                  "children_cpu_s": (e.children_user + e.children_system) - (c.children_user + c.children_system),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "counts": {k: v for k, v in counts.items() if isinstance(v, (int, float, dict, str))}}))
"""


def crawl(db_url: str, n: int, per_origin: int, crawls: int, seed: int, k: int, change: bool) -> None:
    """One more crawl run after the store's last: every resource probed once, CRAWL_GAP × (k - crawls + 1)
    after the newest probe of the fill; `change`: one resource in CHANGED_EVERY triples its price (and
    keeps it in later crawls). Resources down at the end of the fill stay down; no timeouts."""
    from sqlalchemy import text

    from index.schedule.changes import begin_run, finish_run
    from index.store.engine import dispose_engine, init_db

    engine = init_db(db_url)
    rng = random.Random(seed)
    words = list(category_words().values())
    specs = [Spec(i, per_origin, words, rng) for i in range(n)]  # the fill's specs: same seed, same order
    probes = Probes(specs, crawls, random.Random(seed + k))
    with engine.connect() as conn:
        newest = conn.execute(text("SELECT max(observed_at) FROM observations")).scalar()
    newest = newest if isinstance(newest, datetime) else datetime.fromisoformat(str(newest))
    # the fill's last crawl started at most an hour before its newest probe
    at0 = newest.replace(minute=0, second=0, microsecond=0) + CRAWL_GAP * (k - crawls + 1)
    run_id = begin_run(engine, "incremental")
    t = time.perf_counter()

    def crawled() -> Iterator[dict[str, Any]]:
        for j, s in enumerate(specs):
            atomic, pay_to = probes.terms(s, crawls - 1)
            if s.i % CHANGED_EVERY == 42 and (change or k > crawls):  # changed in crawl 9, kept since
                atomic *= 3
            down = s.i % 200 == 3
            at = at0 + timedelta(hours=1) * j / n
            items = probes.items(s, crawls - 1, at)  # the shape of a probe (the 405 attempt, …); then our outcome
            item = dict(items[-1])
            if down:
                item.update(outcome="server_error", http_status=503, latency_ms=20.0, error_code=None,
                            headers={"content-type": "text/plain"}, body="upstream unavailable", challenge=None)
            else:
                headers, challenge = probes.challenge(s, atomic, pay_to)
                item.update(outcome="paid", http_status=402, latency_ms=round(probes.rng.lognormvariate(4.5, 0.6), 1),
                            error_code=None, headers=headers, body="{}", challenge=challenge)
            yield from items[:-1]
            yield item

    record_in_batches(engine, crawled(), run_id)
    counts = finish_run(engine, run_id, {"bench": True})
    print(f"  crawl {k + 1} at {at0:%Y-%m-%d %H:%M} ({'1 % of prices changed' if change else 'nothing changed'}): "
          f"{time.perf_counter() - t:.1f} s, changes { {c: v for c, v in counts.items() if v} }", flush=True)
    dispose_engine(db_url)


def in_child(target: Any, *args: Any) -> None:
    child = multiprocessing.get_context("fork").Process(target=target, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"error: {target.__name__} failed (exit code {child.exitcode})")


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under `folder`: (inode, size, mtime ns)."""
    out: dict[str, tuple[int, int, int]] = {}
    stack = [str(folder)]
    while stack:
        for e in os.scandir(stack.pop()):
            if e.is_dir(follow_symlinks=False):
                stack.append(e.path)
            elif e.is_file(follow_symlinks=False):
                st = e.stat(follow_symlinks=False)
                out[e.path] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def publish(src: Path, db_url: str, site: Path, search: bool) -> dict[str, Any]:
    before = snapshot(site) if site.exists() else {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")])))
    load = os.getloadavg()[0]
    proc = subprocess.run([sys.executable, "-c", PUBLISH, db_url, str(site), SITE, "1" if search else "0"],
                          env=env, capture_output=True, text=True, check=False, cwd=str(src))
    if proc.returncode != 0:
        raise SystemExit(f"error: the publish failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    after = snapshot(site)
    res["files"] = len(after)
    res["files_written"] = sum(1 for p, v in after.items() if before.get(p) != v)
    res["files_removed"] = sum(1 for p in before if p not in after)
    res["peak_rss_mb"] = max(res["rss_mb"], res["children_rss_mb"])
    res["load_before"] = round(load, 2)
    return res


def line(label: str, r: dict[str, Any]) -> str:
    c = r["counts"]
    return (f"  {label:<6} {r['wall_s']:7.2f} s wall · {r['cpu_s'] + r['children_cpu_s']:7.2f} CPU s "
            f"({r['children_cpu_s']:.2f} in children) · peak RSS {r['rss_mb']:.0f} MB (largest child "
            f"{r['children_rss_mb']:.0f} MB) · {r['files_written']} files written, {r['files_removed']} removed, "
            f"{r['files']} in the folder · rendered {c.get('rendered')} · search {c.get('search', '-')} "
            f"({c.get('search_built', '-')} of {c.get('search_count', '-')} parts, {c.get('search_s', '-')} s) · "
            f"phases {c.get('phases_s')} · load before {r['load_before']}")


def run_tree(label: str, src: Path, base_db: Path, args: argparse.Namespace) -> dict[str, Any]:
    work = OUT / f"cycle-{args.n}-{label}.db"
    site = OUT / f"cycle-{args.n}-{label}-site"
    shutil.rmtree(site, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(base_db, work)
    db_url = f"sqlite:///{work}"
    print(f"{label}: {src}", flush=True)
    first = publish(src, db_url, site, not args.no_search)
    print(line("first", first), flush=True)
    in_child(crawl, db_url, args.n, args.per_origin, args.crawls, args.seed, args.crawls, True)
    cycle = publish(src, db_url, site, not args.no_search)
    print(line("cycle", cycle), flush=True)
    in_child(crawl, db_url, args.n, args.per_origin, args.crawls, args.seed, args.crawls + 1, False)
    quiet = publish(src, db_url, site, not args.no_search)
    print(line("quiet", quiet), flush=True)
    if not args.keep:
        shutil.rmtree(site, ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
    return {"records": first["counts"].get("resources"), "first_s": round(first["wall_s"], 2),
            "cycle_s": round(cycle["wall_s"], 2), "quiet_cycle_s": round(quiet["wall_s"], 2),
            "first_cpu_s": round(first["cpu_s"] + first["children_cpu_s"], 2),
            "cycle_cpu_s": round(cycle["cpu_s"] + cycle["children_cpu_s"], 2),
            "quiet_cpu_s": round(quiet["cpu_s"] + quiet["children_cpu_s"], 2),
            "peak_rss_mb": round(max(r["peak_rss_mb"] for r in (first, cycle, quiet))),
            "cycle_peak_rss_mb": round(cycle["peak_rss_mb"]), "quiet_peak_rss_mb": round(quiet["peak_rss_mb"]),
            "files": quiet["files"], "first_files_written": first["files_written"],
            "cycle_files_written": cycle["files_written"], "quiet_files_written": quiet["files_written"],
            "cycle_search": cycle["counts"].get("search"), "quiet_search": quiet["counts"].get("search")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="resources (default 100,000)")
    parser.add_argument("--per-origin", type=int, default=20)
    parser.add_argument("--crawls", type=int, default=8, help="crawl runs of the fill (default 8)")
    parser.add_argument("--seed", type=int, default=402)
    parser.add_argument("--reuse", action="store_true", help="reuse a kept store (bench/out/cycle-N.db), no fill")
    parser.add_argument("--keep", action="store_true", help="keep the store, the work copies and the sites")
    parser.add_argument("--src", type=Path, default=None, help="also run the cycle with the code of this tree (baseline)")
    parser.add_argument("--no-search", action="store_true", help="publish without the search index")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    base_db = OUT / f"cycle-{args.n}.db"
    if not (args.reuse and base_db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base_db}{suffix}").unlink(missing_ok=True)
        print(f"filling {base_db} with {args.n} resources, {args.crawls} crawls (not timed)", flush=True)
        t = time.perf_counter()
        in_child(fill, f"sqlite:///{base_db}", args.n, args.per_origin, args.crawls, args.seed)
        print(f"filled in {time.perf_counter() - t:.1f} s; {base_db.stat().st_size / 1e6:.0f} MB", flush=True)
    result = run_tree("ours", ROOT, base_db, args)
    if args.src is not None:
        base = run_tree("base", args.src.resolve(), base_db, args)
        result["base"] = base
        for key in ("cycle_s", "quiet_cycle_s", "peak_rss_mb", "cycle_cpu_s", "quiet_cpu_s"):
            if base.get(key):
                result[f"{key.removesuffix('_s')}_ratio"] = round(result[key] / base[key], 3)
    if not args.keep and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{base_db}{suffix}").unlink(missing_ok=True)
    result["load_avg"] = [round(x, 2) for x in os.getloadavg()]
    result["search"] = not args.no_search
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
