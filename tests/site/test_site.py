"""The site builder without a browser: escaping of hostile crawled text, path guards, incremental and
parallel builds, every machine file against its published schema, sitemaps, feeds, charts, methodology."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urljoin

import jsonschema
import pytest

from index.site import feeds
from index.site import pages
from index.catalog.record import (
    SCHEMA_ID,
    CatalogRecord,
    Conformance,
    ExampleRequest,
    Finding,
    Health,
    HealthWindow,
    Hints,
    PricingSanity,
    RiskNote,
    TermsChange,
)
from index.site.render import curl_command, param_rows
from index.site.build import build_site
from index.site.render import format_usd
from index.site.writer import SiteWriter, UnsafePath, safe_name
from index.site.files import SCHEMAS
from index.site.svg import bar_chart, log_box_chart
from tests.support.records import golden_records, sample_record

XSS = '</script><script>alert(1)</script><img src=x onerror=alert(2)>'


def record(slug: str = "a-example-x", title: str = "A · X", url: str = "https://a.example/x", summary: str = "Does X") -> CatalogRecord:
    return sample_record(slug=slug, title=title, url=url, summary=summary)


def test_hostile_text_is_escaped_and_bad_urls_are_not_links(tmp_path: Path) -> None:
    hostile = record(title=XSS, summary=XSS, url="javascript:alert(3)")
    build_site([hostile], tmp_path)
    for page in ("index.html", "r/a-example-x.html"):
        html = (tmp_path / page).read_text()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;/script&gt;" in html
        assert 'href="javascript:' not in html
    twin = json.loads((tmp_path / "r/a-example-x.json").read_text())
    assert twin["title"] == XSS  # data keeps the text; only HTML escapes it


def test_pages_twins_and_index(tmp_path: Path) -> None:
    counts = build_site([record(), record(slug="b-example-y", url="https://b.example/y")], tmp_path)
    assert counts["resources"] == 2
    index = json.loads((tmp_path / "index.json").read_text())
    assert [e["slug"] for e in index["resources"]] == ["a-example-x", "b-example-y"]
    assert index["resources"][0]["href"] == "r/a-example-x.json"
    assert index["counts"]["by_network"] == {"eip155:8453": 2}
    lines = (tmp_path / "catalog.jsonl").read_text().splitlines()
    assert [json.loads(line)["slug"] for line in lines] == ["a-example-x", "b-example-y"]
    page = (tmp_path / "r/a-example-x.html").read_text()
    assert 'rel="alternate" type="application/json" href="a-example-x.json"' in page
    assert "0.01 USDC" in page and "$0.01" in page


def test_rebuild_is_incremental_and_removes_stale_pages(tmp_path: Path) -> None:
    build_site([record(), record(slug="b-example-y")], tmp_path)
    again = build_site([record(), record(slug="b-example-y")], tmp_path)
    assert again["written"] == 0
    smaller = build_site([record()], tmp_path)
    assert smaller["removed"] == 2
    assert not (tmp_path / "r/b-example-y.html").exists()


def test_writer_refuses_escapes_and_double_writes(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "out")
    for bad in ("../evil.html", "/etc/passwd", "r/../../evil", "a\x00b"):
        with pytest.raises(UnsafePath):
            writer.write(bad, "x")
    writer.write("r/ok.html", "x")
    with pytest.raises(ValueError):
        writer.write("r/ok.html", "y")
    assert not (tmp_path / "evil.html").exists()


def test_plain_number_never_uses_scientific_notation() -> None:
    from index.site.render import plain_number

    assert [plain_number(x) for x in (5e-05, 200.0, 0.01, 1.234, 1e-7, 10)] == ["0.00005", "200", "0.01", "1.234", "0.0000001", "10"]


def test_format_usd() -> None:
    assert format_usd(0.000001) == "$0.000001"
    assert format_usd(1.0) == "$1"
    assert format_usd(0.0005) == "$0.0005"
    assert format_usd(None) == "—"


# -- machine files and their schemas ---------------------------------------------------------------


def _varied() -> list[CatalogRecord]:
    """Three records on two origins, two categories, with a terms change and a missing price."""
    a = record()
    b = sample_record(slug="b-example-y", url="https://b.example/y", category="ai", price_usd=1.0,
                      origin={"slug": "b-example", "host": "b.example", "url": "https://b.example", "title": "B"},
                      networks=["eip155:8453", "eip155:84532"], first_seen="2026-11-21T10:00:00Z",
                      terms_changes=[TermsChange(at="2026-11-20T12:00:00Z", field="price", before=["10000 on eip155:8453"],
                                                 after=["20000 on eip155:8453"])],
                      health=Health(window_end="2026-11-20T10:00:00Z", windows=[HealthWindow(
                          window="24h", samples=4, up=3, uptime_pct=75.0, p50_latency_ms=10.0, p95_latency_ms=20.0)]))
    c = sample_record(slug="b-example-z", url="https://b.example/z", price_usd=None, status="paid",
                      origin={"slug": "b-example", "host": "b.example", "url": "https://b.example", "title": "B"})
    return [a, b, c]


def _validate(instance: object, schema: dict) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(instance)


@pytest.mark.parametrize("base_url", ["https://x402-index.example/sub", ""])
def test_each_schema_id_resolves_to_the_schema_itself(tmp_path: Path, base_url: str) -> None:
    # a relative $id is resolved against where the schema was read from: the folder path in it would
    # point at schema/schema/...; with --base-url the $id is absolute
    build_site(_varied(), tmp_path, base_url)
    served_at = "https://mirror.example/some/where/"  # wherever the build is hosted
    for rel in (SCHEMA_ID, *SCHEMAS.values()):
        schema_id = json.loads((tmp_path / rel).read_text())["$id"]
        assert urljoin(served_at + rel, schema_id) == (f"{base_url}/{rel}" if base_url else served_at + rel)


def test_every_emitted_json_file_validates_against_its_published_schema(tmp_path: Path) -> None:
    build_site(_varied(), tmp_path, "https://x402-index.example")
    record_schema = json.loads((tmp_path / "schema/catalog-record.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(record_schema)
    for name, rel in SCHEMAS.items():
        schema = json.loads((tmp_path / rel).read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        _validate(json.loads((tmp_path / name).read_text()), schema)
    twins = sorted((tmp_path / "r").glob("*.json"))
    assert len(twins) == 3
    for twin in twins:
        _validate(json.loads(twin.read_text()), record_schema)
    for line in (tmp_path / "catalog.jsonl").read_text().splitlines():
        _validate(json.loads(line), record_schema)
    # and a document that breaks a schema is refused: the check can fail
    broken = json.loads((tmp_path / "index.json").read_text())
    del broken["resources"][0]["slug"]
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, json.loads((tmp_path / SCHEMAS["index.json"]).read_text()))


def test_index_entries_are_what_the_model_would_dump() -> None:
    """The build makes index.json entries as plain dicts: the IndexEntry model accepts each as it is
    and dumps it unchanged, with every field present."""
    from index.catalog.record import IndexEntry, index_entry_dict

    verified = record().accepts[0].model_copy(update={"verified": True})
    for rec in [*_varied(), record().model_copy(update={"accepts": [verified], "retired_at": "2026-11-21T00:00:00Z",
                                                        "x402_version": None})]:
        entry = index_entry_dict(rec)
        assert list(entry) == list(IndexEntry.model_fields)
        assert IndexEntry.model_validate(entry, strict=True).model_dump(mode="json") == entry


def test_machine_files_content(tmp_path: Path) -> None:
    build_site(_varied(), tmp_path, "https://x402-index.example")
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["counts"] == {
        "resources": 3, "origins": 2, "by_network": {"eip155:8453": 3, "eip155:84532": 1},
        "by_category": {"ai": 1, "data": 2}, "by_status": {"paid": 3}, "by_trust_tier": {"conformant": 3}}
    assert index["record_schema"] == "schema/catalog-record.schema.json" and index["catalog"] == "catalog.jsonl"
    cats = {c["name"]: c for c in json.loads((tmp_path / "categories.json").read_text())["categories"]}
    assert cats["data"]["resources"] == 2 and cats["data"]["origins"] == 2 and cats["data"]["min_price_usd"] == 0.01
    assert cats["ai"]["page"] == "c/ai.html" and (tmp_path / "c/ai.html").exists()
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["by_version"] == {"2": 3} and metrics["priced_usd"] == 2 and metrics["verified"] == 0
    changes = json.loads((tmp_path / "changes.json").read_text())["changes"]
    assert [(c["kind"], c["slug"]) for c in changes][:2] == [("added", "b-example-y"), ("price", "b-example-y")]
    assert changes[1]["before"] == ["10000 on eip155:8453"] and changes[1]["after"] == ["20000 on eip155:8453"]
    feed = ET.fromstring((tmp_path / "changes.atom").read_bytes())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(feed.findall("a:entry", ns)) == len(changes)
    assert feed.find("a:entry/a:link", ns).get("href").startswith("https://x402-index.example/r/")
    urls = [el.text for el in ET.fromstring((tmp_path / "sitemap.xml").read_bytes()).iter(
        "{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://x402-index.example/r/b-example-y.html" in urls and "https://x402-index.example/o/b-example.html" in urls
    assert (tmp_path / "robots.txt").read_text().endswith("Sitemap: https://x402-index.example/sitemap.xml\n")
    llms = (tmp_path / "llms.txt").read_text()
    assert llms.startswith("# x402-index") and "https://x402-index.example/index.json" in llms
    origin = (tmp_path / "o/b-example.html").read_text()
    assert "b-example-y.html" in origin and "b-example-z.html" in origin and "a-example-x.html" not in origin


def test_sitemap_splits_into_an_index_past_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "SITEMAP_MAX", 4)
    build_site(_varied(), tmp_path, "https://x.example")
    root = ET.fromstring((tmp_path / "sitemap.xml").read_bytes())
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    parts = [el.text for el in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert parts == [f"https://x.example/sitemap-{k}.xml" for k in range(1, len(parts) + 1)] and len(parts) >= 2
    locs = [loc.text for k in range(1, len(parts) + 1) for loc in ET.fromstring(
        (tmp_path / f"sitemap-{k}.xml").read_bytes()).iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert len(locs) == len(set(locs)) and all(len(locs[i:i + 4]) <= 4 for i in range(0, len(locs), 4))
    monkeypatch.setattr(feeds, "SITEMAP_MAX", 50_000)
    build_site(_varied(), tmp_path, "https://x.example")
    assert not list(tmp_path.glob("sitemap-*.xml"))  # a smaller catalog drops the split files


def test_without_a_base_url_no_sitemap_and_the_feed_stays_valid_atom(tmp_path: Path) -> None:
    """Sitemaps need absolute URLs and an Atom id must be an absolute IRI: a build that does not know
    its public URL publishes no sitemap (and drops an earlier one), and its feed's id is a URN. A removed
    resource's entry links to the changes page and says it was removed, not "none → none"."""
    build_site(_varied(), tmp_path, "https://x.example")
    assert (tmp_path / "sitemap.xml").exists()
    build_site(_varied()[:2], tmp_path)
    assert not (tmp_path / "sitemap.xml").exists() and "Sitemap:" not in (tmp_path / "robots.txt").read_text()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring((tmp_path / "changes.atom").read_bytes())
    assert feed.find("a:id", ns).text == "urn:x402-index:changes"
    entries = feed.findall("a:entry", ns)
    assert entries and all(e.find("a:link", ns) is not None for e in entries)
    removed = [e for e in entries if e.find("a:title", ns).text.startswith("removed:")]
    assert len(removed) == 1 and removed[0].find("a:link", ns).get("href") == "/changes.html"
    assert removed[0].find("a:summary", ns).text.endswith(": no longer in the catalog")
    page = (tmp_path / "changes.html").read_text()
    assert "no longer in the catalog" in page and "none → none" not in page


