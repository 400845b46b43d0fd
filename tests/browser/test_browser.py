"""The published site in a real browser: Debian's Chromium, headless, driven by Playwright (never a
downloaded browser). One crawl of the demo fleet, one build (with the pagefind index), one served
site, one browser for the whole module.

`make test` installs chromium when it is missing; X402_CHROMIUM overrides /usr/bin/chromium.
Screenshots land in tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import extruct
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from index.demo.bait import BAIT_DESCRIPTION, BAIT_TAGS, BAIT_TITLE
from index.site.serve import make_server
from index.urls import canonical_url
from tests.conftest import ROOT, run_cli

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("X402_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# As root in a container: no sandbox; and no background traffic (this machine's network is closed).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps"]
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s", "DOWNLOAD_TIMEOUT=5"]


@contextmanager
def served_fleet_site(fleet: dict[str, Any], work: Path) -> Iterator[dict[str, Any]]:
    """The fleet crawled and built into `work` as `make demo` does, served on 127.0.0.1."""
    db = f"sqlite:///{work / 'catalog.db'}"
    seeds = [arg for s in [*fleet["seeds"], *fleet["guarded_seeds"]] for arg in ("--seed", s)]
    run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", "--facilitator", fleet["facilitator"],
            *seeds, *FAST, cwd=work)
    server = make_server(work / "public", "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.server_port}"
    run_cli("build", "--db", db, "--out", str(work / "public"), "--base-url", base, "--quiet", cwd=work)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    index = json.loads((work / "public" / "index.json").read_text())
    try:
        yield {"base": base, "out": work / "public", "index": index, "fleet": fleet, "work": work}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The fleet crawled and built as `make demo` does, served on 127.0.0.1."""
    with served_fleet_site(fleet, tmp_path_factory.mktemp("browser")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Watch:
    """Console errors, uncaught exceptions and dialogs of one page."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", dialog)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":  # CSP violations and failed loads are logged as errors too
            self.errors.append(f"{msg.type}: {msg.text}")


@pytest.fixture()
def page(browser: Browser) -> Iterator[tuple[Page, Watch]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    watch = Watch(pg)
    yield pg, watch
    context.close()


def _entry(site: dict[str, Any], path: str) -> dict[str, Any]:
    return next(e for e in site["index"]["resources"] if e["url"].split("?")[0].endswith(path))


def _expected(site: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in site["fleet"]["resources"] if r["expect"]["outcome"] == "paid"]


def test_home_lists_the_fleet(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(site["base"] + "/")
    rows = pg.locator("#resources tbody tr")
    assert rows.count() == len(_expected(site)) == site["index"]["counts"]["resources"]
    text = pg.locator("#resources").inner_text()
    for r in _expected(site):
        entry = next(e for e in site["index"]["resources"] if e["url"] == canonical_url(r["url"]) and e["method"] == r["method"])
        assert entry["title"] in text
    assert pg.locator("h1").inner_text().startswith(f"{len(_expected(site))} pay-per-call API endpoints")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    assert (ARTIFACTS / "home.png").stat().st_size > 10_000
    assert watch.errors == [] and watch.dialogs == []


def test_search_finds_a_resource_by_a_word_of_its_description(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    air = _entry(site, "/v1/air-quality")
    assert "pollutants" in air["summary"]
    pg.goto(site["base"] + "/")
    pg.fill("#q", "pollutants")
    # the search narrows the table itself (tests/browser/test_browsing.py: with the filters, counts, excerpts)
    found = pg.locator("#resources tbody tr:visible")
    pg.locator("#table-count").filter(has_text="matching").wait_for(timeout=10_000)
    assert found.count() == 1
    first = found.first.locator("td a").first
    assert first.inner_text() == air["title"]
    first.click()
    pg.wait_for_url("**/" + air["page"])
    assert pg.locator("h1").inner_text() == air["title"]
    # the search and the filters narrow the same rows: a category that does not match empties the table
    pg.goto(site["base"] + "/")
    pg.select_option("select[name=category]", "ai")
    pg.fill("#q", "pollutants")
    pg.locator("#table-count").filter(has_text="Showing 0 of").wait_for(timeout=10_000)
    assert watch.errors == [] and watch.dialogs == []


def test_filters_narrow_the_table_and_headers_sort_it(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    pg.goto(site["base"] + "/")
    visible = pg.locator("#resources tbody tr:visible")
    total = visible.count()
    solana = [e for e in site["index"]["resources"] if any(n.startswith("solana:") for n in e["networks"])]
    network = solana[0]["networks"][0]
    pg.select_option("select[name=network]", network)
    assert visible.count() == len(solana) < total
    assert "Solana top tokens" in visible.first.inner_text()
    pg.click("button[type=reset]")
    pg.wait_for_function(f"document.querySelectorAll('#resources tbody tr:not([hidden])').length === {total}")
    weather = [e for e in site["index"]["resources"] if e["category"] == "weather"]
    pg.select_option("select[name=category]", "weather")
    pg.fill("input[name=max]", "0.002")
    want = [e for e in weather if e["price_usd"] is not None and e["price_usd"] <= 0.002]
    assert 0 < visible.count() == len(want) < len(weather)
    assert f"Showing {len(want)} of {total}" in pg.locator("#table-count").inner_text()
    pg.click("button[type=reset]")
    pg.click("th[data-sort=price] a")
    cheapest = min(e["price_usd"] for e in site["index"]["resources"] if e["price_usd"] is not None)
    assert pg.locator("#resources tbody tr").first.get_attribute("data-price") == str(cheapest)
    pg.click("th[data-sort=price] a")  # second click: most expensive first
    priciest = max(e["price_usd"] for e in site["index"]["resources"] if e["price_usd"] is not None)
    assert float(pg.locator("#resources tbody tr").first.get_attribute("data-price")) == priciest
    assert watch.errors == [] and watch.dialogs == []


def test_the_table_works_with_javascript_off(site: dict[str, Any], browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(site["base"] + "/")
    assert pg.locator("#resources tbody tr").count() == site["index"]["counts"]["resources"]
    assert not pg.locator("#filters").is_visible()  # JS-only controls stay hidden
    pg.click("th[data-sort=price] a")  # a plain link to the pre-sorted list
    pg.wait_for_url("**/list/price-1.html")
    prices = [p for p in (r.get_attribute("data-price") for r in pg.locator("#resources tbody tr").all()) if p]
    assert [float(p) for p in prices] == sorted(float(p) for p in prices) and len(prices) > 3
    pg.goto(site["base"] + "/c/weather.html")
    assert pg.locator("#resources tbody tr").count() == sum(1 for e in site["index"]["resources"] if e["category"] == "weather")
    context.close()


def test_a_page_with_part_of_the_catalog_sorts_the_whole_catalog(browser: Browser, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """When the home page shows only the first PAGE_ROWS rows, Resource and Price lead to the pre-sorted
    list pages of the whole catalog (sorting the rows in place would show the cheapest of the first
    names); Category, Status and Trust sort this page's rows, by mouse or keyboard."""
    from index.site import pages
    from index.site import build as site_module
    from tests.support.records import sample_record

    monkeypatch.setattr(pages, "PAGE_ROWS", 4)
    cats = ["weather", "ai", "data"]
    records = [sample_record(slug=f"r-{i:02d}", url=f"https://a.example/{i}", title=f"R {i:02d}", price_usd=0.5 - i * 0.01,
                             category=cats[i % 3]) for i in range(10)]
    site_module.build_site(records, tmp_path / "site")
    server = make_server(tmp_path / "site", "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(f"http://127.0.0.1:{server.server_port}/")
        rows = pg.locator("#resources tbody tr")
        assert rows.count() == 4
        pg.locator("th[data-sort=category]").click()
        assert [r.get_attribute("data-category") for r in rows.all()] == sorted(r.category for r in records[:4])
        pg.locator("th[data-sort=status]").focus()
        pg.keyboard.press("Enter")
        assert pg.locator("th[data-sort=status]").get_attribute("aria-sort") == "ascending"
        # a category filter on part of the catalog points to the category's page, which has all of it
        pg.select_option("#filters select[name=category]", "ai")
        assert pg.locator("#category-link").get_attribute("href") == "c/ai.html"
        pg.click("#category-link")
        pg.wait_for_url("**/c/ai.html")
        assert pg.locator("#resources tbody tr").count() == sum(1 for r in records if r.category == "ai")
        pg.go_back()
        pg.click("th[data-sort=price] a")
        pg.wait_for_url("**/list/price-1.html")
        assert rows.first.get_attribute("data-price") == str(records[-1].price_usd)  # the cheapest of all ten
        assert watch.errors == [] and watch.dialogs == []
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def test_resource_page_shows_price_parameters_and_commands(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    forecast = _entry(site, "/v1/forecast")
    pg.goto(site["base"] + "/" + forecast["page"])
    assert pg.locator("h1").inner_text() == forecast["title"]
    facts = pg.locator("dl.facts").inner_text()
    assert "$0.001 per call" in facts
    accepts = pg.locator("table.accepts").inner_text()
    assert "0.001 USDC" in accepts and "Base Sepolia" in accepts and "1000 atomic" in accepts
    params = pg.locator("table.params tbody tr")
    assert params.count() == 1
    assert params.first.inner_text().split("\t")[:3] == ["query", "city", "string"]
    assert "Lisbon" in params.first.inner_text()
    curl = pg.locator("#example ~ pre code").first.inner_text()
    assert curl.startswith("curl -i ") and "city=Lisbon" in curl
    assert pg.locator("#test-buy").is_visible()
    buy = pg.locator("#test-buy ~ div").first.inner_text()
    assert f"x402-index crawl --seed 'GET {forecast['url']}'" in buy  # works without our database
    assert f"x402-index test-buy '{forecast['url']}' --allow-host 127.0.0.1\n" in buy  # the demo is on loopback
    assert f"x402-index test-buy '{forecast['url']}' --allow-host 127.0.0.1 --pay --key-file ~/.x402-index/wallet.key" in buy
    assert pg.locator("link[rel=alternate][type='application/json']").get_attribute("href") == f"{forecast['slug']}.json"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "resource.png"), full_page=True)
    assert (ARTIFACTS / "resource.png").stat().st_size > 10_000
    assert watch.errors == [] and watch.dialogs == []


def test_every_page_type_loads_without_console_errors(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    origin = site["index"]["resources"][0]
    record = json.loads((site["out"] / origin["href"]).read_text())
    for path in ("/", "/stats.html", "/changes.html", "/methodology.html", "/404.html", "/list/price-1.html",
                 f"/o/{record['origin']['slug']}.html", f"/c/{record['category']}.html", "/" + origin["page"]):
        response = pg.goto(site["base"] + path)
        assert response is not None and response.status == 200, path
        pg.wait_for_load_state("load")
        assert pg.locator("main").inner_text().strip(), path
    assert pg.locator("svg.chart").count() == 0  # last page was a resource page
    pg.goto(site["base"] + "/stats.html")
    assert pg.locator("svg.chart").count() == 5
    assert watch.errors == [] and watch.dialogs == []


def test_hostile_origin_text_renders_inert(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    """The hostile origin's title and description and the bait-tags resource's tags carry </script>,
    <img onerror> and javascript: URLs: shown as text, nothing runs, nothing links to javascript:."""
    pg, watch = page
    bait = _entry(site, "/bait-tags")
    record = json.loads((site["out"] / bait["href"]).read_text())
    assert record["origin"]["title"] == BAIT_TITLE and record["origin"]["description"] == BAIT_DESCRIPTION
    assert record["tags"] == list(BAIT_TAGS)
    pg.add_init_script("window.__ran = []; window.alert = (m) => window.__ran.push(String(m));")
    bidi = _entry(site, "/bidi-text")
    for path in (f"/o/{record['origin']['slug']}.html", "/" + bait["page"], "/" + bidi["page"], "/",
                 "/changes.html", "/c/" + record["category"] + ".html"):
        pg.goto(site["base"] + path)
        pg.wait_for_load_state("load")
        assert pg.evaluate("window.__ran") == [], path
        assert pg.evaluate("document.querySelectorAll('[onerror], [onload]:not(body)').length") == 0, path
        assert pg.evaluate("""[...document.querySelectorAll('a[href]')]
            .filter(a => !/^(https?:|mailto:)/i.test(a.href)).map(a => a.href)""") == [], path
        scripts = pg.evaluate("[...document.scripts].map(s => [s.type, s.src ? new URL(s.src).pathname : 'inline'])")
        for kind, src in scripts:
            assert kind == "application/ld+json" or (src.endswith("/static/site.js") and kind == ""), (path, kind, src)
        assert pg.evaluate("document.querySelectorAll('img').length") == 0, path
    pg.goto(site["base"] + f"/o/{record['origin']['slug']}.html")
    body = pg.locator("body").inner_text()
    assert '</title></script><script>alert("title")</script>' in pg.locator("h1").inner_text()
    assert '"><img src=x onerror=alert("description")>' in body and 'javascript:alert("description")' in body
    pg.goto(site["base"] + "/" + bait["page"])
    tags = pg.locator("dl.facts dt:text-is('Tags') + dd").inner_text()
    for tag in BAIT_TAGS:
        assert tag in tags
    assert watch.errors == [] and watch.dialogs == []


def test_json_ld_of_the_rendered_page_equals_the_record(site: dict[str, Any], page: tuple[Page, Watch]) -> None:
    pg, watch = page
    for path in ("/v1/forecast", "/bidi-text"):  # bidi-text's description carries </script> and <!--<script>
        entry = _entry(site, path)
        record = json.loads((site["out"] / entry["href"]).read_text())
        pg.goto(site["base"] + "/" + entry["page"])
        data = extruct.extract(pg.content(), base_url=site["base"] + "/" + entry["page"], syntaxes=["json-ld"],
                               errors="strict", uniform=False)
        assert data["json-ld"] == [record["json_ld"]], path
    assert watch.errors == [] and watch.dialogs == []
