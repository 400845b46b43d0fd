"""ProbeSpider and its origin discovery, one callback at a time: Scrapy's get_crawler with the
project's settings, responses built by hand. The queue (what is probed once), the sources (where a
resource was heard of), the walk of a probe plan (a 400, then the body), a facilitator's pages and an
origin's files, which the end-to-end crawls otherwise cover only as a whole."""

from __future__ import annotations

import json
from typing import Any

from scrapy.http import Request
from twisted.python.failure import Failure

from crawler import stats
from crawler.spiders.probe import ProbeSpider
from index.store.items import invalid_fields
from tests.support.spider_support import answer, items_of, make_spider, paid, requests_of, start

NO_ORIGINS = {"X402_DISCOVER_ORIGINS": False}
SEED = {"kind": "seed", "url": "seeds.yaml"}
FACILITATOR = "https://fac.example/discovery/resources"
USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"


def counts(spider: ProbeSpider) -> dict[str, Any]:
    return {k: v for k, v in spider.crawler.stats.get_stats().items() if k.startswith("x402/")}


def listing(*urls: str, total: int | None = None, limit: int = 2) -> bytes:
    items = [{"resource": u, "type": "http", "x402Version": 2,
              "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "1000", "asset": USDC, "payTo": PAY_TO,
                           "maxTimeoutSeconds": 60}]} for u in urls]
    page: dict[str, Any] = {"x402Version": 2, "items": items}
    if total is not None:
        page["pagination"] = {"limit": limit, "total": total}
    return json.dumps(page).encode()


# -- the queue --------------------------------------------------------------------------------------


def test_each_resource_is_queued_once_and_bad_urls_are_counted() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[
        {"url": "https://a.example/v1/x?b=2&a=1", "source": SEED},
        {"url": "https://A.example:443/v1/x?a=1&b=2", "source": {"kind": "docs", "url": "https://a.example/docs"}},
        {"url": "https://a.example/v1/x?a=1&b=2", "method": "POST"},
        {"url": "https://a.example:99999/v1/y"},
    ])
    requests = requests_of(start(spider))
    assert [(r.method, r.url) for r in requests] == [("GET", "https://a.example/v1/x?a=1&b=2"),
                                                     ("POST", "https://a.example/v1/x?a=1&b=2")]
    assert counts(spider) == {stats.QUEUED: 2, stats.DUPLICATE: 1, stats.BAD_URL: 1}
    # the duplicate's source is kept for the probe still to come: both land on the observation
    (item,) = items_of(list(spider.parse_probe(paid(requests[0]))), "probe")
    assert item["sources"] == [SEED, {"kind": "docs", "url": "https://a.example/docs"}]


def test_a_402_is_one_final_attempt_with_its_challenge() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x", "source": SEED}])
    (request,) = requests_of(start(spider))
    (item,) = items_of(list(spider.parse_probe(paid(request))))
    assert (item["outcome"], item["http_status"], item["final"], item["resource_method"]) == ("paid", 402, True, "GET")
    assert item["challenge"]["accepts"][0]["amount_atomic"] == "1000"
    assert item["sources"] == [SEED] and item["attempt"] == 0 and invalid_fields(item) == []
    assert counts(spider) == {stats.QUEUED: 1, stats.ATTEMPTS: 1, stats.OUTCOME + "paid": 1}