# -- incremental builds -------------------------------------------------------------------------------


def test_only_changed_records_are_rendered_and_removed_ones_are_logged(tmp_path: Path) -> None:
    first = build_site(_varied(), tmp_path)
    assert first["rendered"] == 3
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()}
    again = build_site(_varied(), tmp_path)
    assert again["rendered"] == 0 and again["written"] == 0
    changed = _varied()
    changed[0] = changed[0].model_copy(update={"summary": "Does X, now faster"})
    third = build_site(changed[:2], tmp_path)
    assert third["rendered"] == 1 and third["removed"] == 2
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()}
    assert after["b-example-y.html"] == before["b-example-y.html"]
    assert "b-example-z.html" not in after and "Does X, now faster" in (tmp_path / "r/a-example-x.html").read_text()
    changes = json.loads((tmp_path / "changes.json").read_text())["changes"]
    removed = [c for c in changes if c["kind"] == "removed"]
    assert [c["slug"] for c in removed] == ["b-example-z"] and removed[0]["page"] is None
    assert not list(tmp_path.rglob(".*.tmp")) and not (tmp_path / ".build-parts").exists()


def test_a_deleted_page_is_rendered_again_and_a_template_change_rerenders_all(tmp_path: Path) -> None:
    build_site(_varied(), tmp_path)
    (tmp_path / "r/a-example-x.html").unlink()
    assert build_site(_varied(), tmp_path)["rendered"] == 1
    assert (tmp_path / "r/a-example-x.html").exists()
    assert build_site(_varied(), tmp_path, base_url="https://elsewhere.example")["rendered"] == 3


