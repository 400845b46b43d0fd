"""Query-string variants of one endpoint with the same terms are one catalog resource, whose example
request carries the variant's query; different terms stay apart."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from index.catalog.variants import fold_query_variants, terms_of
from tests.support.seed_site import Site, crawl_and_build, paid, serve

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)


def _terms(amount: str, pay_to: str = "0xA") -> frozenset[tuple[str, str, str, str]]:
    return terms_of([SimpleNamespace(network_caip2="eip155:8453", asset="0xUSDC", amount_atomic=amount, pay_to=pay_to)])


def test_variants_fold_only_with_the_same_terms_and_method() -> None:
    folded, urls = fold_query_variants([
        (2, "https://a.example/api/news?topic=defi", "GET", _terms("10")),
        (1, "https://a.example/api/news", "GET", _terms("10")),  # stored first: kept (its slug stays)
        (3, "https://a.example/api/news?topic=nft", "GET", _terms("20")),  # another price: its own resource
        (4, "https://a.example/api/news?x=1", "POST", _terms("10")),  # another method
        (5, "https://a.example/api/other?topic=defi", "GET", _terms("10")),
    ])
    assert folded == {2} and urls == {1: "https://a.example/api/news?topic=defi"}
    assert fold_query_variants([(1, "https://a.example/x?a=1", "GET", frozenset()),
                                (2, "https://a.example/x", "GET", frozenset())]) == (set(), {})
    assert _terms("10", "0xAbC") == _terms("10", "0xabc")  # EVM case does not make terms differ


def test_one_record_for_two_query_variants(tmp_path: Path) -> None:
    site = Site()
    site.routes["/api/news"] = paid(lambda: site.url, "/api/news", "GET")
    with serve(site):
        records = crawl_and_build(site.url, [f"GET {site.url}/api/news", f"GET {site.url}/api/news?topic=defi"], tmp_path)
    [record] = records  # whichever the crawl stored first (the two probes run concurrently) is kept
    assert record.url in (f"{site.url}/api/news", f"{site.url}/api/news?topic=defi")
    assert record.example_request.url == f"{site.url}/api/news?topic=defi"
    assert record.example_prompt == "Get news for topic defi."
