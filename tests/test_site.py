"""The site writer and templates: escaping of hostile crawled text, path guards, incremental writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.record import CatalogRecord
from index.site import SiteWriter, UnsafePath, build_site, format_usd
from tests.records import sample_record

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


def test_format_usd() -> None:
    assert format_usd(0.000001) == "$0.000001"
    assert format_usd(1.0) == "$1"
    assert format_usd(0.0005) == "$0.0005"
    assert format_usd(None) == "—"