def test_a_deleted_page_or_twin_is_made_again_by_a_parallel_build(tmp_path: Path) -> None:
    """The workers skip unchanged records without looking at r/; the parent, which lists r/ meanwhile,
    makes again what is missing, with the same bytes."""
    records = [sample_record(slug=f"r-{i:03d}", url=f"https://a.example/{i}", title=f"R {i}") for i in range(40)]
    build_site(records, tmp_path, workers=2, parallel_min=0)
    before = _tree(tmp_path)
    (tmp_path / "r/r-007.html").unlink()
    (tmp_path / "r/r-031.json").unlink()
    counts = build_site(records, tmp_path, workers=2, parallel_min=0)
    assert counts["rendered"] == 2 and counts["written"] == 4
    assert _tree(tmp_path) == before
    assert build_site(records, tmp_path, workers=2, parallel_min=0)["written"] == 0


def test_parallel_rendering_writes_the_same_bytes(tmp_path: Path) -> None:
    records = [sample_record(slug=f"r-{i:03d}", url=f"https://a.example/{i}", title=f"R {i}") for i in range(40)]
    build_site(records, tmp_path / "one", workers=1)
    counts = build_site(records, tmp_path / "two", workers=2, parallel_min=0)
    assert counts["rendered"] == 40
    for rel in ("catalog.jsonl", "index.json", "index.html", "r/r-007.html", "r/r-039.json", "list/price-1.html"):
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_unsafe_slugs_and_duplicates_are_refused(tmp_path: Path) -> None:
    for bad in ("../evil", "a/b", ".hidden", "a..b", "", "x" * 300):
        with pytest.raises(UnsafePath):
            safe_name(bad)
    with pytest.raises(UnsafePath):
        build_site([sample_record(slug="..%2f..%2fetc")], tmp_path / "out")
    with pytest.raises(ValueError, match="duplicate"):
        build_site([record(), record()], tmp_path / "dup")
    assert not (tmp_path / "etc").exists()


