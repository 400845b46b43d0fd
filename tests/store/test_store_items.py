"""The spider-store contract (index.store.items): what the spiders yield fits it, what breaks it is
counted per field in the crawl stats and dropped by the pipeline, never written, never fatal."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from scrapy.exceptions import DropItem

from crawler import stats
from crawler.pipelines import StorePipeline
from crawler.spiders.origins import page_item
from crawler.spiders.probe import source_item
from index.store.items import invalid_fields
from tests.support.spider_support import answer, items_of, make_spider, paid, requests_of, start


def _probe_items() -> list[dict[str, Any]]:
    spider = make_spider({"X402_DISCOVER_ORIGINS": False},
                         candidates=[{"url": "https://a.example/v1/x", "source": {"kind": "seed", "url": "seeds.yaml"}},
                                     {"url": "https://a.example/v1/y"}])
    first, second = requests_of(start(spider))
    out = list(spider.parse_probe(paid(first)))
    out += list(spider.parse_probe(answer(second, 404, "no")))
    return items_of(out, "probe")


def test_what_the_spiders_yield_fits_the_contract() -> None:
    items = _probe_items()
    items += [page_item("https://a.example", "https://a.example/", "homepage", status=200, content_type="text/html",
                        extracted={"title": "A"}),
              page_item("https://a.example", "https://a.example/llms.txt", "llms_txt", error_code="timeout"),
              source_item(("https://a.example/v1/x", "GET"), {"kind": "docs", "url": "https://a.example/docs"})]
    assert len(items) == 5
    for item in items:
        assert invalid_fields(item) == [], item


@pytest.mark.parametrize(("change", "bad"), [
    ({"outcome": "maybe"}, ["outcome"]),  # not an Outcome: the writer would refuse the whole batch
    ({"url": "ftp://a.example/x"}, ["url"]),
    ({"url": "https://a.example:99999/x"}, ["url"]),  # the writer cannot canonicalize it
    ({"attempt": "0"}, ["attempt"]),
    ({"attempt": True}, ["attempt"]),  # a bool is not a position
    ({"http_status": 402.0}, ["http_status"]),
    ({"headers": {"server": 1}}, ["headers"]),
    ({"sources": [{"kind": "seed"}, "seeds.yaml"]}, ["sources"]),
    ({"challenge": []}, ["challenge"]),
    ({"final": "yes"}, ["final"]),
    ({"latency_ms": 12}, []),  # an int is a fine number of milliseconds
    ({"latency_ms": None, "body": None, "challenge": None}, []),
])
def test_a_wrong_type_or_value_names_its_field(change: dict[str, Any], bad: list[str]) -> None:
    item = {**_probe_items()[0], **change}
    assert invalid_fields(item) == bad


def test_missing_fields_and_unknown_kinds() -> None:
    item = _probe_items()[0]
    del item["observed_at"], item["outcome"]
    assert invalid_fields(item) == ["observed_at", "outcome"]
    assert invalid_fields({"kind": "page", "origin": "https://a.example"}) == [
        "url", "page_kind", "fetched_at", "status", "error_code", "content_type", "extracted"]
    assert invalid_fields({"kind": "other"}) == ["kind"]
    assert invalid_fields({"url": "https://a.example/"}) == ["kind"]
    assert invalid_fields(["kind", "probe"]) == ["kind"]
    optional = {k: v for k, v in _probe_items()[0].items() if k not in ("final", "resource_method")}
    assert invalid_fields(optional) == []  # the writer has defaults for these two


def test_the_pipeline_counts_and_drops_an_invalid_item_and_keeps_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider({"X402_STORE_BATCH": 1000})
    pipeline = StorePipeline(spider.crawler)  # never opened: nothing reaches a writer in this test
    good, other = _probe_items()
    bad = {**good, "outcome": "maybe", "headers": None}
    with caplog.at_level(logging.ERROR, logger="crawler.pipelines"):
        with pytest.raises(DropItem):
            asyncio.run(pipeline.process_item(bad))
        assert asyncio.run(pipeline.process_item(good)) is good
        with pytest.raises(DropItem):
            asyncio.run(pipeline.process_item({"kind": "page", "origin": "https://a.example"}))
        asyncio.run(pipeline.process_item(other))
    assert pipeline.buffer == [good, other]
    got = {k: v for k, v in spider.crawler.stats.get_stats().items() if k.startswith(stats.VALIDATION)}
    assert got == {stats.VALIDATION + "outcome": 1, stats.VALIDATION + "headers": 1, stats.VALIDATION + "url": 1,
                   stats.VALIDATION + "page_kind": 1, stats.VALIDATION + "fetched_at": 1, stats.VALIDATION + "status": 1,
                   stats.VALIDATION + "error_code": 1, stats.VALIDATION + "content_type": 1,
                   stats.VALIDATION + "extracted": 1}
    lines = [r.getMessage() for r in caplog.records if r.name == "crawler.pipelines"]
    assert len(lines) == 2
    assert "dropped an invalid probe item (outcome, headers)" in lines[0] and good["url"] in lines[0]
    assert all(len(line) < 400 for line in lines)  # one short line, never the item's body
