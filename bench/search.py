"""Search index benchmark: pagefind's peak RSS and time by the number of pages a run indexes, and the
publish cycle's search step in parts (index.site.search), at N resources (bench/build.py's records).

    .venv/bin/python bench/search.py --n 100000                  # sizes 1k…16k, the search step
    .venv/bin/python bench/search.py --n 100000 --whole          # and one run over every page (before parts)
    .venv/bin/python bench/search.py --n 100000 --reuse --sizes 4000 --pairs   # two runs at once

1. A site of N records built into --out (not timed; --reuse builds into the existing one, which
   changes nothing when it holds the same records).
2. `runs`: for each size in --sizes, one pagefind run over that many resource pages picked at random
   (hard-linked into a staging folder, as index.site.search does for a part): wall, CPU (user +
   system) and peak RSS of pagefind itself (/usr/bin/time). --whole adds one run over
   every page, the single index of before. --pairs runs two of each size at once (2 cores).
3. `step` (unless --no-step): the search step as index.publish runs it (build_search_index with the build's part keys),
   each in its own process: into the site without an index (every part); after a build where 10
   titles changed (their parts only); after a build where 1 % of the prices changed (no part). Wall,
   parts run, the largest pagefind RSS, pagefind's CPU.

4. `browser` (--browser w1,w2): each word searched on the served home page in headless Chromium
   (the tests' browser), timed until the table shows the matches, with the requests it made.

Every measurement is pagefind's and the staging's, not the site build's. The last line printed is
one JSON object: {"records", "runs": [{"pages", "wall_s", "cpu_s", "rss_mb"}, …], "pairs": […],
"step": {"first": {…}, "titles": {…}, "prices": {…}}, "browser": […], "part_max", "parts"}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from build import SITE, make_record  # noqa: E402

from index.catalog.categories import categories  # noqa: E402
from index.gcpolicy import no_collections  # noqa: E402
from index.site import searchparts  # noqa: E402
from index.site.build import build_site  # noqa: E402
from index.site.search import BUNDLE, SEARCHED, pagefind_binary  # noqa: E402

TITLES = 10  # titles changed for the second search step

STEP = r"""
import json, resource, sys, time
from pathlib import Path
from index.site.search import build_search_index
t = time.perf_counter()
done = build_search_index(Path(sys.argv[1]), keys=json.loads(sys.argv[2]))
wall = time.perf_counter() - t
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall_s": round(wall, 2), "parts": done.parts, "built": done.built,
                  "cpu_s": round(r.ru_utime + r.ru_stime, 1), "rss_mb": round(r.ru_maxrss / 1024)}))
"""


def stage(site: Path, folder: Path, slugs: list[str]) -> None:
    pages = folder / "r"
    shutil.rmtree(folder, ignore_errors=True)
    pages.mkdir(parents=True)
    for slug in slugs:
        os.link(site / "r" / f"{slug}.html", pages / f"{slug}.html")


def start(folder: Path) -> subprocess.Popen[bytes]:
    """pagefind over the staged pages, under /usr/bin/time: a child's peak RSS counts the memory of the
    process it was forked from (the records of this one), the figure of the process `time` forks does not."""
    return subprocess.Popen(["/usr/bin/time", "-f", "%e %U %S %M", "-o", str(folder / "time"), pagefind_binary(),
                             "--site", str(folder), "--glob", SEARCHED, "--output-path", str(folder / "out"), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def reap(proc: subprocess.Popen[bytes], folder: Path) -> dict[str, Any]:
    """The run's wall, CPU (user + system) and peak RSS."""
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"pagefind failed: {err.decode()}")
    wall, user, system, rss_kb = (folder / "time").read_text().split()[-4:]
    return {"wall_s": float(wall), "cpu_s": round(float(user) + float(system), 2), "rss_mb": round(int(rss_kb) / 1024)}


def runs(site: Path, slugs: list[str], sizes: list[int], together: int) -> list[dict[str, Any]]:
    """pagefind over `size` random pages, `together` runs at once (each its own pages)."""
    rng = random.Random(22)
    out = []
    for size in sizes:
        picks = rng.sample(slugs, min(len(slugs), size * together))
        folders = [site / f".bench-search-{k}" for k in range(together)]
        for k, folder in enumerate(folders):
            stage(site, folder, picks[k * size:(k + 1) * size])
        os.sync()
        t = time.perf_counter()
        started = [start(f) for f in folders]
        done = [reap(p, f) for p, f in zip(started, folders)]
        wall = time.perf_counter() - t
        for folder in folders:
            shutil.rmtree(folder)
        row = {"pages": size, **done[0]} if together == 1 else {
            "pages": size, "runs": together, "wall_s": round(wall, 2), "cpu_s": round(sum(d["cpu_s"] for d in done), 2),
            "rss_mb_sum": sum(d["rss_mb"] for d in done), "rss_mb": max(d["rss_mb"] for d in done)}
        print(f"pagefind × {together} over {size} pages: {row}", flush=True)
        out.append(row)
    return out