# -- pages ------------------------------------------------------------------------------------------


def test_every_html_page_has_the_csp_and_no_inline_script(tmp_path: Path) -> None:
    hostile = sample_record(slug="h-example-x", title=XSS, summary=XSS, url="javascript:alert(3)", tags=[XSS[:30]],
                            origin={"slug": "h-example", "host": "h.example", "url": "javascript:alert(4)",
                                    "title": XSS, "description": XSS})
    build_site([hostile, record()], tmp_path)
    html_pages = sorted(tmp_path.rglob("*.html"))
    assert len(html_pages) >= 12
    for path in html_pages:
        html = path.read_text()
        assert "script-src 'self' 'wasm-unsafe-eval'" in html and "'unsafe-inline'" not in html, path
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert tag == '<script type="application/ld+json">' or re.fullmatch(
                r'<script src="(\.\./)?static/site\.js" defer>', tag), (path, tag)
        assert " style=" not in html and "<img" not in html and "javascript:" not in re.sub(r"&[^;]+;", "", "".join(
            re.findall(r'href="([^"]*)"', html))), path
        assert "<script>alert" not in html, path


def test_resource_page_sections(tmp_path: Path) -> None:
    rec = record()
    rec = rec.model_copy(update={
        "accepts": [rec.accepts[0].model_copy(update={"hints": Hints(
            input={"type": "http", "method": "POST", "bodyType": "json", "body": {"q": "weather", "n": 3}},
            output={"type": "json", "example": {"ok": True}}, source="bazaar")})],
        "example_request": ExampleRequest(method="POST", url="https://a.example/x", content_type="application/json",
                                          body={"q": "it's"}, source="bazaar"),
        "risks": [RiskNote(code="never_verified", severity="info", message="no test-buy yet")],
        "conformance": Conformance(grade="B", warnings=1, findings=[Finding(code="amount_zero", severity="warning",
                                                                            message="amount is zero", where="accepts[0]")]),
        "trust_reasons": ["latest probe: usable 402"],
        "pricing_sanity": PricingSanity(flag="cheap_outlier", ratio=0.01, median_category_atomic=1000000, peers=7, decimals=6),
    })
    build_site([rec], tmp_path)
    html = (tmp_path / "r/a-example-x.html").read_text()
    for needle in ('id="test-buy"', "x402-index test-buy a-example-x --pay", "amount_zero", "never_verified",
                   "latest probe: usable 402", "0.01 × the median price of 7 others in its category", "median 1000000 atomic units of a 6-decimal asset",
                   "<code>q</code>", "<td>body</td>", "<td>integer</td>", "&#34;ok&#34;: true",
                   "curl -i -X &#39;POST&#39; -H &#39;Content-Type: application/json&#39;", "Pay to", "2026-11-20T10:00:00Z"):
        assert needle in html, needle


