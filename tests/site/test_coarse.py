"""Pages show what a crawl moves at a coarse resolution, so a quiet crawl rewrites few pages; the
search index reads, and its key hashes, only the fields a searcher types (index.site.coarse)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from index.catalog.record import (
    SCHEMA_VERSION,
    CatalogRecord,
    ExampleRequest,
    Health,
    HealthWindow,
    OtherProtocol,
    OwnerRecord,
    RiskNote,
    SourceRef,
    StatusChange,
    TermsChange,
)
from index.site.build import build_site
from index.site.coarse import SEARCH_FIELDS, band_floor, band_text, day, page_view
from index.site.render import renderer
from tests.support.records import golden_records, sample_record


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
    """What pagefind reads of a page: the text inside data-pagefind-body and outside
    data-pagefind-ignore, and the filters and metadata (data-pagefind-filter, -meta) anywhere in the
    body, ignored parts included, with the text they take their value from."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[bool, bool, bool]] = []  # (in body, ignored, inside a filter or metadata)
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _ in attrs}
        body, ignored, tagged = self.stack[-1] if self.stack else (False, False, False)
        body = body or "data-pagefind-body" in names
        marks = sorted((k, v) for k, v in attrs if k in ("data-pagefind-filter", "data-pagefind-meta"))
        state = (body, ignored or "data-pagefind-ignore" in names, tagged or bool(marks))
        if tag not in self.VOID:
            self.stack.append(state)
        if body and (not state[1] or marks):
            self.text.append(repr(sorted((k, v) for k, v in attrs if k.startswith("data-pagefind"))))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] and (not self.stack[-1][1] or self.stack[-1][2]):
            self.text.append(data)


def _page(rec: CatalogRecord) -> str:
    view = page_view(rec)
    return renderer("resource.html")(r=view, root="../", generated_at=view.generated_at, base_url="",
                                     schema_version=SCHEMA_VERSION)


def _searchable(html: str) -> str:
    """pagefind's words: runs of white space count as one."""
    p = _Searchable()
    p.feed(html)
    return re.sub(r"\s+", " ", "".join(p.text))


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


def _search_key(rec: CatalogRecord) -> bytes:
    return CatalogRecord.__pydantic_serializer__.to_json(rec, include=SEARCH_FIELDS)


def _keyed_from(rec: BaseModel, other: BaseModel, fields: dict[str, Any] = SEARCH_FIELDS) -> Any:
    """`rec` with the SEARCH_FIELDS of `other` (a nested one field by field), every other field its own."""
    update = {name: getattr(other, name) if sub is True else _keyed_from(getattr(rec, name), getattr(other, name), sub)
              for name, sub in fields.items()}
    return rec.model_copy(update=update)