def test_a_400_then_the_example_body_walks_the_plan_and_keeps_every_attempt() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/search", "body": {"q": "weather"},
                                                  "source": SEED}])
    (first,) = requests_of(start(spider))
    assert (first.method, first.body) == ("GET", b"")  # the plan: as declared (nothing: GET) first
    out = list(spider.parse_probe(answer(first, 400, '{"error": "use POST"}')))
    assert items_of(out) == []  # nothing is yielded until the probe ends
    (empty,) = requests_of(out)
    assert (empty.method, json.loads(empty.body), empty.meta["attempt"]) == ("POST", {}, 1)
    (example,) = requests_of(list(spider.parse_probe(answer(empty, 422, '{"error": "q is required"}'))))
    assert (example.method, json.loads(example.body), example.meta["attempt"]) == ("POST", {"q": "weather"}, 2)
    items = items_of(list(spider.parse_probe(paid(example))))
    assert [(i["attempt"], i["method"], i["http_status"], i["final"]) for i in items] == [
        (0, "GET", 400, False), (1, "POST", 422, False), (2, "POST", 402, True)]
    assert [i["outcome"] for i in items] == ["unprobeable", "unprobeable", "paid"]
    assert {i["resource_method"] for i in items} == {"POST"}  # the method that got the 402
    # the source carries what it declared: the catalog falls back on that example when the 402 has none
    assert all(i["sources"] == [{**SEED, "declared": {"example_body": {"q": "weather"}}}] for i in items)
    assert all(invalid_fields(i) == [] for i in items)
    got = counts(spider)
    assert (got[stats.REATTEMPTS], got[stats.ATTEMPTS], got[stats.OUTCOME + "paid"]) == (2, 3, 1)
    assert stats.OUTCOME + "unprobeable" not in got  # one outcome per probe, the final one


def test_every_way_refused_is_unprobeable() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x"}])
    (request,) = requests_of(start(spider))
    items: list[dict[str, Any]] = []
    while request is not None:
        out = list(spider.parse_probe(answer(request, 405)))
        items += items_of(out)
        request = (requests_of(out) or [None])[0]  # type: ignore[assignment]
    assert len(items) >= 2 and items[-1]["final"] and not any(i["final"] for i in items[:-1])
    assert items[-1]["outcome"] == "unprobeable" and {i["resource_method"] for i in items} == {"GET"}
    assert counts(spider)[stats.OUTCOME + "unprobeable"] == 1


def test_a_get_refused_then_paid_by_post_is_the_post_resource_afterwards() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x", "source": SEED}])
    (get,) = requests_of(start(spider))
    (post,) = requests_of(list(spider.parse_probe(answer(get, 405))))
    assert post.method == "POST"
    items = items_of(list(spider.parse_probe(paid(post))))
    assert [i["resource_method"] for i in items] == ["POST", "POST"]
    # a source naming "POST url" later is the same resource: a sighting, not a second probe
    later = list(spider.candidate_requests([{"url": "https://a.example/v1/x", "method": "POST",
                                             "source": {"kind": "docs", "url": "https://a.example/docs"}}]))
    assert requests_of(later) == []
    (sighting,) = items_of(later, "source")
    assert (sighting["url"], sighting["method"], sighting["source"]) == (
        "https://a.example/v1/x", "POST", {"kind": "docs", "url": "https://a.example/docs"})
    assert invalid_fields(sighting) == []


def test_a_source_after_the_probe_is_a_sighting_with_its_claims() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x", "source": SEED}])
    (request,) = requests_of(start(spider))
    list(spider.parse_probe(paid(request)))
    again = [{"url": "https://a.example/v1/x", "source": {"kind": "openapi", "url": "https://a.example/openapi.json"},
              "declared": {"price_usd": "0.001"}}]
    (sighting,) = list(spider.candidate_requests(again))
    assert sighting["kind"] == "source"
    assert sighting["source"] == {"kind": "openapi", "url": "https://a.example/openapi.json",
                                  "declared": {"price_usd": "0.001"}}
    assert list(spider.candidate_requests([{"url": "https://a.example/v1/x"}])) == []  # no source: nothing to add
    assert counts(spider)[stats.QUEUED] == 1


def test_known_resources_are_not_probed_but_their_sources_are_kept() -> None:
    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x", "source": SEED}],
                         known=[("https://a.example/v1/x", "get")])
    out = start(spider)
    assert requests_of(out) == []
    assert [(i["kind"], i["url"], i["method"]) for i in items_of(out)] == [("source", "https://a.example/v1/x", "GET")]


def test_a_failed_download_is_an_item_with_its_code() -> None:
    from twisted.internet.error import ConnectionRefusedError

    spider = make_spider(NO_ORIGINS, candidates=[{"url": "https://a.example/v1/x"}])
    (request,) = requests_of(start(spider))
    failure = Failure(ConnectionRefusedError("refused"))
    failure.request = request  # type: ignore[attr-defined]
    (item,) = items_of(list(spider.probe_failed(failure)))
    assert (item["outcome"], item["http_status"], item["final"]) == ("unreachable", None, True)
    assert item["error_code"] and invalid_fields(item) == []