def test_param_rows_and_curl() -> None:
    assert param_rows({"source": "outputSchema", "input": {"type": "http", "method": "POST", "body": {
        "address": {"type": "string", "description": "EVM address", "required": True}, "n": "integer"}}}) == [
        {"where": "body", "name": "address", "type": "string", "required": True, "description": "EVM address", "example": None},
        {"where": "body", "name": "n", "type": "integer", "required": None, "description": None, "example": None}]
    assert param_rows({"source": "bazaar", "input": {"type": "http", "queryParams": {"city": "Lisbon", "days": 7}}}) == [
        {"where": "query", "name": "city", "type": "string", "required": None, "description": None, "example": "Lisbon"},
        {"where": "query", "name": "days", "type": "integer", "required": None, "description": None, "example": 7}]
    assert param_rows({"input": {"type": "mcp", "inputSchema": {"properties": {"q": {"type": "string"}}, "required": ["q"]}}})[0][
        "required"] is True
    assert param_rows(None) == [] and param_rows({"input": "nonsense"}) == []
    # the official SDK writes body: {} when a server declares only a schema: the table comes from the schema
    schema = {"properties": {"body": {"properties": {"query": {"type": "string", "description": "What to search for"},
                                                     "limit": {"type": "integer", "minimum": 1}},
                                      "required": ["query"]}}}
    assert param_rows({"source": "bazaar", "input": {"type": "http", "method": "POST", "body": {}}, "input_schema": schema}) == [
        {"where": "body", "name": "query", "type": "string", "required": True, "description": "What to search for", "example": None},
        {"where": "body", "name": "limit", "type": "integer", "required": False, "description": None, "example": None}]
    assert param_rows({"source": "bazaar", "input": {"type": "http", "body": {"limit": 5, "extra": True}}, "input_schema": schema}) == [
        {"where": "body", "name": "limit", "type": "integer", "required": False, "description": None, "example": 5},
        {"where": "body", "name": "extra", "type": "boolean", "required": False, "description": None, "example": True},
        {"where": "body", "name": "query", "type": "string", "required": True, "description": "What to search for", "example": None}]
    assert curl_command({"method": "GET", "url": "https://a.example/x?y=1&z=2"}) == "curl -i 'https://a.example/x?y=1&z=2'"
    assert curl_command({"method": "POST", "url": "https://a.example/x", "body": {"q": "it's"}, "content_type": None}) == (
        "curl -i -X 'POST' -H 'Content-Type: application/json' --data '{\"q\":\"it'\"'\"'s\"}' 'https://a.example/x'")
    assert curl_command(None) is None


