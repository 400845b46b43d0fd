from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.query.filters import Query, filter_entries, get_record, load_entries, record_entry, search, sort_entries

ENTRIES = [
    {"slug": "a", "title": "Weather · Forecast", "summary": "Seven-day forecast", "url": "https://w.example/f",
     "category": "weather", "networks": ["eip155:8453", "eip155:84532"], "price_usd": 0.001, "origin": "w.example"},
    {"slug": "b", "title": "AI · Chat", "summary": "Chat completions", "url": "https://ai.example/c",
     "category": "ai", "networks": ["eip155:8453"], "price_usd": 1.0, "origin": "ai.example"},
    {"slug": "c", "title": "Sol · Tokens", "summary": "Top tokens", "url": "https://s.example/t",
     "category": "crypto", "networks": ["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"], "price_usd": None, "origin": "s.example"},
]


def slugs(rows: list[dict]) -> list[str]:
    return [r["slug"] for r in rows]


def test_filters() -> None:
    assert slugs(filter_entries(ENTRIES, network="eip155:8453")) == ["a", "b"]
    assert slugs(filter_entries(ENTRIES, network="base")) == ["a", "b"]
    assert slugs(filter_entries(ENTRIES, network="base-sepolia")) == ["a"]
    assert slugs(filter_entries(ENTRIES, network="solana")) == ["c"]
    assert slugs(filter_entries(ENTRIES, q="chat COMPLETIONS")) == ["b"]
    assert slugs(filter_entries(ENTRIES, category="AI")) == ["b"]
    assert slugs(filter_entries(ENTRIES, max_price=0.01)) == ["a"]  # unknown USD price never matches a cap
    assert slugs(filter_entries(ENTRIES)) == ["a", "b", "c"]


def test_unknown_network_is_an_error() -> None:
    with pytest.raises(ValueError):
        filter_entries(ENTRIES, network="nope")


