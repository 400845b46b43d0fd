"""The demo fleet's discovery documents are what a crawl from the facilitator and the origins'
homepages needs: /.well-known/x402 (+ .json), /openapi.json, /llms.txt, docs pages, homepages, and a
facilitator that caps its pages and rate-limits page two once.

These check the servers, not the crawler, on a private fleet (not the session one), so the
facilitator's once-per-lifetime 429 that the crawl tests meet is never consumed here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from index.demo.discovery import SOURCE_KINDS
from index.demo.server import DemoFleet
from index.demo.spec import ORIGINS

LD_SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
CURL = re.compile(r"curl(?: -i)?(?: -X (?P<method>[A-Z]+))? \"(?P<url>[^\"]+)\""
                  r"(?:\s*\\\n\s*-H \"[^\"]*\")*(?:\s*\\\n\s*-d '(?P<body>[^']*)')?")
HEADING = re.compile(r"<h2>([A-Z]+) (/[^<]*)</h2>")


@pytest.fixture(scope="module")
def own_fleet() -> Iterator[dict[str, Any]]:
    """A private fleet: this module may consume (and re-arm) the facilitator's 429."""
    with DemoFleet() as running:
        yield running.manifest


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5, follow_redirects=False) as c:
        yield c


def _resources(fleet: dict[str, Any], origin: str) -> list[dict[str, Any]]:
    return [r for r in fleet["resources"] if r["origin"] == origin]


def _line(method: str | None, url: str) -> tuple[str, str]:
    return (method or "GET").upper(), url


def _manifest_keys(fleet: dict[str, Any], origin: str) -> set[tuple[str, str]]:
    return {(r["method"], r["url"]) for r in _resources(fleet, origin)}


def _declared_usd(info: dict[str, Any]) -> Decimal:
    """The decimal USD an `x-payment-info` declares, whichever fixed-price spelling it uses."""
    price = info["price"]
    if isinstance(price, str):
        return Decimal(price.removeprefix("$"))
    assert price.get("mode", "fixed") == "fixed" and price.get("currency", "USD") == "USD"
    return Decimal(price["amount"])


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not ref:
        return schema
    assert ref.startswith("#/components/schemas/")
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


# -- origin documents ------------------------------------------------------------------------


def _well_known(fleet: dict[str, Any], client: httpx.Client) -> dict[str, Any]:
    resp = client.get(fleet["origins"]["weather"] + "/.well-known/x402")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
    return resp.json()


def test_well_known_lists_every_weather_resource_and_one_cross_origin_entry(
        own_fleet: dict[str, Any], client: httpx.Client) -> None:
    doc = _well_known(own_fleet, client)
    assert doc["version"] == 1 and isinstance(doc["instructions"], str) and doc["instructions"]
    weather = own_fleet["origins"]["weather"]
    entries = [_line(*(e.split(" ", 1) if " " in e else (None, e))) for e in doc["resources"]]
    same = {e for e in entries if e[1].startswith(weather + "/")}
    other = [e for e in entries if not e[1].startswith(weather + "/")]
    assert same == _manifest_keys(own_fleet, "weather") and len(same) == len(entries) - 1
    assert {r["expect"]["outcome"] for r in _resources(own_fleet, "weather")} == {"paid", "free", "not_found"}
    assert any(" " not in e for e in doc["resources"]), "one entry is a bare URL"
    assert len(other) == 1
    method, url = other[0]
    assert urlsplit(url).netloc != urlsplit(weather).netloc
    assert own_fleet["dropped_entries"] == [{"source": weather + "/.well-known/x402", "entry": f"{method} {url}",
                                             "reason": "cross_origin"}]