def test_svg_charts_are_wellformed_and_escaped() -> None:
    svg = str(bar_chart("By <network>", [("<script>", 3), ("Base", 1)]))
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and "<script>" not in svg and "&lt;script&gt;" in svg
    assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == 2
    box = str(log_box_chart("Prices", [("ai", [0.000001, 0.01, 1.0]), ("empty", []), ("zero", [0.0])]))
    root = ET.fromstring(box)
    ticks = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "tick"]
    assert ticks[0] == "$0.000001" and ticks[-1] == "$1" and len(root.findall("{http://www.w3.org/2000/svg}rect")) == 1
    assert ET.fromstring(str(log_box_chart("none", []))).find("{http://www.w3.org/2000/svg}desc").text == "no prices"
    # screen readers get the figures: <desc> is an element whose text is the escaped labels, not escaped markup
    desc = ET.fromstring(str(bar_chart("T", [("a<b", 2), ("Base", 1)]))).find("{http://www.w3.org/2000/svg}desc")
    assert desc is not None and desc.text == "a<b: 2; Base: 1"
    desc = ET.fromstring(str(log_box_chart("P", [("ai & ml", [0.01, 0.02])]))).find("{http://www.w3.org/2000/svg}desc")
    assert desc is not None and desc.text.startswith("ai & ml: 2 prices, median $0.015")


def test_methodology_renders_markdown_with_raw_html_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = tmp_path / "methodology.md"
    doc.write_text("# How we measure\n\n| field | rule |\n|---|---|\n| price_usd | cheapest |\n\n"
                   "<script>alert(1)</script>\n\n[bad](javascript:alert(2)) [good](https://x402.org)\n")
    monkeypatch.setattr(pages, "METHODOLOGY", doc)
    build_site([record()], tmp_path / "out")
    html = (tmp_path / "out/methodology.html").read_text()
    assert "<h1>How we measure</h1>" in html and "<td>price_usd</td>" in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert 'href="javascript:' not in html and 'href="https://x402.org"' in html
    assert "pay_to_changed" in html and "header_invalid_base64" in html and "indexed_external" in html


def test_serve_answers_with_the_site_and_its_404_page(tmp_path: Path) -> None:
    import threading

    import httpx

    from index.site.serve import make_server

    build_site([record()], tmp_path)
    server = make_server(tmp_path, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        home = httpx.get(base + "/", timeout=5)
        assert home.status_code == 200 and "x402-index" in home.text
        assert httpx.get(base + "/index.json", timeout=5).headers["content-type"] == "application/json"
        assert httpx.get(base + "/changes.atom", timeout=5).headers["content-type"] == "application/atom+xml"
        missing = httpx.get(base + "/r/nope.html", timeout=5)
        assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
        assert (tmp_path / ".build-state").exists()
        for private in ("/.build-state", "/%2Ebuild-summaries", "/r/../.build-state"):
            assert httpx.get(base + private, timeout=5).status_code == 404, private
    finally:
        server.shutdown()
        server.server_close()


def test_an_empty_catalog_builds_valid_files(tmp_path: Path) -> None:
    counts = build_site([], tmp_path)
    assert counts["resources"] == 0 and (tmp_path / "index.html").exists() and (tmp_path / "catalog.jsonl").read_text() == ""
    for name, rel in SCHEMAS.items():
        _validate(json.loads((tmp_path / name).read_text()), json.loads((tmp_path / rel).read_text()))


def test_retired_resources_leave_the_home_table_but_keep_their_pages(tmp_path: Path) -> None:
    from tests.support.records import golden_records, sample_record

    live = sample_record(slug="live-x", title="Live thing")
    gone = sample_record(slug="gone-y", title="Retired thing", url="https://a.example/y", retired_at="2026-11-20T10:00:00Z")
    build_site([live, gone], tmp_path)
    home = (tmp_path / "index.html").read_text()
    assert "Live thing" in home and "Retired thing" not in home
    assert "1 retired resource (every probe failed for a week or more) is left out of this table" in home
    assert "Pay on:" in home and "How far we checked" in home and "<strong>2</strong> answered with valid payment terms" in home
    assert "Retired <time datetime=\"2026-11-20T10:00:00Z\">2026-11-20 10:00 UTC</time>" in (tmp_path / "r" / "gone-y.html").read_text()
    entries = json.loads((tmp_path / "index.json").read_text())["resources"]
    assert {e["slug"]: e["retired"] for e in entries} == {"live-x": False, "gone-y": True}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".build-")}