def test_load_from_folder_and_errors(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text(json.dumps({"resources": ENTRIES}))
    assert slugs(load_entries(tmp_path)) == ["a", "b", "c"]
    with pytest.raises(FileNotFoundError):
        load_entries(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ValueError):
        load_entries(tmp_path / "bad.json")


def test_status_method_trust_tier_and_verified_filters() -> None:
    entries = [
        {**ENTRIES[0], "status": "paid", "method": "GET", "trust_tier": "verified", "verified": True, "last_verified": "2026-11-20T10:00:00Z"},
        {**ENTRIES[1], "status": "paid", "method": "POST", "accepts": [{"verified": False}, {"verified": True, "verified_at": "2026-11-21T10:00:00Z"}]},
        {**ENTRIES[2], "status": "timeout", "method": "GET", "trust_tier": "stale", "accepts": [{"verified": False}]},
    ]
    assert slugs(filter_entries(entries, status="paid")) == ["a", "b"]
    assert slugs(filter_entries(entries, method="post")) == ["b"]
    assert slugs(filter_entries(entries, trust_tier="verified")) == ["a"]
    assert slugs(filter_entries(entries, trust_tier="unknown")) == ["b"]  # no tier published: unknown
    assert slugs(filter_entries(entries, verified_only=True)) == ["a", "b"]
    with pytest.raises(ValueError, match="catalog.jsonl"):
        filter_entries(ENTRIES, verified_only=True)  # index.json alone says nothing about verification


def test_text_search_reads_description_and_tags() -> None:
    entries = [{**ENTRIES[0], "tags": ["meteo"]}, {**ENTRIES[1], "description": "Large language models"}]
    assert slugs(filter_entries(entries, q="METEO")) == ["a"]
    assert slugs(filter_entries(entries, q="language models")) == ["b"]


def test_sorts_and_limit(tmp_path: Path) -> None:
    entries = [{**ENTRIES[0], "last_verified": "2026-11-20T10:00:00Z"}, {**ENTRIES[1], "last_verified": "2026-11-21T10:00:00Z"}, ENTRIES[2]]
    assert slugs(sort_entries(entries, "price")) == ["a", "b", "c"]  # unknown price last
    assert slugs(sort_entries(entries, "name")) == ["b", "c", "a"]  # AI, Sol, Weather
    assert slugs(sort_entries(entries, "last_verified")) == ["b", "a", "c"]
    with pytest.raises(ValueError):
        sort_entries(entries, "popularity")
    (tmp_path / "index.json").write_text(json.dumps({"resources": entries}))
    assert slugs(search(tmp_path, Query(sort="price", limit=2))) == ["a", "b"]
    with pytest.raises(ValueError):
        search(tmp_path, Query(limit=-1))


def _record(slug: str, verified: bool, **extra: object) -> dict:
    return {"slug": slug, "title": f"T {slug}", "url": f"https://x.example/{slug}", "method": "GET", "category": "data",
            "summary": "s", "accepts": [{"network_caip2": "eip155:8453", "verified": verified,
                                         "verified_at": "2026-11-21T10:00:00Z" if verified else None}],
            "origin": {"slug": "x-example", "host": "x.example", "url": "https://x.example"}, "status": "paid",
            "x402_version": 2, "networks": ["eip155:8453"], "price_usd": 0.01, "first_seen": "2026-11-20T10:00:00Z",
            "last_seen": None, "last_probed_at": None, "generated_at": "2026-11-21T10:00:00Z", "tags": ["t"], **extra}


def test_catalog_jsonl_details_are_merged_and_new_fields_carried(tmp_path: Path) -> None:
    records = [_record("p", True, trust_tier="verified", some_future_field=1), _record("q", False)]
    (tmp_path / "catalog.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    plain = [{k: v for k, v in record_entry(r).items() if k not in ("tags", "accepts", "verified", "last_verified")} for r in records]
    (tmp_path / "index.json").write_text(json.dumps({"resources": plain}))
    assert "verified" not in load_entries(tmp_path)[0]
    detailed = load_entries(tmp_path, details=True)
    assert [(e["slug"], e["verified"], e["last_verified"], e["trust_tier"] if "trust_tier" in e else None) for e in detailed] == \
        [("p", True, "2026-11-21T10:00:00Z", "verified"), ("q", False, None, None)]
    assert slugs(search(tmp_path, Query(verified_only=True))) == ["p"]
    assert slugs(search(tmp_path / "catalog.jsonl", Query(trust_tier="verified"))) == ["p"]
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "p.json").write_text(json.dumps(records[0]))
    assert get_record(tmp_path, "p")["some_future_field"] == 1
    assert get_record(tmp_path, "nope") is None and get_record(tmp_path / "catalog.jsonl", "q")["slug"] == "q"
    with pytest.raises(ValueError):
        get_record(tmp_path, "../etc/passwd")


def test_a_build_answers_every_filter_and_sort_from_index_json_alone(tmp_path: Path) -> None:
    # since schema 1.2.0 index.json entries carry tags and last_verified: catalog.jsonl (500 MB at 100k
    # resources) is never read for a query; here it is deleted to prove it
    from index.site.build import build_site
    from tests.support.records import sample_record

    verified = sample_record(slug="b-example-y", url="https://b.example/y", title="B · Y", tags=["meteo"],
                             last_verified="2026-11-21T10:00:00Z", accepts=[
                                 sample_record().accepts[0].model_copy(update={"verified": True,
                                                                               "verified_at": "2026-11-21T10:00:00Z"})])
    build_site([sample_record(tags=["other"]), verified], tmp_path)
    (tmp_path / "catalog.jsonl").unlink()
    assert slugs(search(tmp_path, Query(q="meteo"))) == ["b-example-y"]
    assert slugs(search(tmp_path, Query(verified_only=True))) == ["b-example-y"]
    assert slugs(search(tmp_path, Query(sort="last_verified"))) == ["b-example-y", "a-example-x"]
    entry = search(tmp_path, Query(q="meteo"))[0]
    assert (entry["tags"], entry["last_verified"]) == (["meteo"], "2026-11-21T10:00:00Z")


def test_a_remote_build_is_queried_and_an_oversized_body_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import index.query.filters as query_module
    from index.site.build import build_site
    from tests.support.records import sample_record

    build_site([sample_record(tags=["meteo"])], tmp_path)
    monkeypatch.setenv("X402_INDEX_CACHE", str(tmp_path / "cache"))  # where the remote index.sqlite is kept

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        assert slugs(search(base, Query(q="meteo"))) == ["a-example-x"]
        assert get_record(base, "a-example-x")["tags"] == ["meteo"]
        monkeypatch.setattr(query_module, "MAX_REMOTE_BYTES", 200)  # the index.json is larger
        (tmp_path / "index.sqlite").unlink()  # the query file has a cap of its own (tests/query/test_query_index.py)
        with pytest.raises(ValueError, match="larger than 200 bytes"):
            search(base, Query())
    finally:
        server.shutdown()
        server.server_close()
