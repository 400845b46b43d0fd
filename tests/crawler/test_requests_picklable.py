"""Crawl requests survive serialization (Scrapy's disk queues, a shared frontier such as
scrapy-redis), and the scheduler is a setting, so a shared frontier is a configuration change."""

from __future__ import annotations

import pickle

from scrapy.http import Request
from scrapy.utils.request import request_from_dict
from scrapy.utils.test import get_crawler

from crawler.discovery.seeds import seed_candidate
from crawler.spiders.probe import ProbeSpider


def _spider() -> ProbeSpider:
    crawler = get_crawler(ProbeSpider, settings_dict={"X402_DB_URL": "sqlite://"})
    return crawler._create_spider(candidates=[])  # type: ignore[attr-defined]


def test_probe_requests_round_trip_through_pickle() -> None:
    spider = _spider()
    cands = [seed_candidate("GET https://a.example/v1/x?q=1", "test"), seed_candidate("POST https://a.example/v1/y", "test")]
    requests = [r for r in spider.candidate_requests(cands) if isinstance(r, Request)]
    probes = [r for r in requests if r.callback == spider.parse_probe]
    assert len(probes) == 2
    for req in probes:
        data = pickle.loads(pickle.dumps(req.to_dict(spider=spider)))
        back = request_from_dict(data, spider=spider)
        assert (back.url, back.method, back.body) == (req.url, req.method, req.body)
        assert back.callback == spider.parse_probe and back.errback == spider.probe_failed
        assert back.meta["queue_key"] == req.meta["queue_key"]


def test_the_scheduler_is_a_setting() -> None:
    from crawler import settings

    assert settings.SCHEDULER == "scrapy.core.scheduler.Scheduler"