# -- a facilitator's pages --------------------------------------------------------------------------


def test_a_facilitator_page_queues_its_items_and_asks_for_the_next_page() -> None:
    spider = make_spider({**NO_ORIGINS, "X402_DISCOVERY_PAGE_SIZE": 2}, facilitators=[FACILITATOR])
    (first,) = requests_of(start(spider))
    assert first.url.startswith(FACILITATOR) and first.meta["offset"] == 0
    out = list(spider.parse_discovery(answer(first, 200, listing("https://b.example/p/1", "https://b.example/p/2",
                                                                   total=3))))
    probes = [r for r in requests_of(out) if r.meta.get("queue_key")]
    pages = [r for r in requests_of(out) if "facilitator" in r.meta]
    assert [r.url for r in probes] == ["https://b.example/p/1", "https://b.example/p/2"]
    assert probes[0].meta["candidate"]["source"]["kind"] == "facilitator"
    assert [r.meta["offset"] for r in pages] == [2]
    out = list(spider.parse_discovery(answer(pages[0], 200, listing("https://b.example/p/2", "https://b.example/p/3",
                                                                      total=3))))
    assert [r.url for r in requests_of(out)] == ["https://b.example/p/3"]  # p/2 already queued; the last page
    assert counts(spider) == {stats.DISCOVERY_PAGES: 2, stats.DISCOVERY_ITEMS: 4, stats.QUEUED: 3, stats.DUPLICATE: 1}


def test_a_facilitator_page_that_is_not_json_is_counted() -> None:
    spider = make_spider(NO_ORIGINS, facilitators=[FACILITATOR])
    (first,) = requests_of(start(spider))
    assert list(spider.parse_discovery(answer(first, 200, "<html>maintenance</html>"))) == []
    assert counts(spider) == {stats.DISCOVERY_PAGES: 1, stats.DISCOVERY_INVALID_JSON: 1}


# -- what an origin says about itself ---------------------------------------------------------------

HOMEPAGE = """<!doctype html><html><head><title>Beta Weather</title>
<meta name="description" content="Forecasts by the call"></head><body>
<a href="/docs/api">API docs</a> <a href="https://elsewhere.example/docs">Their docs</a>
<pre><code>curl -X POST https://b.example/v1/forecast -H "Content-Type: application/json" -d '{"city": "Lisbon"}'</code></pre>
<pre><code>curl https://other.example/v1/steal</code></pre>
</body></html>"""


def origin_files(spider: ProbeSpider, url: str) -> dict[str, Request]:
    return {r.meta["page_kind"] + ":" + r.url.rsplit("/", 1)[1]: r for r in spider.origin_requests(url)}


def test_an_origin_is_discovered_once_with_its_files() -> None:
    spider = make_spider(candidates=[{"url": "https://b.example/v1/a"}, {"url": "https://b.example/v1/b"}])
    out = requests_of(start(spider))
    kinds = sorted(r.meta.get("page_kind") for r in out if "page_kind" in r.meta)
    assert kinds == ["homepage", "llms_txt", "openapi", "openapi", "well_known", "well_known"]
    assert counts(spider)[stats.ORIGINS_DISCOVERED] == 1
    by_kind = {r.meta["page_kind"]: r for r in out if "page_kind" in r.meta}
    assert by_kind["well_known"].meta["dont_obey_robotstxt"] is True  # read by x402 clients by design
    assert by_kind["homepage"].meta["dont_obey_robotstxt"] is False


def test_an_api_subdomain_also_reads_its_parent_homepage() -> None:
    spider = make_spider()
    files = origin_files(spider, "https://api.b.example/v1/x")
    parent = [r for key, r in files.items() if key.startswith("parent_homepage")]
    assert [r.url for r in parent] == ["https://b.example/"] and parent[0].meta["origin"] == "https://api.b.example"