def _everything_else(rec: CatalogRecord) -> CatalogRecord:
    """`rec` with every field the golden records share moved (and more): prices, terms, health, times,
    status, tiers, owner, other protocol, risks, retirement."""
    accept = rec.accepts[0].model_copy(update={"max_amount_required_atomic": "990000", "amount": "0.99", "price_usd": 0.99,
                                                "pay_to": "0x" + "9" * 40, "verified": True,
                                                "verified_at": "2026-11-26T00:00:00Z", "max_timeout_seconds": 7})
    return _moved(rec, status="timeout", last_verified="2026-11-19T00:00:00Z", generated_at="2026-11-27T00:00:00Z",
                  health=_health("2026-11-27T00:00:00Z", 9, 3, 900.0), last_probed_at="2026-11-27T00:00:00Z",
                  last_seen="2026-11-26T00:00:00Z", last_paid_at=None, first_seen="2026-10-01T00:00:00Z",
                  accepts=[accept], price_usd=0.99, x402_version=1, trust_tier="stale", trust_reasons=["Zyzzyva"],
                  pricing_review_required=True, pricing_decimal_suspect=True, axon_deep_link="https://axon.example/q",
                  summary_source="owner", derived_fields=["summary", "tags"], owner_fields=["summary"],
                  terms_source="declared:well_known", schema_version="0.0.1", protocol="l402",
                  other_protocol=OtherProtocol(protocol="l402"), retired_at="2026-11-25T00:00:00Z",
                  terms_changes=[TermsChange(at="2026-11-24T00:00:00Z", field="price", before=["1"], after=["2"])],
                  status_changes=[StatusChange(at="2026-11-24T00:00:00Z", kind="went_down", before="paid", after="timeout")],
                  owner_verified=True, owner=OwnerRecord(verified=True, label="from the owner", name="Zyzzyva Inc",
                                                         description="Zyzzyva things", addresses=["0x" + "9" * 40]),
                  risks=[RiskNote(code="zyzzyva", severity="warning", message="Zyzzyva risk")], risk_notes=["Zyzzyva"],
                  example_request=ExampleRequest(method="GET", url="https://zyzzyva.example/q", source="docs"),
                  null_reasons={"price_usd": "Zyzzyva"}, use_cases=["Zyzzyva"], ideal_buyer="Zyzzyva buyers",
                  example_prompt="Zyzzyva?", example_request_body={"zyzzyva": 1},
                  origin=rec.origin.model_copy(update={"slug": "zyzzyva-example", "url": "https://zyzzyva.example",
                                                       "description": "Zyzzyva origin", "favicon": "https://z.example/f.ico"}),
                  seo={"title": "Zyzzyva", "description": "Zyzzyva"}, json_ld={"name": "Zyzzyva"})


def test_pagefind_reads_the_keyed_fields_and_nothing_else() -> None:
    """Each record given another's SEARCH_FIELDS, every other field its own, reads to pagefind as the
    other does: a template that shows a field outside SEARCH_FIELDS in the searched body fails here.
    The pairs differ in every field outside SEARCH_FIELDS."""
    golden = golden_records()
    pairs = [*zip(golden, golden[1:] + golden[:1]), *((_everything_else(r), r) for r in golden[:4])]
    moved: set[str] = set()
    for rec, other in pairs:
        mixed = _keyed_from(rec, other)
        assert _search_key(mixed) == _search_key(other)
        assert _page(mixed) != _page(other)
        assert _searchable(_page(mixed)) == _searchable(_page(other)), (rec.slug, other.slug)
        moved |= {name for name in CatalogRecord.model_fields if getattr(mixed, name) != getattr(other, name)}
    assert moved == set(CatalogRecord.model_fields) - {k for k, v in SEARCH_FIELDS.items() if v is True}


def test_what_a_searcher_types_is_searched_and_keyed() -> None:
    """Each field of SEARCH_FIELDS, changed alone, changes both the search key and the text pagefind
    reads; a price or health change changes neither."""
    rec = _base()
    changes = {"title": "Zyzzyva title", "summary": "Zyzzyva summary", "tags": ["zyzzyva"], "category": "weather",
               "url": "https://a.example/zyzzyva", "method": "POST", "networks": ["eip155:84532"],
               "origin": rec.origin.model_copy(update={"title": "Zyzzyva origin"})}
    assert set(changes) == set(SEARCH_FIELDS)
    for name, value in changes.items():
        other = rec.model_copy(update={name: value})
        assert _search_key(other) != _search_key(rec), name
        assert _searchable(_page(other)) != _searchable(_page(rec)), name
    searched = _searchable(_page(rec))
    assert "Does X" in searched and "A · X" in searched and "GET https://a.example/x" in searched
    repriced = rec.model_copy(update={"price_usd": 0.5, "accepts": [rec.accepts[0].model_copy(update={"price_usd": 0.5})]})
    for other in (repriced, _moved(rec, health=_health("2026-11-27T00:00:00Z", 9, 3, 900.0), status="timeout")):
        assert _search_key(other) == _search_key(rec) and _searchable(_page(other)) == searched
        assert _page(other) != _page(rec)


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
