"""Issue 20 on the wire: a crawl of the second hostile origin (index.demo.hostile2) records one coded
outcome per case, exits 0, and stays small whatever the servers send (header floods, folded
headers, endless 100 Continue, one-byte chunks, bombs, unstorable text)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.demo.hostile2 import (
    CASES,
    ENDLESS_LISTING,
    LLMS_DOCS_LINKS,
    SAME_PAGE_LISTING,
    HostileServers,
    facilitators,
    seeds,
)
from index.probe.outcomes import Outcome
from tests.conftest import FAST, ROOT

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

PEAK_RSS_MB = 300
CRAWLED = [c for c in CASES if c.crawl]
LISTING_PAGES = 30  # X402_DISCOVERY_MAX_PAGES for this crawl (the default, 1,000, is the same code path)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, str]]:
    with HostileServers() as urls:
        yield urls


# Runs the crawl as its own child and writes that child's peak RSS (kB) to argv[1]. The crawl must not
# be forked from pytest itself: Linux carries the high-water RSS of the image a process replaces by
# exec into its ru_maxrss, so a child of a 300 MB pytest would report 300 MB whatever it did.
_MEASURE = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    out.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(code)
"""


def crawl_child(args: list[str], cwd: Path, timeout: float = 240) -> tuple[int, str, str, float]:
    """Run `x402-index crawl ARGS` in a child; (exit code, stdout, stderr, the crawl's peak RSS in MB,
    its store writer included)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    env.pop("X402_INDEX_DB", None)
    out, err, rss = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "rss.txt"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.run([sys.executable, "-c", _MEASURE, str(rss), sys.executable, "-m", "index.cli.app", "crawl",
                               *args], cwd=cwd, env=env, stdout=o, stderr=e, timeout=timeout, check=False)
    return proc.returncode, out.read_text(), err.read_text(), int(rss.read_text()) / 1024


@pytest.fixture(scope="module")
def crawled(servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("hostile2")
    db = work / "catalog.db"
    args = ["--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", "--quiet",
            *[a for s in seeds(servers) for a in ("--seed", s)],
            *[a for f in facilitators(servers) for a in ("--facilitator", f)],
            *FAST, "-s", "DOWNLOAD_TIMEOUT=5", "-s", f"X402_DISCOVERY_MAX_PAGES={LISTING_PAGES}"]
    code, out, err, rss = crawl_child(args, work)
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT r.url, o.outcome, o.error_code, o.findings FROM observations o "
                       "JOIN resources r ON r.id = o.resource_id").fetchall()
    by_path = {row["url"].removeprefix(servers["origin"]): row for row in rows}
    pages = {row["url"].removeprefix(servers["origin"]): {**dict(row), "extracted": json.loads(row["extracted"] or "{}")}
             for row in con.execute("SELECT url, kind, status, error_code, extracted FROM doc_pages")}
    with urllib.request.urlopen(servers["origin"] + "/__hits", timeout=5) as resp:  # noqa: S310 - loopback
        hits = json.load(resp)
    return {"code": code, "out": out, "err": err, "rss": rss, "rows": by_path, "pages": pages, "hits": hits}


def test_the_crawl_exits_0_and_stores_every_case(crawled: dict[str, Any]) -> None:
    assert crawled["code"] == 0, crawled["err"][-3000:]
    assert {c.path for c in CRAWLED} <= set(crawled["rows"])
    assert "Traceback" not in crawled["err"]


@pytest.mark.parametrize("case", CRAWLED, ids=[c.path for c in CRAWLED])
def test_each_case_ends_with_its_coded_outcome(crawled: dict[str, Any], case: Any) -> None:
    assert case.outcome in {o.value for o in Outcome}
    row = crawled["rows"][case.path]
    assert (row["outcome"], row["error_code"]) == (case.outcome, case.error_code), case.description
    codes = {f["code"] for f in json.loads(row["findings"] or "[]")}
    assert set(case.findings) <= codes, codes


def test_peak_memory_of_the_crawl_stays_bounded(crawled: dict[str, Any]) -> None:
    """Header floods took a crawl to 2.0 and 3.2 GB before its timeout; now it ends at the cap."""
    assert crawled["rss"] < PEAK_RSS_MB, crawled["rss"]


def _codes(page: dict[str, Any]) -> list[str]:
    return [f["code"] for f in page["extracted"].get("findings") or []]


def test_a_listing_that_repeats_its_page_stops_at_the_repeat(crawled: dict[str, Any]) -> None:
    path = SAME_PAGE_LISTING + "/discovery/resources"
    assert crawled["hits"][path] == 2  # the page, then the same page again: stop
    [page] = [p for url, p in crawled["pages"].items() if url.startswith(path)]
    assert (page["kind"], page["error_code"], _codes(page)) == ("facilitator", "discovery_repeated", ["discovery_repeated"])
    # its item's NUL and lone surrogate went through discovery to the store, replaced
    assert "text_unstorable" in {f["code"] for f in json.loads(crawled["rows"]["/listed/same"]["findings"])}


def test_a_listing_without_end_stops_at_the_page_cap(crawled: dict[str, Any]) -> None:
    path = ENDLESS_LISTING + "/discovery/resources"
    assert crawled["hits"][path] == LISTING_PAGES
    [page] = [p for url, p in crawled["pages"].items() if url.startswith(path)]
    assert (page["error_code"], _codes(page)) == ("discovery_capped", ["discovery_capped"])
    assert sum(url.startswith("/listed/") and url != "/listed/same" for url in crawled["rows"]) == LISTING_PAGES


def test_origin_documents_past_their_limits_carry_a_finding(crawled: dict[str, Any]) -> None:
    pages = crawled["pages"]
    assert "discovery_capped" in _codes(pages["/.well-known/x402"])
    llms = _codes(pages["/llms.txt"])
    assert llms.count("discovery_capped") == 2  # its 200 links kept of 251, and the origin's docs budget
    docs = [url for url in crawled["hits"] if url.startswith("/docs/guide-")]
    assert len(docs) == 5 < LLMS_DOCS_LINKS  # X402_DOCS_PAGES


def test_header_floods_alone_end_at_the_cap_and_stay_small(servers: dict[str, str], tmp_path: Path) -> None:
    """The floods on their own, at the default 15 s timeout and without retries: Twisted alone kept
    every line until the timeout (1.7 GB peak for /header-flood measured); now each ends at the cap."""
    db = tmp_path / "floods.db"
    args = ["--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", "--quiet", "-s", "RETRY_ENABLED=False",
            "-s", "X402_DISCOVER_ORIGINS=False"]
    for path in ("/header-flood", "/folded-header", "/continue-flood"):
        args += ["--seed", f"GET {servers['origin']}{path}"]
    code, _, err, rss = crawl_child(args, tmp_path)
    assert code == 0, err[-2000:]
    rows = sqlite3.connect(db).execute("SELECT outcome, error_code FROM observations").fetchall()
    assert rows == [("too_large", "headers_too_large")] * 3
    assert rss < PEAK_RSS_MB, rss