def test_a_homepage_yields_its_page_its_examples_and_its_docs_links() -> None:
    spider = make_spider({"X402_DOCS_PAGES": 5})
    home = origin_files(spider, "https://b.example/")["homepage:"]
    out = list(spider.parse_origin_file(answer(home, 200, HOMEPAGE, {"Content-Type": "text/html"}, html=True)))
    (page,) = items_of(out, "page")
    assert (page["page_kind"], page["status"], page["extracted"]["title"]) == ("homepage", 200, "Beta Weather")
    assert invalid_fields(page) == []
    requests = requests_of(out)
    favicon = [r for r in requests if r.meta.get("page_kind") == "favicon"]
    docs = [r for r in requests if r.meta.get("page_kind") == "docs"]
    probes = [r for r in requests if r.meta.get("queue_key")]
    assert [r.url for r in favicon] == ["https://b.example/favicon.ico"]  # the page names no icon
    assert [r.url for r in docs] == ["https://b.example/docs/api"]  # same origin only
    assert [(r.method, r.url, json.loads(r.body)) for r in probes] == [("POST", "https://b.example/v1/forecast",
                                                                         {"city": "Lisbon"})]
    assert probes[0].meta["candidate"]["source"] == {"kind": "docs", "url": "https://b.example/"}
    assert counts(spider)[stats.CROSS_ORIGIN_DROPPED] == 1


def test_docs_pages_stop_at_the_origins_budget() -> None:
    spider = make_spider({"X402_DOCS_PAGES": 1})
    home = origin_files(spider, "https://b.example/")["homepage:"]
    page = HOMEPAGE.replace('<a href="/docs/api">API docs</a>',
                            '<a href="/docs/api">API docs</a> <a href="/docs/pricing">Pricing</a>')
    out = list(spider.parse_origin_file(answer(home, 200, page, {"Content-Type": "text/html"}, html=True)))
    assert len([r for r in requests_of(out) if r.meta.get("page_kind") == "docs"]) == 1


def test_a_well_known_file_lists_candidates_of_its_origin_only() -> None:
    spider = make_spider()
    wk = origin_files(spider, "https://shop.example/")["well_known:x402"]
    body = json.dumps({"version": 1, "resources": ["https://shop.example/api/weather", "POST /api/search",
                                                  "https://evil.example/api/steal"]})
    out = list(spider.parse_origin_file(answer(wk, 200, body, {"Content-Type": "application/json"})))
    (page,) = items_of(out, "page")
    assert page["page_kind"] == "well_known" and page["extracted"]["candidates"] == 2
    probes = [r for r in requests_of(out) if r.meta.get("queue_key")]
    assert [(r.method, r.url) for r in probes] == [("GET", "https://shop.example/api/weather"),
                                                  ("POST", "https://shop.example/api/search")]
    assert {r.meta["candidate"]["source"]["kind"] for r in probes} == {"well_known"}


def test_a_missing_or_failed_file_is_still_a_page_item() -> None:
    from twisted.internet.error import TimeoutError as TxTimeout

    spider = make_spider()
    files = origin_files(spider, "https://b.example/")
    out = list(spider.parse_origin_file(answer(files["llms_txt:llms.txt"], 404, "not here")))
    assert [(i["page_kind"], i["status"], i["extracted"]) for i in out] == [("llms_txt", 404, {})]
    request = files["openapi:openapi.json"]
    failure = Failure(TxTimeout("slow"))
    failure.request = request  # type: ignore[attr-defined]
    (item,) = list(spider.origin_file_failed(failure))
    assert (item["page_kind"], item["status"], item["url"]) == ("openapi", None, request.url)
    assert item["error_code"] and invalid_fields(item) == []
    assert counts(spider)[stats.ORIGINS_FAILED + "openapi"] == 1


def test_a_favicon_that_is_not_an_image_is_recorded_as_such() -> None:
    spider = make_spider()
    icon = Request("https://b.example/favicon.ico", meta={"origin": "https://b.example", "page_kind": "favicon"})
    (item,) = list(spider.parse_favicon(answer(icon, 200, "<html>", {"Content-Type": "text/html"})))
    assert (item["status"], item["error_code"]) == (None, "not_an_image")
    (item,) = list(spider.parse_favicon(answer(icon, 200, b"\x00\x00\x01\x00", {"Content-Type": "image/x-icon"})))
    assert (item["status"], item["error_code"]) == (200, None) and invalid_fields(item) == []
