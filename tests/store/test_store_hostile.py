"""Issue 20 in the store, on SQLite and PostgreSQL: one answer the database refuses costs only itself;
NUL and lone surrogates from a server are stored (replaced, with a finding); origins whose slugs
collide (`a.b.example` / `a-b.example`) both get stored, and `host.` is `host`."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from index.probe.storable import REPLACEMENT, storable
from index.store.engine import dispose_engine, init_db
from index.store.pages import record_origin_pages
from index.store.write import record_probes
from index.urls import canonical_url, origin_of

UNSTORABLE = "nul\x00 and \ud800 lone"
SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"


def _challenge(url: str, text_value: str = "fine") -> dict[str, Any]:
    return {
        "x402_version": 2, "source": "header", "error": text_value,
        "resource": {"url": url, "description": text_value, "mime_type": "application/json", "service_name": None,
                     "tags": [text_value], "icon_url": None},
        "accepts": [{"scheme": "exact", "network": "eip155:84532", "network_caip2": "eip155:84532",
                     "amount_atomic": "1000", "asset": SEPOLIA_USDC, "pay_to": "0x2222222222222222222222222222222222222222",
                     "max_timeout_seconds": 300, "mime_type": None, "description": text_value,
                     "extra": {"name": "USDC", "version": "2", "note": text_value},
                     "output_schema": {"description": text_value, text_value: 1}}],
        "extensions": {"bazaar": {"info": {text_value: [text_value]}}}, "hints": {}, "findings": [],
    }


def _probe(url: str, minute: int = 1, text_value: str = "fine", **changes: Any) -> dict[str, Any]:
    probe = {"kind": "probe", "url": url, "method": "GET", "observed_at": f"2026-01-01T00:{minute:02d}:00+00:00",
             "outcome": "paid", "http_status": 402, "latency_ms": 1.5, "error_code": None,
             "headers": {"x-note": text_value}, "body": text_value, "challenge": _challenge(url, text_value),
             "sources": [{"kind": "seed", "url": "seeds"}], "attempt": 0, "final": True}
    probe.update(changes)
    return probe


def _rows(db_url: str, sql: str) -> list[Any]:
    engine = init_db(db_url)
    with engine.connect() as conn:
        return list(conn.execute(text(sql)))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_a_batch_with_one_poisoned_probe_stores_all_the_others(db_url: str) -> None:
    engine = init_db(db_url)
    # an attempt number no INTEGER column holds: SQLite and PostgreSQL both refuse the row
    poisoned = _probe("https://shop.example/poisoned", 3, attempt=2**70)
    batch = [_probe(f"https://shop.example/r/{i}", i) for i in range(3)] + [poisoned] + [_probe("https://other.example/z", 9)]
    counts = record_probes(engine, batch)
    assert counts == {"observations": 5, "new_resources": 5, "unstorable": 1}
    rows = {r.url: r for r in _rows(db_url, "SELECT r.url, r.status, o.outcome, o.error_code, o.findings, o.raw_body "
                                            "FROM observations o JOIN resources r ON r.id = o.resource_id")}
    assert len(rows) == 5
    for url, row in rows.items():
        if url.endswith("/poisoned"):
            assert (row.outcome, row.error_code, row.raw_body) == ("paid_invalid", "store_failed", None)
            assert [f["code"] for f in _json(row.findings)] == ["store_failed"]
        else:
            assert (row.status, row.outcome, row.error_code) == ("paid", "paid", None)
    # the next crawl's batch (the same endpoint refused again) still costs only itself
    again = record_probes(engine, [_probe("https://shop.example/r/0", 20), {**poisoned, "observed_at": "2026-01-01T00:21:00+00:00"}])
    assert again["unstorable"] == 1 and again["observations"] == 2
    dispose_engine(db_url)


def test_nul_and_lone_surrogates_are_stored_replaced_with_a_finding(db_url: str) -> None:
    engine = init_db(db_url)
    url = "https://shop.example/nul"
    record_probes(engine, [_probe(url, text_value=UNSTORABLE), _probe("https://shop.example/fine", 2)])
    [obs] = _rows(db_url, "SELECT o.raw_body, o.raw_headers, o.parsed, o.findings FROM observations o "
                          "JOIN resources r ON r.id = o.resource_id WHERE r.url = 'https://shop.example/nul'")
    clean = f"nul{REPLACEMENT} and {REPLACEMENT} lone"
    assert obs.raw_body == clean and _json(obs.raw_headers) == {"x-note": clean}
    parsed = _json(obs.parsed)
    accept = parsed["accepts"][0]
    assert accept["extra"]["note"] == clean and accept["output_schema"] == {"description": clean, clean: 1}
    assert parsed["extensions"] == {"bazaar": {"info": {clean: [clean]}}}
    assert "text_unstorable" in {f["code"] for f in _json(obs.findings)}
    [res] = _rows(db_url, "SELECT description, findings FROM resources WHERE url = 'https://shop.example/nul'")
    assert res.description == clean and "text_unstorable" in {f["code"] for f in _json(res.findings)}
    [opt] = _rows(db_url, "SELECT o.extra, o.description FROM payment_options o JOIN resources r ON r.id = o.resource_id "
                          "WHERE r.url = 'https://shop.example/nul'")
    assert _json(opt.extra)["note"] == clean and opt.description == clean
    dispose_engine(db_url)


def test_a_failed_probe_without_a_challenge_keeps_the_finding_on_its_observation(db_url: str) -> None:
    engine = init_db(db_url)
    record_probes(engine, [_probe("https://shop.example/t", outcome="server_error", http_status=500, challenge=None,
                                  body=UNSTORABLE)])
    [obs] = _rows(db_url, "SELECT raw_body, findings FROM observations")
    assert REPLACEMENT in obs.raw_body and [f["code"] for f in _json(obs.findings)] == ["text_unstorable"]
    dispose_engine(db_url)


def test_docs_pages_with_unstorable_text_are_stored(db_url: str) -> None:
    engine = init_db(db_url)
    record_origin_pages(engine, [
        {"kind": "page", "origin": "https://shop.example", "url": "https://shop.example/", "page_kind": "homepage",
         "fetched_at": "2026-01-01T00:00:00+00:00", "status": 200, "error_code": None, "content_type": "text/html",
         "extracted": {"title": UNSTORABLE, "text": UNSTORABLE}},
        {"kind": "page", "origin": "https://shop.example", "url": "https://shop.example/docs", "page_kind": "docs",
         "fetched_at": "2026-01-01T00:00:00+00:00", "status": 200, "error_code": None, "content_type": "text/html",
         "extracted": {"title": "Docs"}},
    ])
    rows = {r.url: _json(r.extracted) for r in _rows(db_url, "SELECT url, extracted FROM doc_pages")}
    assert rows["https://shop.example/"]["title"] == f"nul{REPLACEMENT} and {REPLACEMENT} lone"
    assert [f["code"] for f in rows["https://shop.example/"]["findings"]] == ["text_unstorable"]
    assert rows["https://shop.example/docs"] == {"title": "Docs"}
    [origin] = _rows(db_url, "SELECT title FROM origins")
    assert origin.title == f"nul{REPLACEMENT} and {REPLACEMENT} lone"
    dispose_engine(db_url)


def test_origins_whose_slugs_collide_are_both_stored(db_url: str) -> None:
    engine = init_db(db_url)
    # in one batch, and across batches (the second origin arriving in a later crawl)
    record_probes(engine, [_probe("https://a.b.example/x", 1), _probe("https://a-b.example/y", 2)])
    record_probes(engine, [_probe("https://a.b-example/z", 3)])
    record_origin_pages(engine, [{"kind": "page", "origin": "https://a-b-example", "url": "https://a-b-example/",
                                  "page_kind": "homepage", "fetched_at": "2026-01-01T00:00:00+00:00", "status": 200,
                                  "error_code": None, "content_type": "text/html", "extracted": {}}])
    origins = {r.url: r.slug for r in _rows(db_url, "SELECT url, slug FROM origins")}
    assert set(origins) == {"https://a.b.example", "https://a-b.example", "https://a.b-example", "https://a-b-example"}
    assert len(set(origins.values())) == 4
    assert origins["https://a.b.example"] == "a-b-example"
    assert all(s.startswith("a-b-example") for s in origins.values())
    assert len(_rows(db_url, "SELECT id FROM resources")) == 3
    dispose_engine(db_url)


def test_a_trailing_dot_names_the_same_host(db_url: str) -> None:
    assert canonical_url("https://Shop.Example./x?b=1&a=2") == "https://shop.example/x?a=2&b=1"
    assert origin_of("http://shop.example.:8080/") == "http://shop.example:8080"
    engine = init_db(db_url)
    record_probes(engine, [_probe("https://shop.example./x", 1), _probe("https://shop.example/x", 2)])
    assert [r.url for r in _rows(db_url, "SELECT url FROM origins")] == ["https://shop.example"]
    assert [r.url for r in _rows(db_url, "SELECT url FROM resources")] == ["https://shop.example/x"]
    dispose_engine(db_url)


def test_storable_replaces_only_what_no_database_stores() -> None:
    tree = {"k\x00": ["a", ("b\ud83d",), {"ok": "caf\u00e9 \U0001f600"}], "n": 1, "f": None}
    clean, changed = storable(tree)
    assert changed and clean == {f"k{REPLACEMENT}": ["a", (f"b{REPLACEMENT}",), {"ok": "caf\u00e9 \U0001f600"}], "n": 1, "f": None}
    same = {"a": ["b", {"c": "\U0001f600"}]}
    assert storable(same) == (same, False) and storable(same)[0] is same


def test_a_batch_that_loses_a_race_with_another_writer_is_written_again(pg_url: str) -> None:
    """Two workers' writers insert the same new origin at once (a distributed crawl): the loser's
    transaction fails on the unique index. That is a race, not a refusal of its probes: the batch is
    written again and stored whole, never kept as `store_failed`. Made deterministic on a real
    PostgreSQL: another transaction holds the origin's row uncommitted while record_probes inserts it."""
    import threading

    engine = init_db(pg_url)
    url = "https://race.example/r/1"
    other = engine.connect()
    tx = other.begin()
    other.execute(text("INSERT INTO origins (url, host, slug, first_seen) VALUES (:u, 'race.example', 'race-example', now())"),
                  {"u": origin_of(url)})
    result: dict[str, Any] = {}
    writer = threading.Thread(target=lambda: result.update(record_probes(engine, [_probe(url)])))
    writer.start()
    writer.join(1.0)
    assert writer.is_alive()  # waiting on the other transaction's row
    tx.commit()
    other.close()
    writer.join(30)
    assert result == {"observations": 1, "new_resources": 1}
    rows = _rows(pg_url, "SELECT o.outcome, o.error_code FROM observations o")
    assert [(r.outcome, r.error_code) for r in rows] == [("paid", None)]
    assert _rows(pg_url, "SELECT count(*) AS n FROM origins")[0].n == 1
    dispose_engine(pg_url)