def test_incremental_build_writes_the_same_bytes_as_a_full_build(tmp_path: Path) -> None:
    records = [sample_record(slug=f"r-{i:03d}", url=f"https://o{i % 3}.example/{i}", title=f"R {i}",
                             origin={"slug": f"o{i % 3}-example", "host": f"o{i % 3}.example",
                                     "url": f"https://o{i % 3}.example", "title": f"O {i % 3}", "description": None})
               for i in range(30)]
    changed = list(records[:25])  # five removed, two changed, one added
    changed[3] = changed[3].model_copy(update={"summary": "Changed summary", "price_usd": 0.5})
    changed[10] = changed[10].model_copy(update={"title": "A new title"})
    changed.append(sample_record(slug="r-new", url="https://o1.example/new", title="New one"))
    for workers, parallel_min in ((1, 10**9), (2, 0)):
        inc, full = tmp_path / f"inc-{workers}", tmp_path / f"full-{workers}"
        build_site(records, inc, "https://x.example", workers=workers, parallel_min=parallel_min)
        counts = build_site(changed, inc, "https://x.example", workers=workers, parallel_min=parallel_min)
        assert counts["rendered"] == 3 and counts["removed"] == 10
        build_site(changed, full, "https://x.example", workers=workers, parallel_min=parallel_min)
        a, b = _tree(inc), _tree(full)
        a_changes, b_changes = a.pop("changes.json"), b.pop("changes.json")  # only the build that saw removals logs them
        for name in ("changes.html", "changes.atom"):
            a.pop(name), b.pop(name)
        assert a == b
        assert b"removed" in a_changes and b"removed" not in b_changes
        # an unchanged rebuild renders nothing and writes nothing, also without the summaries file
        (inc / ".build-summaries").unlink()
        again = build_site(changed, inc, "https://x.example", workers=workers, parallel_min=parallel_min)
        assert again["rendered"] == 0 and again["written"] == 0
        assert _tree(inc) == {**a, "changes.json": a_changes, **{n: (inc / n).read_bytes() for n in ("changes.html", "changes.atom")}}
    assert not list(tmp_path.rglob(".*.tmp")) and not list(tmp_path.rglob(".build-r"))


def test_writer_refuses_paths_outside_the_output_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "link").symlink_to(outside)
    writer = SiteWriter(tmp_path / "site")
    for rel in ("../x.html", "o/../../x.html", "/etc/x", "link/x.html", "o/../link/x.html", "a\x00b"):
        with pytest.raises(UnsafePath):
            writer.claim(rel)
    writer.write("o/ok.html", "fine")
    with pytest.raises(ValueError, match="twice"):
        writer.write("o/ok.html", "again")
    assert (tmp_path / "site/o/ok.html").read_text() == "fine" and not list(outside.iterdir())


