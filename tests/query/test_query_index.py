"""index.sqlite, the build's query-ready file: the same answers as index.json's path for every filter and
sort (on a synthetic build and on the demo fleet's), the same bytes for the same records, kept open and
opened again when a build replaces it, and a remote one cached and revalidated."""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from index.catalog.record import AcceptRecord, CatalogRecord, Health, HealthWindow
from index.query import sqlindex
from index.query.filters import SORTS, Query, filter_entries, load_entries, search, sort_entries
from index.site.build import build_site
from index.site.queryindex import QUERY_FILE
from tests.support.records import sample_record

TITLES = ["Weather · Forecast", "weather · radar", "Straße · Maps", "ÉCLAIR · Chat", "AI · Chat", "Zeta",
          "ai · embeddings", "Œuvre · Art"]
CATEGORIES = ["data", "ai", "weather", "crypto"]
STATUSES = ["paid", "other_protocol", "unreachable"]
TIERS = ["verified", "conformant", "indexed_external", "unreachable"]


def _record(i: int) -> CatalogRecord:
    base = sample_record()
    accept = base.accepts[0]
    second = AcceptRecord(**{**accept.model_dump(), "network": "base-sepolia", "network_caip2": "eip155:84532",
                             "network_name": "Base Sepolia", "testnet": True})
    verified = i % 5 == 0
    accepts = [accept.model_copy(update={"verified": verified,
                                         "verified_at": f"2026-11-{10 + i % 7:02d}T10:00:00Z" if verified else None})]
    if i % 3 == 0:
        accepts.append(second)
    price = [None, 0.0, 0.001, 0.01, 0.01, 1.0, 0.0005][i % 7]
    samples = [0, 3, 10, 10, 24][i % 5]
    up = [0, 3, 9, 10, 20][i % 5]
    windows = [HealthWindow(window="7d", samples=samples, up=up, uptime_pct=round(up / samples * 100, 2) if samples else None,
                            p50_latency_ms=[None, 120.5, 80.0, 80.0, 300.25][i % 5])]
    title = f"{TITLES[i % len(TITLES)]} {i % 4}"
    return sample_record(
        slug=f"r{i:03d}-example", title=title, url=f"https://h{i % 6}.example/v1/{i}", summary=f"Does thing {i % 9}",
        category=CATEGORIES[i % len(CATEGORIES)], status=STATUSES[i % len(STATUSES)], trust_tier=TIERS[i % len(TIERS)],
        method=["GET", "POST", "get"][i % 3], price_usd=price, tags=[["meteo"], [], ["llm", "Chat"], ["x"]][i % 4],
        accepts=accepts, networks=sorted({a.network_caip2 for a in accepts}),
        last_verified=accepts[0].verified_at, health=Health(window_end="2026-11-20T10:00:00Z", windows=windows),
        last_probed_at=None if i % 11 == 0 else "2026-11-20T10:00:00Z")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic") / "public"
    build_site([_record(i) for i in range(60)], out)
    return out


def json_answer(folder: Path, query: Query) -> list[dict[str, Any]]:
    """What the index.json path answers (index.query.filters without index.sqlite)."""
    rows = filter_entries(load_entries(folder), q=query.q, category=query.category, network=query.network,
                          max_price=query.max_price, status=query.status, method=query.method,
                          trust_tier=query.trust_tier, verified_only=query.verified_only, min_uptime=query.min_uptime)
    rows = sort_entries(rows, query.sort)
    return rows[:query.limit] if query.limit is not None else rows


def queries(entries: list[dict[str, Any]]) -> Iterator[Query]:
    """Every filter alone over the values the build holds (and values it does not), then pairs, each
    under every sort and with limits."""
    texts = ["chat", "CHAT", "weather forecast", "straße", "éclair", "œuvre", "ai", "a", "h3.example", "meteo",
             "thing 4", "zzz", "llm chat", "v1/1", "·"]
    single: list[dict[str, Any]] = [{}]
    single += [{"q": t} for t in texts]
    single += [{"category": c} for c in [*CATEGORIES, "AI", "search"]]
    single += [{"network": n} for n in ["base", "eip155:84532", "solana"]]
    single += [{"max_price": p} for p in [0.0, 0.001, 0.009, 1.0]]
    single += [{"status": s} for s in [*STATUSES, "PAID"]]
    single += [{"method": m} for m in ["get", "POST", "PUT"]]
    single += [{"trust_tier": t} for t in [*TIERS, "unknown", "Verified"]]
    single += [{"verified_only": True}, {"min_uptime": 0.0}, {"min_uptime": 90.0}, {"min_uptime": 100.0}]
    for filters, sort in itertools.product(single, [None, *SORTS]):
        yield Query(**filters, sort=sort)
    for a, b in itertools.combinations(single[1:], 2):
        if a.keys() != b.keys():
            yield Query(**a, **b, sort="price", limit=7)
    for limit in (0, 1, 5, 1000):
        for sort in [None, *SORTS]:
            yield Query(sort=sort, limit=limit)