def test_well_known_draft_has_the_forecast(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    doc = client.get(own_fleet["origins"]["weather"] + "/.well-known/x402.json").json()
    assert doc["x402Version"] == 2 and doc["items"]
    by_url = {i["resource"]["url"]: i for i in doc["items"]}
    forecast = next(r for r in own_fleet["resources"] if "/v1/forecast" in r["url"])
    item = by_url[forecast["url"]]
    assert item["type"] == "http" and item["input"]["method"] == "GET"
    assert [a["amount"] for a in item["accepts"]] == [a["amount_atomic"] for a in forecast["accepts"]]
    assert set(by_url) <= {r["url"] for r in _resources(own_fleet, "weather")}


def test_openapi_declares_payment_info_and_one_price_differs_from_the_live_one(
        own_fleet: dict[str, Any], client: httpx.Client) -> None:
    ai = own_fleet["origins"]["ai"]
    spec = client.get(ai + "/openapi.json").json()
    assert spec["openapi"].startswith("3.1") and spec["servers"][0]["url"] == ai
    assert spec["externalDocs"]["url"] == ai + "/docs"
    live = {r["url"]: r for r in _resources(own_fleet, "ai")}
    ops = {(m.upper(), spec["servers"][0]["url"] + path): op for path, item in spec["paths"].items() for m, op in item.items()}
    assert set(ops) == {(r["method"], r["url"]) for r in live.values()} and len(ops) == 4
    mismatched, refs = [], 0
    for (_method, url), op in ops.items():
        declared = _declared_usd(op["x-payment-info"])
        assert Decimal(live[url]["declared_usd"]["openapi"]) == declared
        if declared != min(Decimal(a["usd"]) for a in live[url]["accepts"]):
            mismatched.append(url)
        assert "402" in op["responses"]
        body = op["requestBody"]["content"]["application/json"]
        refs += "$ref" in body["schema"]
        schema = _resolve(spec, body["schema"])
        assert set(schema["required"]) <= set(body["example"]) <= set(schema["properties"])
    assert refs >= 1
    assert mismatched == [ai + "/v1/images/generations"]


def test_llms_txt_links_every_chain_resource(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    chain = own_fleet["origins"]["chain"]
    resp = client.get(chain + "/llms.txt")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/markdown")
    text = resp.text
    assert text.startswith("# ChainLens Data\n") and "\n> " in text
    links = dict(re.findall(r"\[([^\]]+)\]\((http[^)]+)\)", text))
    assert chain + "/docs" in links.values()
    for r in _resources(own_fleet, "chain"):
        line = next(line for line in text.splitlines() if f"]({r['url']})" in line)
        assert f": {r['method']}, ${r['accepts'][0]['usd']} per call" in line, line
    assert any(r["url"].endswith("/api/news?topic=defi") and not r["listed_by_facilitator"]
               for r in _resources(own_fleet, "chain"))


# -- homepages and docs pages -----------------------------------------------------------------


def test_homepages_link_docs_and_weather_has_one_malformed_json_ld(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    for base in own_fleet["origin_seeds"]:
        html = client.get(base + "/").text
        assert '<a href="/docs">API docs</a>' in html
        assert 'property="og:title"' in html and 'rel="icon"' in html
        assert client.get(base + "/favicon.png").status_code == 200
        blocks = LD_SCRIPT.findall(html)
        good, bad = [], []
        for block in blocks:
            try:
                good.append(json.loads(block))
            except ValueError:
                bad.append(block)
        if base == own_fleet["origins"]["weather"]:
            assert len(blocks) == 2 and len(bad) == 1 and good[0]["@type"] in ("Organization", "WebAPI")
        else:
            assert len(blocks) == 1 and not bad


def _docs_calls(html: str) -> dict[tuple[str, str], Any]:
    """(method, url) → example body (None for GET) of every curl example on a docs page."""
    text = unescape(html)
    return {(m["method"] or "GET", m["url"]): (json.loads(m["body"]) if m["body"] else None) for m in CURL.finditer(text)}


def test_docs_pages_describe_every_documented_resource(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    for key in ("weather", "ai", "chain"):
        base = own_fleet["origins"][key]
        html = client.get(base + "/docs").text
        calls = _docs_calls(html)
        headings = set(HEADING.findall(html))
        documented = [r for r in _resources(own_fleet, key) if "docs" in r["expect_sources"]]
        assert set(calls) == {(r["method"], r["url"]) for r in documented}, key
        for r in documented:
            assert (r["method"], urlsplit(r["url"]).path) in headings
            spec = next(res for o in ORIGINS if o.key == key for res in o.resources if r["url"] == base + res.path)
            assert calls[(r["method"], r["url"])] == spec.body_example, r["url"]
        assert "| Field | Type | Description |" in html or "<th>Field</th><th>Type</th><th>Description</th>" in html
        assert re.search(r"\w \*", html), "required fields are marked"
        assert 'class="language-json"' in html
    ai_docs = unescape(client.get(own_fleet["origins"]["ai"] + "/docs").text)
    assert "API-key holders can skip payment by sending" in ai_docs and "Authorization: Bearer <key>" in ai_docs


# -- facilitator ---------------------------------------------------------------------------------


def test_facilitator_caps_pages_and_rate_limits_page_two_once(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    url = own_fleet["facilitator"] + "/discovery/resources"
    cap = own_fleet["facilitator_page_size"]
    assert cap == 3
    try:
        statuses, pages, offset = [], [], 0
        while True:
            resp = client.get(url, params={"type": "http", "limit": 100, "offset": offset})
            statuses.append(resp.status_code)
            if resp.status_code == 429:
                assert resp.headers["retry-after"] == "1" and offset == cap
                continue
            body = resp.json()
            assert body["pagination"] == {"limit": cap, "offset": offset, "total": body["pagination"]["total"]}
            assert 0 < len(body["items"]) <= cap
            pages.append(body["items"])
            offset += body["pagination"]["limit"]
            if offset >= body["pagination"]["total"]:
                break
        assert statuses == [200, 429, 200, 200] and len(pages) >= 3
        assert client.get(url, params={"limit": 100, "offset": cap}).status_code == 200  # once only
        assert client.get(own_fleet["facilitator_reset_url"]).status_code == 405
        assert client.post(own_fleet["facilitator_reset_url"]).json() == {"ok": True}
        again = client.get(url, params={"limit": 1, "offset": cap + 1})
        assert again.status_code == 429 and again.headers["retry-after"] == "1"
        assert client.get(url, params={"limit": 1, "offset": cap + 1}).json()["pagination"]["limit"] == 1
    finally:
        client.post(own_fleet["facilitator_reset_url"])
    items = [i for page in pages for i in page]
    listed = {r["url"] for r in own_fleet["resources"] if r["listed_by_facilitator"]}
    assert [i["resource"] for i in items] and {i["resource"] for i in items} == listed and len(items) == len(listed)
    v1 = [i for i in items if i["x402Version"] == 1]
    assert v1 and all("maxAmountRequired" in a and a["resource"] == i["resource"] and "outputSchema" in a
                      for i in v1 for a in i["accepts"])
    assert any("schema" in i.get("extensions", {}).get("bazaar", {}) for i in items if i["x402Version"] == 2)
    stamps = [i["lastUpdated"] for i in items]
    assert any(isinstance(s, int) and s > 10**12 for s in stamps) and any(isinstance(s, str) for s in stamps)


# -- manifest -----------------------------------------------------------------------------------


def test_expect_sources_match_what_the_documents_list(own_fleet: dict[str, Any], client: httpx.Client) -> None:
    """Rebuild each resource's kinds from the served documents and compare with the manifest."""
    origins = own_fleet["origins"]
    assert own_fleet["origin_seeds"] == [origins[k] for k in ("weather", "ai", "chain")]
    found: dict[tuple[str, str], set[str]] = {}

    def add(kind: str, method: str, url: str, origin: str) -> None:
        if urlsplit(url).netloc == urlsplit(origin).netloc:  # same-origin rule
            found.setdefault((method, url), set()).add(kind)

    for e in _well_known(own_fleet, client)["resources"]:
        add("well_known", *_line(*(e.split(" ", 1) if " " in e else (None, e))), origins["weather"])
    for i in client.get(origins["weather"] + "/.well-known/x402.json").json()["items"]:
        add("well_known", i["input"]["method"], i["resource"]["url"], origins["weather"])
    spec = client.get(origins["ai"] + "/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if "x-payment-info" in op:
                add("openapi", method.upper(), spec["servers"][0]["url"] + path, origins["ai"])
    llms = client.get(origins["chain"] + "/llms.txt").text
    for url, method in re.findall(r"\]\((http[^)]+)\): ([A-Z]+),", llms):
        add("llms_txt", method, url, origins["chain"])
    for base in own_fleet["origin_seeds"]:
        for method, url in _docs_calls(client.get(base + "/docs").text):
            add("docs", method, url, base)
    offset, total = 0, 1
    while offset < total:
        resp = client.get(own_fleet["facilitator"] + "/discovery/resources", params={"limit": 100, "offset": offset})
        if resp.status_code == 429:
            continue
        body = resp.json()
        for i in body["items"]:
            method = ((i.get("extensions") or {}).get("bazaar", {}).get("info", {}).get("input", {}).get("method")
                      or i["accepts"][0].get("outputSchema", {}).get("input", {}).get("method"))
            found.setdefault((method, i["resource"]), set()).add("facilitator")
        offset, total = offset + body["pagination"]["limit"], body["pagination"]["total"]
    client.post(own_fleet["facilitator_reset_url"])
    for r in own_fleet["resources"]:
        assert set(r["expect_sources"]) <= set(SOURCE_KINDS)
        assert r["expect_sources"] == [k for k in SOURCE_KINDS if k in found.get((r["method"], r["url"]), set())], r["url"]
        if not r["hostile"]:
            assert r["expect_sources"], r["url"]
    assert set(found) <= {(r["method"], r["url"]) for r in own_fleet["resources"]}
