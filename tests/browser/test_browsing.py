"""What a person sees browsing the published site (issues 18 and 24), in headless Chromium: readable
times, a layout that fits a 390 px phone on every page type, copy buttons inside their code blocks, and
test-buy commands that run as printed against the demo fleet. One crawl of the fleet and one build for
the module; screenshots land in tests/artifacts/ (ignored by git)."""

from __future__ import annotations

import inspect

import html
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from index.catalog import describe
from index.site.render import readable_time
from index.site.serve import make_server
from tests.conftest import ROOT
from tests.browser.test_browser import ARTIFACTS, Watch, browser, served_fleet_site  # noqa: F401 - the module's browser fixture

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def site(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The fleet crawled and built as `make demo` does, served on 127.0.0.1 (this module's own copy:
    its test-buy commands write to it)."""
    with served_fleet_site(fleet, tmp_path_factory.mktemp("browsing")) as served:
        yield served


def _entry(site: dict[str, Any], path: str) -> dict[str, Any]:
    return next(e for e in site["index"]["resources"] if e["url"].split("?")[0].endswith(path))


def _record(site: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    return json.loads((site["out"] / entry["href"]).read_text())


def _page_types(site: dict[str, Any]) -> dict[str, str]:
    """One path of every page type the site has."""
    forecast = _entry(site, "/v1/forecast")
    record = _record(site, forecast)
    return {"home": "/", "resource": "/" + forecast["page"], "origin": f"/o/{record['origin']['slug']}.html",
            "category": f"/c/{record['category']}.html", "list": "/list/price-1.html", "stats": "/stats.html",
            "changes": "/changes.html", "methodology": "/methodology.html", "404": "/404.html"}


# -- pure pieces --------------------------------------------------------------------------------


def test_times_read_as_a_person_writes_them_and_keep_the_machine_form() -> None:
    assert str(readable_time("2026-12-06T20:54:13.321552Z")) == \
        '<time datetime="2026-12-06T20:54:13.321552Z">2026-12-06 20:54 UTC</time>'
    assert str(readable_time("2026-12-06T22:54:13+02:00")).endswith(">2026-12-06 20:54 UTC</time>")
    assert readable_time(None) is None and readable_time("") is None
    assert str(readable_time("<b>not a time</b>")) == "&lt;b&gt;not a time&lt;/b&gt;"


def test_test_buy_commands_let_a_loopback_host_through_and_read_the_wallet_key() -> None:
    crawl, dry, pay = describe.test_buy_commands("http://127.0.0.1:4021/x", "POST", [("eip155:84532", True)])
    assert crawl == "x402-index crawl --seed 'POST http://127.0.0.1:4021/x' --allow-host 127.0.0.1"
    assert dry == "x402-index test-buy http://127.0.0.1:4021/x --method POST --allow-host 127.0.0.1"
    assert pay == dry + " --pay --key-file ~/.x402-index/wallet.key"
    for url in ("http://localhost:8080/x", "http://10.1.2.3/x", "http://192.168.0.9/x"):
        assert "--allow-host" in describe.test_buy_commands(url, "GET", [])[1], url
    assert "--allow-host" not in describe.test_buy_commands("https://api.example.com/x", "GET", [])[0]


def test_the_printed_wallet_file_is_where_wallet_new_writes() -> None:
    from index.cli.buy import wallet_new
    from index.paths import DEFAULT_WALLET, WALLET_FILE

    assert Path(WALLET_FILE).expanduser() == DEFAULT_WALLET
    assert inspect.signature(wallet_new).parameters["out_file"].default == DEFAULT_WALLET
    assert f"--key-file {WALLET_FILE}" in describe.test_buy_commands("https://a.example/x", "GET", [])[2]


# -- the published pages ------------------------------------------------------------------------


def test_pages_show_readable_times_and_files_keep_iso(site: dict[str, Any], browser: Browser) -> None:
    forecast = _entry(site, "/v1/forecast")
    record = _record(site, forecast)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record["last_probed_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", site["index"]["generated_at"])
    context = browser.new_context()
    try:
        pg = context.new_page()
        pg.goto(site["base"] + "/" + forecast["page"])
        text = pg.locator("main").inner_text() + pg.locator("footer").inner_text()
        assert not re.search(r"\d\d:\d\d:\d\d", text)  # no seconds, no T, no Z on the page
        assert not re.search(r"\dT\d", text)
        checked = pg.locator("dl.facts time").first
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", checked.inner_text())
        assert checked.get_attribute("datetime") == record["last_probed_at"]
        pg.goto(site["base"] + "/changes.html")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", pg.locator("table.changes td.when").first.inner_text())
    finally:
        context.close()


def test_every_page_type_fits_a_390_px_phone(site: dict[str, Any], browser: Browser) -> None:
    """No horizontal scrolling of the page at 390 px: the nav wraps, a wide table scrolls in its own box."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        for name, path in _page_types(site).items():
            pg.goto(site["base"] + path)
            pg.wait_for_load_state("load")
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (name, width)
            # what is wider than the screen sits in a box that scrolls on its own
            wide = pg.evaluate("""[...document.querySelectorAll('table')]
                .filter(t => t.getBoundingClientRect().width > innerWidth)
                .filter(t => !t.closest('.table-wrap') && getComputedStyle(t).overflowX !== 'auto').length""")
            assert wide == 0, name
        nav = pg.locator("header.site nav a")
        assert max(nav.nth(i).bounding_box()["x"] + nav.nth(i).bounding_box()["width"] for i in range(nav.count())) <= 390
        assert watch.errors == []
    finally:
        context.close()


def test_copy_buttons_sit_inside_their_code_blocks(site: dict[str, Any], browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        pg = context.new_page()
        forecast = _entry(site, "/v1/forecast")
        pg.goto(site["base"] + "/" + forecast["page"])
        blocks = pg.locator("pre[data-copy]")
        assert blocks.count() >= 5
        for i in range(blocks.count()):
            pre = blocks.nth(i)
            button = pre.locator("button.copy-button")
            assert button.count() == 1
            outer, inner = pre.bounding_box(), button.bounding_box()
            assert outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            assert outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"]
        dry = pg.locator("#test-buy ~ div pre[data-copy]").nth(3)
        dry.locator("button").click()
        assert pg.evaluate("navigator.clipboard.readText()") == dry.locator("code").inner_text()  # not "…Copy"
    finally:
        context.close()


def _printed_commands(site: dict[str, Any], entry: dict[str, Any]) -> list[str]:
    page = (site["out"] / entry["page"]).read_text()
    section = page[page.index('id="test-buy"'):page.index('id="risks"')]
    return [html.unescape(c) for c in re.findall(r"<pre class=\"copy\" data-copy><code>(.*?)</code></pre>", section, re.S)]


def test_the_test_buy_commands_run_as_printed_against_the_demo(site: dict[str, Any], tmp_path: Path) -> None:
    """A buyer copies the page's commands into a shell, in order, with the tool installed (here: this
    checkout's venv on PATH) and a home of their own: make a key, crawl, dry run, pay. Each exits 0;
    the payment is settled by the fleet's facilitator."""
    forecast = _entry(site, "/v1/forecast")
    install, wallet, crawl, dry, pay = _printed_commands(site, forecast)
    assert "pip install" in install and wallet == "x402-index wallet new"
    page = (site["out"] / forecast["page"]).read_text()
    for where in ("X402_PRIVATE_KEY", "--key-file", "x402-index wallet new"):
        assert where in page, where
    env = {**os.environ, "HOME": str(tmp_path), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    env.pop("X402_INDEX_DB", None)
    env.pop("X402_PRIVATE_KEY", None)
    outputs = []
    for command in (wallet, crawl, dry, pay):
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        outputs.append(proc.stdout)
    assert (tmp_path / ".x402-index" / "wallet.key").exists()
    assert "DRY RUN" in outputs[2]
    assert "PAID" in outputs[3] and "success True" in outputs[3]


# -- issue 24: browsing the catalog as a buyer ----------------------------------------------------


def _health(samples: int, up: int, p50: float | None) -> Any:
    from index.catalog.record import Health, HealthWindow

    pct = round(up / samples * 100, 2) if samples else None
    return Health(window_end="2026-11-20T10:00:00Z", windows=[
        HealthWindow(window="7d", samples=samples, up=up, uptime_pct=pct, p50_latency_ms=p50)])


def _reliability_records() -> list[Any]:
    from tests.support.records import sample_record

    shapes = [("steady", 100, 100, 80.0), ("shaky", 100, 90, 300.0), ("solid", 50, 49, 120.0), ("new", 3, 3, 50.0),
              ("flaky", 20, 10, 900.0), ("silent", 0, 0, None)]
    return [sample_record(slug=f"a-example-{name}", title=f"A {name}", url=f"https://a.example/{name}",
                          price_usd=0.01 * (i + 1), health=_health(n, up, p50) if n else None)
            for i, (name, n, up, p50) in enumerate(shapes)]


def test_index_entries_carry_reliability_with_a_minimum_of_probes() -> None:
    from index.catalog.record import UPTIME_MIN_PROBES, index_entry, index_entry_dict

    by_slug = {r.slug: index_entry_dict(r) for r in _reliability_records()}
    assert UPTIME_MIN_PROBES == 5
    shaky = by_slug["a-example-shaky"]
    assert (shaky["probes_7d"], shaky["up_7d"], shaky["uptime_7d_pct"], shaky["p50_latency_ms"]) == (100, 90, 90.0, 300.0)
    new = by_slug["a-example-new"]
    assert (new["probes_7d"], new["up_7d"], new["uptime_7d_pct"]) == (3, 3, None)  # 100 % of 3 says little
    silent = by_slug["a-example-silent"]
    assert (silent["probes_7d"], silent["uptime_7d_pct"], silent["p50_latency_ms"]) == (0, None, None)
    assert shaky["last_probed_at"] == "2026-11-20T10:00:00Z"
    for record in _reliability_records():  # the fast dict is the model's dump
        assert index_entry(record).model_dump(mode="json") == index_entry_dict(record)


def test_the_agent_prompt_is_built_from_measured_fields() -> None:
    from tests.support.records import sample_record

    from index.catalog.record import ExampleRequest

    record = sample_record(summary="Seven-day forecast for a city", example_request=ExampleRequest(
        method="POST", url="https://a.example/x", body={"city": "Lisbon"}, source="bazaar"))
    prompt = describe.agent_prompt(record, "2026-11-20 10:00 UTC")
    for part in ("GET https://a.example/x", "Seven-day forecast for a city", "0.01 USDC ($0.01) per call on Base (eip155:8453)",
                 "paid to 0x209693Bc6afc0C5328bA36FaF03C514EF312287C", 'Example request: POST https://a.example/x with body {"city":"Lisbon"}',
                 "`x402` package for Python", "@x402/fetch", "x402-index mcp", 'resource "a-example-x"',
                 "never pay more than $0.01 a call", "2026-11-20 10:00 UTC"):
        assert part in prompt, part
    derived = sample_record(summary="Paid GET endpoint /x on a.example.", derived_fields=["summary"])
    assert "Paid GET endpoint" not in describe.agent_prompt(derived)  # our words are not the provider's


@pytest.fixture(scope="module")
def reliability_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from index.site.build import build_site

    out = tmp_path_factory.mktemp("reliability") / "site"
    build_site(_reliability_records(), out)
    server = make_server(out, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_table_sorts_by_uptime_and_filters_by_a_minimum(reliability_site: str, browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(reliability_site + "/")
        rows = pg.locator("#resources tbody tr")
        slugs = lambda: [r.get_attribute("data-slug")[len("a-example-"):] for r in rows.all()]  # noqa: E731
        cells = {s: rows.nth(i).locator("td").nth(3).inner_text() for i, s in enumerate(slugs())}
        assert cells["steady"] == "100 %" and cells["shaky"] == "90 %" and cells["solid"] == "98 %"
        assert cells["new"] == "< 5 probes" and cells["silent"] == "—"  # the counts are in index.json
        pg.click("th[data-sort=uptime] a")  # every row is on this page: sorted in place, best first
        assert slugs() == ["steady", "solid", "shaky", "flaky", "new", "silent"]
        assert pg.locator("th[data-sort=uptime]").get_attribute("aria-sort") == "descending"
        pg.click("th[data-sort=uptime] a")
        assert slugs() == ["flaky", "shaky", "solid", "steady", "new", "silent"]  # thin data last either way
        pg.click("th[data-sort=latency]")
        assert slugs()[:3] == ["steady", "solid", "shaky"]  # by band; "new" has too few probes for one
        pg.select_option("select[name=uptime]", "90")
        visible = pg.locator("#resources tbody tr:visible")
        assert sorted(r.get_attribute("data-slug")[len("a-example-"):] for r in visible.all()) == ["shaky", "solid", "steady"]
        assert pg.locator("#table-count").inner_text().startswith("Showing 3 of 6 resources")
        pg.fill("input[name=max]", "0.02")  # steady $0.01, shaky $0.02, solid $0.03
        assert visible.count() == 2
        assert watch.errors == []
    finally:
        context.close()


def test_list_pages_sort_by_uptime_without_javascript(reliability_site: str, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(reliability_site + "/")
        pg.click("th[data-sort=uptime] a")
        pg.wait_for_url("**/list/uptime-1.html")
        order = [r.get_attribute("data-slug")[len("a-example-"):] for r in pg.locator("#resources tbody tr").all()]
        assert order == ["steady", "solid", "shaky", "flaky", "new", "silent"]
    finally:
        context.close()


def test_search_narrows_the_same_table_as_the_filters(site: dict[str, Any], browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(site["base"] + "/")
        total = site["index"]["counts"]["resources"]
        visible = pg.locator("#resources tbody tr:visible")
        skycast = [e for e in site["index"]["resources"] if e["title"].startswith("Skycast Weather")]
        assert len(skycast) >= 3
        pg.fill("#q", "skycast")
        pg.locator("#table-count").filter(has_text="matching").wait_for(timeout=10_000)
        assert sorted(r.get_attribute("data-slug") for r in visible.all()) == sorted(e["slug"] for e in skycast)
        assert pg.locator("#table-count").inner_text().startswith(f"Showing {len(skycast)} of {total} resources matching “skycast”")
        assert pg.locator("#search-results").count() == 0  # no second list above the table
        # the filters apply together with the search
        pg.fill("input[name=max]", "0.002")
        cheap = [e for e in skycast if e["price_usd"] is not None and e["price_usd"] <= 0.002]
        assert 0 < len(cheap) < len(skycast)
        assert sorted(r.get_attribute("data-slug") for r in visible.all()) == sorted(e["slug"] for e in cheap)
        assert pg.locator("#table-count").inner_text().startswith(f"Showing {len(cheap)} of {total} resources")
        # an excerpt under each match reads as text: no table headers run together
        excerpts = pg.locator("#resources tbody tr:visible .match").all_inner_texts()
        assert excerpts and all("InName" not in x and "NameType" not in x and "<" not in x for x in excerpts)
        pg.fill("#q", "zzzzqqq")
        pg.locator("#search-status").filter(has_text="Nothing matches").wait_for(timeout=10_000)
        assert visible.count() == 0
        assert pg.locator("#table-count").inner_text().startswith(f"Showing 0 of {total}")
        pg.click("button[type=reset]")
        expect(visible).to_have_count(total)
        assert pg.input_value("#q") == ""
        assert watch.errors == [] and watch.dialogs == []
    finally:
        context.close()


def test_pages_work_without_javascript(site: dict[str, Any], browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto(site["base"] + "/")
        assert pg.locator("#resources tbody tr").count() == site["index"]["counts"]["resources"]
        assert not pg.locator("#search").is_visible() and not pg.locator("#filters").is_visible()
        assert pg.locator("noscript").count() == 1
        for sort in ("title", "price", "uptime"):
            pg.goto(site["base"] + f"/list/{sort}-1.html")
            assert pg.locator("#resources tbody tr").count() == site["index"]["counts"]["resources"], sort
        pages = _page_types(site)
        pg.goto(site["base"] + pages["origin"])
        assert pg.locator("#pay-to li").count() >= 1
        pg.goto(site["base"] + pages["resource"])
        assert "Call this paid HTTP endpoint" in pg.locator("#agent-prompt").inner_text()
    finally:
        context.close()


def test_the_origin_page_lists_pay_to_addresses_health_and_links(site: dict[str, Any], browser: Browser) -> None:
    forecast = _entry(site, "/v1/forecast")
    origin = _record(site, forecast)["origin"]
    members = [e for e in site["index"]["resources"] if e["origin"] == origin["host"]]
    records = [_record(site, e) for e in members]
    want: dict[str, set[str]] = {}
    for rec in records:
        for a in rec["accepts"]:
            want.setdefault(a["pay_to"], set()).add(a["network_caip2"])
    twin = json.loads((site["out"] / "o" / f"{origin['slug']}.json").read_text())
    assert {p["address"]: set(p["networks"]) for p in twin["pay_to"]} == want
    assert twin["health"]["resources"] == len(members) and {e["slug"] for e in twin["resources"]} == {e["slug"] for e in members}
    prices = [e["price_usd"] for e in members if e["price_usd"] is not None]
    assert twin["price_usd"] == {"min": min(prices), "max": max(prices)}
    assert twin["links"][0] == {"kind": "homepage", "label": "homepage", "url": origin["url"]}
    assert any(link["kind"] == "well_known" for link in twin["links"])
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(site["base"] + f"/o/{origin['slug']}.html")
        items = pg.locator("#pay-to li")
        assert items.count() == len(want)
        for i in range(items.count()):
            text = items.nth(i).inner_text()
            address = items.nth(i).locator("code").inner_text()
            from index.site.render import network_name

            assert all(network_name(n) in text for n in want[address]), text
        health = pg.locator("#origin-health").inner_text()
        assert f"of {len(members)} resources answered with valid payment terms" in health
        assert pg.locator("#resources tbody tr").count() == len(members)
        assert all(r.get_attribute("data-status") for r in pg.locator("#resources tbody tr").all())
        assert pg.locator("link[rel=alternate][type='application/json']").get_attribute("href") == f"{origin['slug']}.json"
        assert pg.locator("#origin-site a").get_attribute("href").rstrip("/") == origin["url"].rstrip("/")
        assert "/.well-known/x402" in pg.locator("#origin-links").inner_text()
        assert watch.errors == []
    finally:
        context.close()


def test_the_copy_prompt_button_copies_the_prompt(site: dict[str, Any], browser: Browser) -> None:
    forecast = _entry(site, "/v1/forecast")
    record = _record(site, forecast)
    context = browser.new_context(viewport=DESKTOP)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    try:
        pg = context.new_page()
        pg.goto(site["base"] + "/" + forecast["page"])
        button = pg.get_by_role("button", name="Copy prompt")
        button.click()
        copied = pg.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f"Call this paid HTTP endpoint for me: GET {record['url']}\n")
        for part in (record["summary"], "0.001 USDC ($0.001) per call on Base Sepolia (eip155:84532)",
                     f"paid to {record['accepts'][0]['pay_to']}", "Example request: GET", "x402-index mcp",
                     f'resource "{record["slug"]}"'):
            assert part in copied, part
        assert "Copy prompt" not in copied
        assert button.inner_text() == "Copied"
    finally:
        context.close()


def test_terms_link_to_their_definitions(site: dict[str, Any], browser: Browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        pg.goto(site["base"] + _page_types(site)["resource"])
        hrefs = pg.evaluate("[...document.querySelectorAll('a[href*=\"methodology.html#\"]')].map(a => a.getAttribute('href'))")
        anchors = {h.split("#", 1)[1] for h in hrefs}
        assert {"trust-tiers", "pricing-sanity", "terms-from", "conformance-grade"} <= anchors
        assert any(a.startswith("tier-") for a in anchors) and any(a.startswith("pricing-") for a in anchors)
        pg.goto(site["base"] + "/methodology.html")
        for anchor in anchors | {"words", "uptime", "status-paid", "tier-indexed_external"}:
            assert pg.locator(f"[id='{anchor}']").count() == 1, anchor
        pg.goto(site["base"] + "/")
        first_screen = pg.locator(".summary").inner_text()
        for jargon in ("indexed_external", "atomic", "probe:"):
            assert jargon not in first_screen, jargon
        tiers = pg.locator(".summary a.tier")  # our own words link to their definitions
        assert tiers.count() >= 1 and all(a.get_attribute("href").startswith("methodology.html#tier-") for a in tiers.all())
    finally:
        context.close()


def test_home_page_scripts_and_styles_stay_small(site: dict[str, Any]) -> None:
    """Under 50 KB of our JS and CSS on the home page (pagefind's own files load only on a search)."""
    home = (site["out"] / "index.html").read_text()
    ours = re.findall(r'(?:src|href)="(static/[^"]+\.(?:js|css))"', home)
    assert sorted(ours) == ["static/site.js", "static/style.css"]
    assert sum((site["out"] / p).stat().st_size for p in ours) < 50_000


def test_screenshots_of_home_resource_and_origin(site: dict[str, Any], browser: Browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = _page_types(site)
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport)
        try:
            pg = context.new_page()
            watch = Watch(pg)
            for name in ("home", "resource", "origin"):
                pg.goto(site["base"] + pages[name])
                pg.wait_for_load_state("load")
                path = ARTIFACTS / f"{name}-{viewport['width']}.png"
                pg.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000
                assert pg.evaluate("document.documentElement.scrollWidth") <= viewport["width"], (name, viewport)
            assert watch.errors == []
        finally:
            context.close()


def test_methodology_states_the_minimum_of_probes() -> None:
    from index.catalog.record import UPTIME_MIN_PROBES

    text = (ROOT / "docs" / "methodology.md").read_text()
    assert f"published only from **{UPTIME_MIN_PROBES} probes**" in text and f"same {UPTIME_MIN_PROBES}-probe rule" in text


def test_search_on_a_page_with_part_of_the_catalog_links_the_other_matches(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The home page holds the first PAGE_ROWS rows: matches beyond them are linked under the count."""
    from index.site import build as site_module
    from index.site import pages
    from index.site.search import build_search_index
    from tests.support.records import sample_record

    monkeypatch.setattr(pages, "PAGE_ROWS", 4)
    records = [sample_record(slug=f"r-{i:02d}", url=f"https://a.example/{i}", title=f"R {i:02d}",
                             summary=f"Quokka census, region {i}" if i % 2 else f"Plain data {i}") for i in range(10)]
    site_module.build_site(records, tmp_path / "site")
    build_search_index(tmp_path / "site")
    server = make_server(tmp_path / "site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(f"http://127.0.0.1:{server.server_port}/")
        pg.fill("#q", "quokka")
        pg.locator("#search-more").wait_for(timeout=10_000)
        visible = [r.get_attribute("data-slug") for r in pg.locator("#resources tbody tr:visible").all()]
        assert visible == ["r-01", "r-03"]  # the matches among the first four rows
        links = pg.locator("#search-more a")
        assert sorted(links.all_inner_texts()) == ["R 05", "R 07", "R 09"]
        assert sorted(a.get_attribute("href") for a in links.all()) == ["r/r-05.html", "r/r-07.html", "r/r-09.html"]
        assert "3 more matches beyond the rows of this page" in pg.locator("#search-more").inner_text()
        pg.fill("#q", "")
        expect(pg.locator("#search-more")).to_have_count(0)
        assert watch.errors == []
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def test_search_merges_every_part_of_the_index_and_filters_across_them(
        browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index in parts (of about 4 pages here): the page loads the first part and merges the ones
    parts.json lists, so a search finds pages of every part, and the category and network chosen narrow
    it in every part (pagefind filters), the matches beyond this page's rows included."""
    from index.site import build as site_module
    from index.site import pages, searchparts
    from index.site.search import BUNDLE, build_search_index, read_manifest
    from tests.support.records import sample_record

    monkeypatch.setattr(pages, "PAGE_ROWS", 6)
    monkeypatch.setattr(searchparts, "PART_MAX", 8)
    monkeypatch.setattr(searchparts, "PART_TARGET", 4)
    monkeypatch.setattr(searchparts, "PART_MIN", 1)
    records = [sample_record(slug=f"r-{i:02d}", url=f"https://a.example/{i}", title=f"R {i:02d}",
                             summary=f"Quokka census, region {i}" if i % 2 else f"Plain data {i}",
                             category="weather" if i % 4 == 1 else "data",
                             networks=["eip155:84532"] if i % 8 == 1 else ["eip155:8453"]) for i in range(24)]
    counts = site_module.build_site(records, tmp_path / "site")
    build_search_index(tmp_path / "site", keys=counts["search_parts"])
    parts = read_manifest(tmp_path / "site")["parts"]
    assert len(parts) == 6 and all((tmp_path / "site" / BUNDLE / p / "pagefind.js").is_file() for p in parts)
    first = int(parts[0].removeprefix("p"))
    quokka = {r.slug for i, r in enumerate(records) if i % 2}
    weather = {r.slug for i, r in enumerate(records) if i % 4 == 1}
    sepolia = {r.slug for i, r in enumerate(records) if i % 8 == 1}
    part = {r.slug: searchparts.part_of(r.slug, len(counts["search_parts"])) for r in records}
    # the matches of each search below are in several parts, some not in the first
    assert len({part[s] for s in quokka & weather}) > 1 and {part[s] for s in quokka & weather & sepolia} - {first}
    server = make_server(tmp_path / "site", "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context(viewport=DESKTOP)
    try:
        pg = context.new_page()
        watch = Watch(pg)
        pg.goto(f"http://127.0.0.1:{server.server_port}/")
        on_page = {r.get_attribute("data-slug") for r in pg.locator("#resources tbody tr").all()}
        assert len(on_page) == 6

        def found() -> set[str]:
            rows = {r.get_attribute("data-slug") for r in pg.locator("#resources tbody tr:visible").all()}
            links = {a.get_attribute("href").removeprefix("r/").removesuffix(".html")
                     for a in pg.locator("#search-more a").all()}
            return rows | links

        pg.fill("#q", "quokka")
        expect(pg.locator("#table-count")).to_contain_text("Showing 3 of 24 resources matching “quokka”")
        expect(pg.locator("#search-more")).to_contain_text("9 more matches beyond the rows of this page")
        assert found() == quokka
        pg.select_option("select[name=category]", "weather")
        expect(pg.locator("#search-more")).to_contain_text(f"{len(weather - on_page)} more match")
        assert found() == quokka & weather
        pg.select_option("select[name=network]", "eip155:84532")
        expect(pg.locator("#search-more a")).to_have_count(len(sepolia - on_page))
        assert found() == quokka & weather & sepolia
        pg.select_option("select[name=category]", "")
        pg.select_option("select[name=network]", "")
        expect(pg.locator("#search-more")).to_contain_text("9 more matches")
        assert found() == quokka
        assert watch.errors == [], watch.errors
    finally:
        context.close()
        server.shutdown()
        server.server_close()


def test_origin_twins_validate_against_their_published_schema(tmp_path: Path) -> None:
    import jsonschema

    from index.site.build import build_site
    from index.site.files import ORIGIN_SCHEMA

    build_site(_reliability_records(), tmp_path, "https://x402-index.example")
    schema = json.loads((tmp_path / ORIGIN_SCHEMA).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"https://x402-index.example/{ORIGIN_SCHEMA}"
    twins = sorted((tmp_path / "o").glob("*.json"))
    assert len(twins) == 1
    twin = json.loads(twins[0].read_text())
    jsonschema.Draft202012Validator(schema).validate(twin)
    health = twin["health"]
    assert (health["probes_7d"], health["up_7d"]) == (273, 252) and health["uptime_7d_pct"] == round(252 / 273 * 100, 2)
    assert twin["pay_to"] == [{"address": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "networks": ["eip155:8453"]}]
    del twin["pay_to"][0]["networks"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(twin)