def _fleet_records() -> list[CatalogRecord]:
    """The fleet's golden records and a hostile one."""
    records = golden_records()
    hostile = sample_record(slug="hostile-x", title=XSS, summary=XSS, url="javascript:alert(3)", tags=[XSS, "a&b"],
                            terms_changes=[TermsChange(field="price", at="2026-11-20T10:00:00Z", before=[XSS], after=["2"])])
    return [*records, hostile]


def test_the_output_escaping_shortcut_writes_the_bytes_stock_jinja_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """index.site.render compiles {{ … }} to escape_output(…), a str, where Jinja writes escape(…), a Markup:
    every file of a site built both ways is the same, byte for byte."""
    from jinja2.compiler import CodeGenerator

    from index.site import render

    records = _fleet_records()
    assert "environment.escape_output(" in render.environment().compile("{{ x }}", raw=True)
    build_site(records, tmp_path / "ours")
    monkeypatch.setattr(render.SiteEnvironment, "code_generator_class", CodeGenerator)
    render.environment.cache_clear()
    try:
        assert "environment.escape_output(" not in render.environment().compile("{{ x }}", raw=True)
        build_site(records, tmp_path / "stock")
    finally:
        render.environment.cache_clear()

    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and not p.name.startswith(".")}

    ours, stock = files(tmp_path / "ours"), files(tmp_path / "stock")
    assert len(ours) > 50 and ours.keys() == stock.keys()
    assert [name for name in ours if ours[name] != stock[name]] == []
    assert b"&lt;/script&gt;" in ours["r/hostile-x.html"]


def test_catalog_jsonl_follows_removals_additions_and_no_change(tmp_path: Path) -> None:
    """catalog.jsonl is appended range by range only once a range has a changed record; a catalog
    that changed only by removals is still written, and an unchanged one is not touched."""
    records = [sample_record(slug=f"r-{i:03d}", url=f"https://a.example/{i}", title=f"R {i}") for i in range(40)]
    for workers, parallel_min in ((1, 10**9), (2, 0)):
        site = tmp_path / f"site-{workers}"
        build_site(records, site, workers=workers, parallel_min=parallel_min)
        first = (site / "catalog.jsonl").read_bytes()
        assert build_site(records, site, workers=workers, parallel_min=parallel_min)["written"] == 0
        assert (site / "catalog.jsonl").read_bytes() == first
        fewer = records[:5] + records[6:]  # a removal only: no range renders anything
        counts = build_site(fewer, site, workers=workers, parallel_min=parallel_min)
        assert counts["rendered"] == 0 and counts["removed"] == 2
        lines = (site / "catalog.jsonl").read_bytes().splitlines()
        assert [json.loads(x)["slug"] for x in lines] == [r.slug for r in fewer]
        more = [*fewer, sample_record(slug="r-zzz", url="https://a.example/z", title="Z")]
        build_site(more, site, workers=workers, parallel_min=parallel_min)
        assert [json.loads(x)["slug"] for x in (site / "catalog.jsonl").read_bytes().splitlines()] == [r.slug for r in more]
        assert not list(site.glob(".*.tmp"))


def test_a_build_cut_off_midway_is_followed_by_a_full_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that dies after replacing pages leaves a state that no longer describes them: the next
    build trusts none of its hashes, so a record changed back gets its page back."""
    from index.site import build as site

    records = [sample_record(slug=f"r-{i:03d}", url=f"https://a.example/{i}", title=f"R {i}") for i in range(6)]
    build_site(records, tmp_path)
    changed = [records[0].model_copy(update={"title": "Renamed"}), *records[1:]]

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed while writing the aggregates")

    monkeypatch.setattr(site, "_write_aggregates", crash)
    with pytest.raises(RuntimeError):
        build_site(changed, tmp_path)
    monkeypatch.undo()
    assert "Renamed" in (tmp_path / "r/r-000.html").read_text()  # replaced before the crash
    assert (tmp_path / ".build-running").exists()

    counts = build_site(records, tmp_path)  # the first records again
    assert counts["rendered"] == 6
    assert "Renamed" not in (tmp_path / "r/r-000.html").read_text()
    assert not (tmp_path / ".build-running").exists()
    assert build_site(records, tmp_path)["rendered"] == 0  # and the state is trusted again
