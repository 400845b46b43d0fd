"""Pages show what a crawl moves at a coarse resolution, so a quiet crawl rewrites few pages; the
search index's key leaves out what only pagefind-ignored parts show (index.site.coarse)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from index.catalog.record import SCHEMA_VERSION, CatalogRecord, Health, HealthWindow, SourceRef
from index.site.build import build_site
from index.site.coarse import SEARCH_EXCLUDE, band_floor, band_text, day, page_view
from index.site.render import renderer
from tests.support.records import sample_record


def _health(end: str, samples: int, up: int, p50: float) -> Health:
    return Health(window_end=end, windows=[
        HealthWindow(window=w, samples=samples * k, up=up * k, uptime_pct=round(100 * up / samples, 2),
                     p50_latency_ms=p50, p95_latency_ms=p50 * 1.5) for k, w in ((1, "24h"), (3, "7d"), (8, "30d"))])


def _moved(rec: CatalogRecord, **extra: Any) -> CatalogRecord:
    """The same record after a crawl that changed nothing it says: later times the same day, more
    probes, latencies within their bands, other sources' last_seen, another status."""
    return rec.model_copy(update={
        "generated_at": "2026-11-20T18:00:00Z", "last_probed_at": "2026-11-20T17:59:00Z",
        "last_seen": "2026-11-20T17:59:00Z", "last_paid_at": "2026-11-20T17:59:00Z",
        "health": _health("2026-11-20T17:59:00Z", 9, 9, 131.0),
        "sources": [SourceRef(kind="facilitator", url="https://f.example/list", last_seen="2026-11-20T17:00:00Z")],
        **extra})


def _base() -> CatalogRecord:
    return sample_record(health=_health("2026-11-20T10:00:00Z", 8, 8, 120.0), last_paid_at="2026-11-20T10:00:00Z",
                         sources=[SourceRef(kind="facilitator", url="https://f.example/list",
                                            last_seen="2026-11-20T09:00:00Z")])


class _Searchable(HTMLParser):
    """The text pagefind indexes: inside data-pagefind-body, outside data-pagefind-ignore."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[bool, bool]] = []  # (in body, ignored)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        body, ignored = self.stack[-1] if self.stack else (False, False)
        state = (body or "data-pagefind-body" in names, ignored or "data-pagefind-ignore" in names)
        if tag not in self.VOID:
            self.stack.append(state)
        if state[0] and not state[1]:
            self.text.append(repr(sorted((k, v) for k, v in attrs if k.startswith("data-pagefind"))))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] and not self.stack[-1][1]:
            self.text.append(data)


def _page(rec: CatalogRecord) -> str:
    view = page_view(rec)
    return renderer("resource.html")(r=view, root="../", generated_at=view.generated_at, base_url="",
                                     schema_version=SCHEMA_VERSION)


def _searchable(html: str) -> str:
    p = _Searchable()
    p.feed(html)
    return "".join(p.text)


def test_bands_and_days() -> None:
    assert [band_floor(x) for x in (0.7, 87.3, 100.0, 130.0, 499.0, 1500.0)] == [0.5, 50.0, 100.0, 100.0, 200.0, 1000.0]
    assert [band_text(band_floor(x)) for x in (87.3, 130.0, 499.0, 1500.0)] == \
        ["50 ms–100 ms", "100 ms–200 ms", "200 ms–500 ms", "1 s–2 s"]
    assert band_text(None) == "—" and band_floor(None) is None
    assert day("2026-11-20T10:00:00Z") == "2026-11-20" and day(None) is None


def test_a_quiet_crawl_leaves_the_page_alone_and_the_twin_exact() -> None:
    rec = _base()
    moved = _moved(rec)
    assert _page(rec) == _page(moved)
    assert CatalogRecord.__pydantic_serializer__.to_json(rec) != CatalogRecord.__pydantic_serializer__.to_json(moved)
    # a visible change does change the page: uptime at one decimal, latency crossing its band, another day
    assert _page(rec) != _page(_moved(rec, health=_health("2026-11-20T17:59:00Z", 9, 7, 131.0)))
    assert _page(rec) != _page(_moved(rec, health=_health("2026-11-20T17:59:00Z", 9, 9, 260.0)))
    assert _page(rec) != _page(_moved(rec, last_probed_at="2026-11-21T01:00:00Z"))


def test_what_the_search_key_leaves_out_is_never_searchable() -> None:
    """Every field of SEARCH_EXCLUDE changed at once: the text pagefind reads is the same."""
    rec = _base()
    other = _moved(rec, status="timeout", last_verified="2026-11-19T00:00:00Z",
                   health=_health("2026-11-27T00:00:00Z", 9, 3, 900.0), generated_at="2026-11-27T00:00:00Z",
                   last_probed_at="2026-11-27T00:00:00Z", last_seen="2026-11-26T00:00:00Z", last_paid_at=None)
    assert {"status", "health", "generated_at", "last_probed_at"} <= SEARCH_EXCLUDE
    assert _page(rec) != _page(other)
    assert _searchable(_page(rec)) == _searchable(_page(other))
    assert "Does X" in _searchable(_page(rec))
    assert _searchable(_page(rec)) != _searchable(_page(sample_record(summary="Does Y")))


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (folder / "r").iterdir()}


def test_a_quiet_rebuild_rewrites_twins_not_pages(tmp_path: Path) -> None:
    records = [sample_record(slug=f"a-example-x{i}", url=f"https://a.example/x{i}", title=f"X {i}",
                             last_paid_at="2026-11-20T10:00:00Z", health=_health("2026-11-20T10:00:00Z", 8, 8, 120.0))
               for i in range(5)]
    first = build_site(records, tmp_path, "https://x402-index.example")
    before = _files(tmp_path)
    list_page = (tmp_path / "list" / "title-1.html").stat().st_ino
    origin_page = (tmp_path / "o" / "a-example.html").stat().st_ino
    quiet = build_site([_moved(r, sources=[]) for r in records], tmp_path, "https://x402-index.example")
    after = _files(tmp_path)
    assert all(after[f"a-example-x{i}.html"] == before[f"a-example-x{i}.html"] for i in range(5))
    assert all(after[f"a-example-x{i}.json"] != before[f"a-example-x{i}.json"] for i in range(5))
    assert (tmp_path / "list" / "title-1.html").stat().st_ino == list_page
    assert (tmp_path / "o" / "a-example.html").stat().st_ino == origin_page  # its twin has the exact figures
    assert quiet["search_key"] == first["search_key"]
    retitled = build_site([_moved(r, sources=[], title="Y") if i == 0 else _moved(r, sources=[])
                           for i, r in enumerate(records)], tmp_path, "https://x402-index.example")
    assert retitled["search_key"] != first["search_key"]
