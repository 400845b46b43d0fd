"""Crawl every hostile case together and report what it cost: the demo fleet (its calm origins, its
hostile origin and the redirects the SSRF guard must refuse, its facilitator) plus hostile origin 2
(index/demo/hostile2.py) and its two listings without end, in one crawl child.

    .venv/bin/python bench/hostile.py                  # FAST politeness, DOWNLOAD_TIMEOUT 15 (default)
    .venv/bin/python bench/hostile.py -s DOWNLOAD_TIMEOUT=5

Prints the exit code, wall time, the crawl's peak RSS (the crawl runs as the child of a small parent,
so pytest-sized parents do not leak into the figure), the observation count and the final outcomes;
the last line is one JSON object. Extra arguments go to `x402-index crawl`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.demo.hostile2 import HostileServers, facilitators, seeds  # noqa: E402
from index.demo.server import DemoFleet  # noqa: E402

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]
MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def main(extra: list[str]) -> None:
    with DemoFleet() as fleet, HostileServers() as urls, tempfile.TemporaryDirectory() as tmp:
        manifest = fleet.manifest
        args = ["--db", f"sqlite:///{tmp}/c.db", "--allow-host", "127.0.0.1", "--quiet", *FAST]
        for seed in [*manifest["seeds"], *manifest["guarded_seeds"], *seeds(urls)]:
            args += ["--seed", seed]
        for facilitator in [manifest["facilitator"], *facilitators(urls)]:
            args += ["--facilitator", facilitator]
        rss_file = Path(tmp) / "rss"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", MEASURE, str(rss_file), sys.executable, "-m", "index.cli.app",
                               "crawl", *args, *extra], cwd=tmp, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - start
        con = sqlite3.connect(f"{tmp}/c.db")
        outcomes = con.execute("SELECT outcome, error_code, count(*) FROM observations WHERE final "
                               "GROUP BY 1, 2 ORDER BY 3 DESC").fetchall()
        result = {"exit": proc.returncode, "wall_s": round(wall, 1), "peak_rss_mb": round(int(rss_file.read_text()) / 1024),
                  "observations": con.execute("SELECT count(*) FROM observations").fetchone()[0],
                  "outcomes": {f"{o}/{c}" if c else o: n for o, c, n in outcomes}}
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
    for key, value in result.items():
        print(f"{key}: {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