def test_the_query_file_answers_as_index_json_does_on_a_synthetic_build(synthetic: Path) -> None:
    entries = load_entries(synthetic)
    assert len(entries) == 60 and (synthetic / QUERY_FILE).is_file()
    checked = Counter()
    for query in queries(entries):
        expected = json_answer(synthetic, query)
        assert search(synthetic, query) == expected, query
        checked["non-empty" if expected else "empty"] += 1
    # the grid is not vacuous: most answers hold rows, and the orders differ between sorts
    assert checked["non-empty"] > 2 * checked["empty"]
    orders = {sort: [e["slug"] for e in search(synthetic, Query(sort=sort))] for sort in [None, *SORTS]}
    assert len({tuple(o) for o in orders.values()}) == len(orders)


def test_a_search_opens_the_query_file_not_index_json(synthetic: Path, tmp_path: Path) -> None:
    copy = tmp_path / "public"
    shutil.copytree(synthetic, copy)
    (copy / "index.json").write_text("{}")  # not an index: only index.sqlite can answer
    assert len(search(copy, Query(q="chat"))) == len(json_answer(synthetic, Query(q="chat"))) > 0
    assert search(copy / "index.json", Query(sort="uptime", limit=3)) == json_answer(synthetic, Query(sort="uptime", limit=3))


def test_the_new_sorts_and_min_uptime(synthetic: Path) -> None:
    by_uptime = search(synthetic, Query(sort="uptime"))
    known = [e["uptime_7d_pct"] for e in by_uptime if e["uptime_7d_pct"] is not None]
    assert known == sorted(known, reverse=True) and by_uptime[-1]["uptime_7d_pct"] is None
    by_latency = search(synthetic, Query(sort="latency"))
    fast = [e["p50_latency_ms"] for e in by_latency if e["p50_latency_ms"] is not None]
    assert fast == sorted(fast) and fast[0] == 80.0 and by_latency[-1]["p50_latency_ms"] is None
    reliable = search(synthetic, Query(min_uptime=95))
    assert reliable and all(e["uptime_7d_pct"] >= 95 for e in reliable)
    assert {e["slug"] for e in reliable} == {e["slug"] for e in by_uptime if (e["uptime_7d_pct"] or 0) >= 95}


def test_an_older_build_without_the_file_answers_from_index_json(synthetic: Path, tmp_path: Path) -> None:
    copy = tmp_path / "public"
    shutil.copytree(synthetic, copy)
    (copy / QUERY_FILE).unlink()
    query = Query(q="chat", sort="latency")
    assert search(copy, query) == json_answer(synthetic, query) != []


def test_a_foreign_file_is_not_read(synthetic: Path, tmp_path: Path) -> None:
    copy = tmp_path / "public"
    shutil.copytree(synthetic, copy)
    con = sqlite3.connect(copy / QUERY_FILE)
    con.execute("CREATE VIEW extra AS SELECT 1")  # a schema this code did not make
    con.commit()
    con.close()
    with pytest.raises(sqlindex.NotAQueryIndex):
        sqlindex.QueryIndex(copy / QUERY_FILE)
    (copy / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlindex.NotAQueryIndex):
        sqlindex.QueryIndex(copy / "junk.sqlite")
    assert search(copy, Query(q="chat")) == json_answer(synthetic, Query(q="chat"))  # index.json answers


def test_the_same_records_give_the_same_bytes(tmp_path: Path) -> None:
    records = [_record(i) for i in range(20)]
    build_site(records, tmp_path / "one")
    build_site(list(records), tmp_path / "two")
    first = (tmp_path / "one" / QUERY_FILE).read_bytes()
    assert first == (tmp_path / "two" / QUERY_FILE).read_bytes()
    counts = build_site(records, tmp_path / "one")
    assert counts["written"] == 0 and (tmp_path / "one" / QUERY_FILE).read_bytes() == first
    build_site([*records[:19], records[19].model_copy(update={"title": "Renamed"})], tmp_path / "one")
    assert (tmp_path / "one" / QUERY_FILE).read_bytes() != first
    assert search(tmp_path / "one", Query(q="renamed"))[0]["slug"] == records[19].slug


