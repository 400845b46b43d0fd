"""What a person sees browsing the published site (issues 18 and 24), in headless Chromium: readable
times, a layout that fits a 390 px phone on every page type, copy buttons inside their code blocks, and
test-buy commands that run as printed against the demo fleet. One crawl of the fleet and one build for
the module; screenshots land in tests/artifacts/ (ignored by git)."""

from __future__ import annotations

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
from playwright.sync_api import Browser, Page

from index.catalog import describe
from index.site.render import readable_time
from index.site.serve import make_server
from tests.conftest import ROOT, run_cli
from tests.test_browser import ARTIFACTS, FAST, Watch, browser  # noqa: F401 - the module's browser fixture

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def site(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The fleet crawled and built as `make demo` does, served on 127.0.0.1."""
    work = tmp_path_factory.mktemp("browsing")
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
    from index.cli.app import DEFAULT_WALLET

    assert Path(describe.WALLET_FILE).expanduser() == DEFAULT_WALLET


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
