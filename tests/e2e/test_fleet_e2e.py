"""End to end on the demo fleet (real x402 SDK servers on 127.0.0.1, plus a hostile origin and a
self-signed HTTPS origin): crawl → store → build → query, through the CLI in subprocesses, from a
directory that is not the repository. The crawl runs as `make demo` does: the SSRF guard on, only the
fleet's own host let through."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import FAST, ROOT, TIMEOUT, run_cli

@pytest.fixture(scope="module")
def crawled(crawled_fleet: dict[str, Any]) -> dict[str, Any]:
    return crawled_fleet


def _paid(fleet: dict[str, Any]) -> list[dict[str, Any]]:
    """The well-behaved SDK resources (their terms are the manifest's)."""
    return [r for r in fleet["resources"] if r["paid"]]


def _expected_paid(fleet: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource whose crawl outcome should be `paid`, hostile ones with a usable 402 included."""
    return [r for r in fleet["resources"] if r["expect"]["outcome"] == "paid"]


def _canon(url: str) -> str:
    from index.urls import canonical_url

    return canonical_url(url)


def test_fleet_shape(fleet: dict[str, Any]) -> None:
    paid = _paid(fleet)
    assert len(fleet["origins"]) >= 3 and len(paid) >= 10
    nets = {a["network_caip2"] for r in paid for a in r["accepts"]}
    assert {"eip155:8453", "eip155:84532"} <= nets and any(n.startswith("solana:") for n in nets)
    assert {r["version"] for r in paid} == {1, 2}
    assert any(len(r["accepts"]) == 2 for r in paid)
    usd = sorted(float(a["usd"]) for r in paid for a in r["accepts"])
    assert usd[0] == 0.000001 and usd[-1] == 1.0


def test_crawl_summary_and_outcomes(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    out = crawled["crawl"].stdout
    n = len(fleet["resources"])
    assert f"probed {n} " in out and f"paid {len(_expected_paid(fleet))} " in out and f"new {n}" in out, out
    con = sqlite3.connect(crawled["db_path"])
    status = dict(con.execute("select url || ' ' || method, status from resources"))
    assert len(status) == n
    for r in fleet["resources"]:
        assert status[f"{_canon(r['url'])} {r['method']}"] == r["expect"]["outcome"], r["url"]


def test_every_expected_finding_is_recorded(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    con = sqlite3.connect(crawled["db_path"])
    latest = {}
    for url, method, findings in con.execute(
            "select r.url, r.method, o.findings from observations o join resources r on r.id = o.resource_id order by o.id"):
        latest[(url, method)] = {f["code"] for f in json.loads(findings)}
    for r in fleet["resources"]:
        want = set(r["expect"]["findings"])
        assert want <= latest[(_canon(r["url"]), r["method"])], (r["url"], want)


def test_hostile_origin_costs_only_its_own_timeouts(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    """Every well-behaved resource had its answer before the first hostile timeout fired, and no
    request reached the address behind the hostile redirects."""
    assert crawled["counter_hits"] == 0
    con = sqlite3.connect(crawled["db_path"])
    times = {(u, m): t for u, m, t in con.execute(
        "select r.url, r.method, max(o.observed_at) from observations o join resources r on r.id = o.resource_id group by r.id")}
    first_timeout = min(t for (u, m), t in times.items() if u.endswith(("/drip", "/silent")))
    for r in _paid(fleet):
        assert times[(_canon(r["url"]), r["method"])] < first_timeout, r["url"]
    codes = dict(con.execute("select r.url, o.error_code from observations o join resources r on r.id = o.resource_id "
                             "where r.status = 'blocked'"))
    assert sorted(codes.values()) == ["ssrf:loopback", "ssrf:loopback", "ssrf:reserved"]


def test_a_picky_endpoint_is_probed_with_a_body_built_from_its_schema(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    def attempts(path: str) -> list[tuple[str, int, int, str]]:
        r = next(r for r in fleet["resources"] if r["url"].endswith(path))
        return con.execute("select o.method, o.attempt, o.http_status, o.outcome from observations o join resources r "
                           "on r.id = o.resource_id where r.url = ? and r.method = ? order by o.attempt",
                           (_canon(r["url"]), r["method"])).fetchall()

    con = sqlite3.connect(crawled["db_path"])
    # listed as POST with a schema but an example body of {}: refused with 422, then paid with a built body
    rows = attempts("/v1/search")
    assert rows[0][2:] == (422, "unprobeable") and rows[-1][2:] == (402, "paid") and {m for m, *_ in rows} == {"POST"}
    # seeded without a method: GET is refused with 405, POST gets the 402; one resource, recorded as POST
    assert attempts("/post-only") == [("GET", 0, 405, "method_not_allowed"), ("POST", 1, 402, "paid")]
    # refused whatever we try: unprobeable after every attempt, never called dead
    rows = attempts("/needs-token")
    assert [r[2] for r in rows] == [400, 400] and rows[-1][3] == "unprobeable"
    assert con.execute("select count(*) from resources where url like '%/post-only'").fetchone()[0] == 1


def test_bait_text_is_escaped_on_the_site(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    bidi = next(r for r in fleet["resources"] if r["url"].endswith("/bidi-text"))
    index = json.loads((crawled["out"] / "index.json").read_text())
    entry = next(e for e in index["resources"] if e["url"] == _canon(bidi["url"]))
    page = (crawled["out"] / entry["page"]).read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;/script&gt;" in page
    assert "\u202e" not in page.lower() and "\u202e" not in json.dumps(json.loads((crawled["out"] / entry["href"]).read_text())).lower()


def test_every_paid_resource_is_stored_with_its_terms(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    con = sqlite3.connect(crawled["db_path"])
    rows = con.execute(
        "select r.url, r.method, o.position, o.network, o.network_caip2, o.amount_atomic, o.asset, o.pay_to "
        "from payment_options o join resources r on r.id = o.resource_id order by r.url, r.method, o.position").fetchall()
    stored: dict[tuple[str, str], list[dict[str, str]]] = {}
    for url, method, _pos, net, caip2, amount, asset, pay_to in rows:
        stored.setdefault((url, method), []).append(
            {"network": net, "network_caip2": caip2, "amount_atomic": amount, "asset": asset, "pay_to": pay_to})
    for r in _paid(fleet):
        expected = [{k: a[k] for k in ("network", "network_caip2", "amount_atomic", "asset", "pay_to")} for a in r["accepts"]]
        assert stored[(_canon(r["url"]), r["method"])] == expected, r["url"]
    assert len(stored) >= len(_paid(fleet))


def test_every_probe_is_an_observation_with_raw_challenge(crawled: dict[str, Any]) -> None:
    con = sqlite3.connect(crawled["db_path"])
    rows = con.execute("select outcome, http_status, raw_headers, findings, x402_version, latency_ms from observations").fetchall()
    n_resources = con.execute("select count(*) from resources").fetchone()[0]
    assert len(rows) > n_resources  # some probes took several attempts; each attempt is a row
    for outcome, status, headers, findings, version, latency in rows:
        if status is not None:
            assert latency is not None and latency >= 0
        if outcome == "paid":
            assert status == 402 and version in (1, 2)
            if version == 2 and "v2_in_body_only" not in findings:
                assert "payment-required" in json.loads(headers)


def test_provenance_of_facilitator_listed_resources(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    con = sqlite3.connect(crawled["db_path"])
    sources = {(u, m): json.loads(s) for u, m, s in con.execute("select url, method, sources from resources")}
    for r in fleet["resources"]:
        kinds = {s["kind"] for s in sources[(_canon(r["url"]), r["method"])]}
        assert ("facilitator" if r["listed_by_facilitator"] else "seed") in kinds, r["url"]
        assert set(r["expect_sources"]) <= kinds, (r["url"], kinds)  # origin files found them too


def test_discovery_from_the_facilitator_and_origin_homepages_alone(fleet: dict[str, Any], tmp_path: Path) -> None:
    """No resource URL given: the facilitator's paginated listing (with a 429 on one page) and what each
    origin says about itself (well-known, OpenAPI, llms.txt, docs) find every paid resource, with the
    right provenance, and the cross-origin entry in a well-known file is dropped."""
    httpx.post(fleet["facilitator_reset_url"], timeout=5)
    db = tmp_path / "disc.db"
    seeds = [arg for o in fleet["origin_seeds"] for arg in ("--seed", o)]
    run_cli("crawl", "--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", "--quiet", "--facilitator", fleet["facilitator"],
            *seeds, *FAST, "-s", f"DOWNLOAD_TIMEOUT={TIMEOUT}", cwd=tmp_path)
    con = sqlite3.connect(db)
    found = {(u, m): (st, {s["kind"] for s in json.loads(src)}) for u, m, st, src in
             con.execute("select url, method, status, sources from resources")}
    for r in _paid(fleet):
        status, kinds = found[(_canon(r["url"]), r["method"])]
        assert status == "paid", r["url"]
        assert kinds == set(r["expect_sources"]), (r["url"], kinds)
    images = next(r for r in _paid(fleet) if r["url"].endswith("/images/generations"))
    findings = json.loads(con.execute("select findings from resources where url = ?", (_canon(images["url"]),)).fetchone()[0])
    assert any(f["code"] == "declared_price_mismatch" for f in findings)
    pages = dict(con.execute("select kind, count(*) from doc_pages where status = 200 group by kind"))
    assert pages.get("well_known", 0) >= 2 and pages.get("openapi", 0) >= 1 and pages.get("llms_txt", 0) >= 1
    assert pages.get("homepage", 0) >= 3 and pages.get("docs", 0) >= 3


def test_site_lists_every_paid_resource_with_price_and_network(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    out = crawled["out"]
    home = (out / "index.html").read_text()
    index = json.loads((out / "index.json").read_text())
    assert index["counts"]["resources"] == len(_expected_paid(fleet))
    by_url = {(e["url"], e["method"]): e for e in index["resources"]}
    for r in _paid(fleet):
        entry = by_url[(_canon(r["url"]), r["method"])]
        assert min(float(a["usd"]) for a in r["accepts"]) == entry["price_usd"]
        assert entry["title"] in home.replace("&amp;", "&")
        page = (out / entry["page"]).read_text()
        twin = json.loads((out / entry["href"]).read_text())
        assert twin["slug"] == entry["slug"] and twin["url"] == entry["url"]
        for a in r["accepts"]:
            assert a["pay_to"] in page and a["amount_atomic"] in json.dumps(twin)
    assert "Lexa AI · Chat completions" in home and "$0.000001" in home and "$1<" in home.replace(" ", "")
    assert "Solana" in home and "Base Sepolia" in home
    lines = (out / "catalog.jsonl").read_text().splitlines()
    assert len(lines) == len(_expected_paid(fleet))
    origin_titles = {json.loads(line)["origin"]["title"] for line in lines}
    assert {"Skycast Weather", "Lexa AI", "ChainLens Data"} <= origin_titles


def test_query_by_network_returns_exactly_the_base_resources(crawled: dict[str, Any], fleet: dict[str, Any]) -> None:
    proc = run_cli("query", "--index", str(crawled["out"]), "--network", "eip155:8453", "--format", "json", cwd=crawled["work"])
    got = {(e["url"], e["method"]) for e in json.loads(proc.stdout)}
    want = {(_canon(r["url"]), r["method"]) for r in _expected_paid(fleet) if any(a["network_caip2"] == "eip155:8453" for a in r["accepts"])}
    assert got == want and len(want) >= 5
    cheap = json.loads(run_cli("query", "--index", str(crawled["out"] / "index.json"), "--q", "chat", "--max-price", "0.001",
                               "--format", "json", cwd=crawled["work"]).stdout)
    assert [e["title"] for e in cheap] == ["Lexa AI · Chat completions"]
    table = run_cli("query", "--index", str(crawled["out"]), "--category", "weather", cwd=crawled["work"]).stdout
    assert "Forecast" in table and "4 resources" in table


def test_show_prints_a_full_record(crawled: dict[str, Any]) -> None:
    index = json.loads((crawled["out"] / "index.json").read_text())
    slug = next(e["slug"] for e in index["resources"] if e["title"].endswith("Forecast"))
    record = json.loads(run_cli("show", slug, "--db", crawled["db"], cwd=crawled["work"]).stdout)
    for field in ("slug", "title", "url", "category", "summary", "accepts", "origin", "generated_at"):
        assert record[field] not in (None, "", []), field
    assert [a["network_caip2"] for a in record["accepts"]] == ["eip155:84532", "eip155:8453"]
    assert record["accepts"][0]["hints"]["input"]["queryParams"] == {"city": "Lisbon"}
    missing = run_cli("show", "no-such-slug", "--db", crawled["db"], cwd=crawled["work"], check=False)
    assert missing.returncode == 1 and "no resource" in missing.stderr and "Traceback" not in missing.stderr


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    proc = run_cli("query", "--index", str(tmp_path / "nowhere"), cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stderr.strip().count("\n") == 0
    proc = run_cli("crawl", "--seeds-file", str(tmp_path / "none.yaml"), "--db", f"sqlite:///{tmp_path}/x.db", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_ssrf_guard_is_on_by_default(fleet: dict[str, Any], tmp_path: Path) -> None:
    r = _paid(fleet)[0]
    db = f"sqlite:///{tmp_path / 'g.db'}"
    proc = run_cli("crawl", "--db", db, "--quiet", "--seed", r["url"], *FAST, cwd=tmp_path)
    assert "blocked 1" in proc.stdout and "paid 0" in proc.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_every_paid_resource_and_stops_cleanly(fleet: dict[str, Any], tmp_path: Path) -> None:
    owner = fleet["owner"]["resources"]  # the seller origin: x402 endpoints of a verified owner, L402, MPP
    # the demo runs its own fleet, the well-behaved origins and the seller origin, from the same spec
    n_paid = len(_paid(fleet)) + sum(r["protocol"] == "x402" for r in owner)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "index.cli.app", "demo", "--port", str(port), "--out", str(tmp_path / "public"),
         "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--fleet-port", "0", "--quiet"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "live at" in line or not line:
                break
        assert f"http://127.0.0.1:{port}/" in "".join(lines), "".join(lines)
        assert f"paid {n_paid} " in "".join(lines) and "blocked" not in "".join(lines)
        html = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
        index = httpx.get(f"http://127.0.0.1:{port}/index.json", timeout=10).json()
        assert index["counts"]["resources"] == n_paid + sum(r["protocol"] != "x402" for r in owner)
        assert {e["protocol"] for e in index["resources"]} == {"x402", "l402", "mpp"}
        assert sum(e["owner_verified"] for e in index["resources"]) == len(owner)
        for e in index["resources"]:
            assert e["title"].replace("&", "&amp;") in html
        for price in ("$0.000001", "$0.0005", "$0.02", "$1"):
            assert price in html
        for net in ("Base", "Base Sepolia", "Solana"):
            assert f'class="net">{net}<' in html
    finally:
        proc.send_signal(15)  # SIGTERM, as `kill` or systemd send it (Ctrl-C takes the same path)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "stopped the site and the demo fleet" in rest
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    assert ROOT.exists()


def test_scrapy_crawl_probe_works_from_the_repo_root(fleet: dict[str, Any], tmp_path: Path) -> None:
    paid = _paid(fleet)[:2]
    db = tmp_path / "s.db"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "scrapy"), "crawl", "probe", "-a", "seed=" + ", ".join(f"{r['method']} {r['url']}" for r in paid),
         "-s", "X402_ALLOW_PRIVATE=True", "-s", f"X402_DB_URL=sqlite:///{db}", "-s", "LOG_LEVEL=WARNING",
         "-s", "X402_DISCOVER_ORIGINS=False"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    con = sqlite3.connect(db)
    assert con.execute("select count(*) from resources where status = 'paid'").fetchone()[0] == 2


def test_a_quiet_crawl_of_hostile_servers_prints_no_tracebacks(crawled: dict[str, Any]) -> None:
    """What remote servers do (self-signed TLS, resets, bombs) is data on the observation, not a
    traceback or an ERROR line on the operator's terminal."""
    stderr = crawled["crawl"].stderr
    assert "Traceback" not in stderr and " ERROR: " not in stderr, stderr[-3000:]