def test_a_running_server_keeps_the_file_open_and_reopens_a_new_build(tmp_path: Path) -> None:
    from index.query.mcp import ServerConfig, Tools

    out = tmp_path / "public"
    build_site([_record(i) for i in range(10)], out)
    tools = Tools(ServerConfig(index=str(out), db=None))
    assert tools.search_resources(q="r003")["count"] == 0  # slugs are not searched
    first = tools.search_resources(sort="uptime", min_uptime_pct=90)
    opened = sqlindex.open_index(out / QUERY_FILE)
    assert tools.search_resources(sort="uptime", min_uptime_pct=90) == first
    assert sqlindex.open_index(out / QUERY_FILE) is opened  # the same connection, call after call
    build_site([_record(i).model_copy(update={"title": f"Fresh {i}"}) for i in range(10)], out)
    assert tools.search_resources(q="fresh")["count"] == 10
    assert sqlindex.open_index(out / QUERY_FILE) is not opened


def test_the_cli_sorts_by_uptime_and_filters_on_it(synthetic: Path) -> None:
    from typer.testing import CliRunner

    from index.cli.app import app

    result = CliRunner().invoke(app, ["query", "--index", str(synthetic), "--sort", "latency", "--min-uptime", "90",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json_answer(synthetic, Query(sort="latency", min_uptime=90)) != []


class _Counting(SimpleHTTPRequestHandler):
    """Serves a folder with ETag and Last-Modified, answers 304 to either validator, counts statuses."""

    statuses: Counter = Counter()

    def log_message(self, *args: object) -> None:
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        if self.path.endswith(QUERY_FILE):
            self.statuses[code] += 1
        super().send_response(code, message)

    def send_head(self) -> Any:
        path = Path(self.translate_path(self.path))
        if path.is_file():
            etag = f'"{path.stat().st_mtime_ns:x}-{path.stat().st_size:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return None
            self._etag = etag
        return super().send_head()

    def end_headers(self) -> None:
        etag = getattr(self, "_etag", None)
        if etag:
            self.send_header("ETag", etag)
        super().end_headers()


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    monkeypatch.setenv("X402_INDEX_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "public"
    folder.mkdir()
    _Counting.statuses = Counter()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Counting, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_file_is_downloaded_once_and_revalidated(served: tuple[Path, str], tmp_path: Path) -> None:
    folder, base = served
    build_site([_record(i) for i in range(12)], folder)
    query = Query(sort="price", limit=5)
    expected = json_answer(folder, query)
    assert search(base, query) == expected
    assert search(base + "index.json", query) == expected
    assert search(base, Query(q="chat")) == json_answer(folder, Query(q="chat"))
    assert _Counting.statuses == Counter({200: 1, 304: 2})
    assert len(list((tmp_path / "cache").rglob(QUERY_FILE))) == 1
    build_site([_record(i).model_copy(update={"title": f"Moved {i}"}) for i in range(12)], folder)
    assert len(search(base, Query(q="moved"))) == 12  # a new build: downloaded again
    assert _Counting.statuses == Counter({200: 2, 304: 2})


def test_a_remote_build_without_the_file_is_read_through_index_json(served: tuple[Path, str]) -> None:
    from index.query import remote

    folder, base = served
    build_site([_record(i) for i in range(12)], folder)
    (folder / QUERY_FILE).unlink()
    assert search(base, Query(q="chat")) == json_answer(folder, Query(q="chat")) != []
    assert _Counting.statuses == Counter({404: 1})
    build_site([_record(i) for i in range(12)], folder)  # the file is back; one larger than the cap is refused
    cap = remote.MAX_BYTES
    try:
        remote.MAX_BYTES = 1000
        with pytest.raises(ValueError, match="larger than 1000 bytes"):
            search(base, Query())
    finally:
        remote.MAX_BYTES = cap


def test_the_fleet_build_answers_alike_from_both_files(crawled_fleet: dict[str, Any]) -> None:
    out = crawled_fleet["out"]
    entries = load_entries(out)
    assert len(entries) > 10 and (out / QUERY_FILE).is_file()
    words = sorted({w for e in entries for w in e["title"].lower().split() if len(w) > 1})[:12]
    checked = 0
    for query in itertools.chain(queries(entries), (Query(q=w, sort=s) for w in words for s in [None, *SORTS])):
        expected = json_answer(out, query)
        assert search(out, query) == expected, query
        checked += bool(expected)
    assert checked > 100