def step(site: Path, keys: list[str], label: str) -> dict[str, Any]:
    os.sync()
    proc = subprocess.run([sys.executable, "-c", STEP, str(site), json.dumps(keys)], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"search step, {label}: {result}", flush=True)
    return result


def browse(site: Path, words: list[str]) -> list[dict[str, Any]]:
    """Each word typed into the home page's search box in headless Chromium (the tests' browser), timed
    until the table says what matched: the first search loads parts.json, the first part's pagefind.js
    and WebAssembly, and merges every other part."""
    import threading

    from playwright.sync_api import sync_playwright

    from index.site.serve import make_server
    from tests.browser.test_browser import CHROMIUM, CHROMIUM_ARGS

    server = make_server(site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page()
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url))
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            for word in words:
                asked.clear()
                t = time.perf_counter()
                page.fill("#q", word)
                page.locator("#table-count").filter(has_text=f"“{word}”").wait_for(timeout=120_000)
                row = {"word": word, "s": round(time.perf_counter() - t, 2), "requests": len(asked),
                       "to_index": sum(f"/{BUNDLE}/" in u for u in asked),
                       "shown": page.locator("#table-count").inner_text().split(".")[0]}
                print(f"search in Chromium: {row}", flush=True)
                out.append(row)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return out


def build(records: list, out: Path) -> dict[str, Any]:
    t = time.perf_counter()
    with no_collections():
        counts = build_site(records, out, SITE)
    print(f"  site build (not timed): {time.perf_counter() - t:.1f} s, {counts['rendered']} pages rendered", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records (default 100,000)")
    parser.add_argument("--sizes", default="1000,2000,4000,8000,16000", help="pages per pagefind run, comma-separated")
    parser.add_argument("--whole", action="store_true", help="also one run over every page")
    parser.add_argument("--pairs", action="store_true", help="also two runs of each size at once")
    parser.add_argument("--no-step", action="store_true", help="skip the search step")
    parser.add_argument("--browser", default="", help="words to search in headless Chromium after the steps, "
                        "comma-separated (the first loads the index)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "search-site")
    parser.add_argument("--reuse", action="store_true", help="build into the existing site")
    parser.add_argument("--keep", action="store_true", help="keep the site")
    args = parser.parse_args(argv)

    rng = random.Random(402)
    cats = [c.name for c in categories()]
    records = sorted((make_record(i, rng, cats) for i in range(args.n)), key=lambda r: r.slug)
    if not args.reuse:
        shutil.rmtree(args.out, ignore_errors=True)
    # without an index: the build picks the number of parts for the catalog's size, not the last index's
    shutil.rmtree(args.out / BUNDLE, ignore_errors=True)
    print(f"{args.n} records; building the site into {args.out} (not timed)", flush=True)
    counts = build(records, args.out)
    slugs = [r.slug for r in records]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    result: dict[str, Any] = {"records": args.n, "runs": runs(args.out, slugs, sizes + ([args.n] if args.whole else []), 1)}
    if args.pairs:
        result["pairs"] = runs(args.out, slugs, sizes, 2)
    if not args.no_step:
        steps = {"first": step(args.out, counts["search_parts"], "into a site without an index (every part)")}
        # a few titles (their parts), then 1 % of the prices (no part: prices are not searched)
        titled = list(records)
        for i in random.Random(7).sample(range(args.n), TITLES):
            titled[i] = titled[i].model_copy(update={"title": f"{titled[i].title} renamed"})
        counts = build(titled, args.out)
        steps["titles"] = step(args.out, counts["search_parts"], f"after {TITLES} titles changed")
        priced = list(titled)
        for i in random.Random(8).sample(range(args.n), max(1, args.n // 100)):
            priced[i] = priced[i].model_copy(update={"price_usd": round((priced[i].price_usd or 0.001) * 3, 6)})
        counts = build(priced, args.out)
        steps["prices"] = step(args.out, counts["search_parts"], "after 1 % of the prices changed")
        result["step"] = steps
        if args.browser:
            result["browser"] = browse(args.out, args.browser.split(","))
    result["part_max"] = searchparts.PART_MAX
    result["parts"] = len(counts["search_parts"])
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
