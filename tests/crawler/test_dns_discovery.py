"""DNS TXT `_x402.<domain>`: every known form parsed, SSRF rules on every URL, and real lookups
against a DNS server on loopback (dnslib), never the internet."""

from __future__ import annotations

import socket

import pytest
from dnslib.server import DNSLogger, DNSServer
from dnslib.zoneresolver import ZoneResolver

from crawler.discovery.dns import (
    Pointer,
    discover_domain,
    domain_ok,
    lookup_txt,
    parse_txt,
    pointers_from_txt,
    txt_name,
)

LONG = "https://shop.example.test/" + "a" * 300  # longer than one 255-byte character-string

ZONE = f"""
_x402.example.test. 300 IN TXT "v=x4021;url=https://example.test/.well-known/x402"
_x402.example.test. 300 IN TXT "google-site-verification=abc"
_x402.shop.example.test. 300 IN TXT "v=x4021;descriptor=tshirt;url=https://shop.example.test/x402-discovery"
_x402.shop.example.test. 300 IN TXT "v=x402-1; wk=/.well-known/x402"
_x402.old.example.test. 300 IN TXT "https://old.example.test/.well-known/x402"
_x402.evil.example.test. 300 IN TXT "v=x4021;url=http://169.254.169.254/latest/meta-data"
_x402.evil.example.test. 300 IN TXT "v=x4021;url=https://elsewhere.test/.well-known/x402"
_x402.long.example.test. 300 IN TXT "{LONG[:200]}" "{LONG[200:]}"
"""


@pytest.fixture(scope="module")
def nameserver():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = DNSServer(ZoneResolver(ZONE), address="127.0.0.1", port=port,
                       logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"))
    server.start_thread()
    try:
        yield [("127.0.0.1", port)]
    finally:
        server.stop()


def test_txt_found_through_the_local_dns_server(nameserver):
    found = discover_domain("example.test", nameserver, timeout=2)
    assert found.error is None
    assert found.pointers == [Pointer("https://example.test/.well-known/x402", "x4021")]
    assert found.rejected == []  # the unrelated record is simply not ours


def test_descriptor_and_foundation_form(nameserver):
    found = discover_domain("shop.example.test", nameserver, timeout=2)
    assert [p.as_json() for p in found.pointers] == [
        {"url": "https://shop.example.test/x402-discovery", "form": "x4021", "descriptor": "tshirt"},
        {"url": "https://shop.example.test/.well-known/x402", "form": "x402-1"},
    ]


def test_bare_url_form(nameserver):
    assert discover_domain("old.example.test", nameserver, timeout=2).pointers[0].form == "bare_url"


def test_ssrf_and_cross_domain_pointers_are_refused(nameserver):
    found = discover_domain("evil.example.test", nameserver, timeout=2)
    assert found.pointers == []
    assert sorted(r["reason"] for r in found.rejected) == ["blocked:reserved", "cross_domain"]


def test_long_record_strings_are_joined(nameserver):
    records, error = lookup_txt("long.example.test", nameserver, timeout=2)
    assert error is None and records == [LONG]


def test_missing_name_is_nxdomain(nameserver):
    found = discover_domain("nothing.example.test", nameserver, timeout=2)
    assert found.pointers == [] and found.error == "nxdomain"


def test_blocked_domains_are_never_queried(nameserver):
    for domain in ("localhost", "127.0.0.1", "[::1]", "a..b", "x" * 300 + ".test", "metadata"):
        assert lookup_txt(domain, nameserver, timeout=2) == ([], "bad_domain")
    assert not domain_ok("foo.localhost")
    assert domain_ok("api.example.com")


@pytest.mark.parametrize("text, url, form", [
    ("v=x4021;url=https://example.com/.well-known/x402", "https://example.com/.well-known/x402", "x4021"),
    ('"V=X4021; URL=https://example.com/x402 ;"', "https://example.com/x402", "x4021"),
    ("v=x402-1; wk=https://api.example.com/.well-known/x402", "https://api.example.com/.well-known/x402", "x402-1"),
    ("v=x402-1; wk=/.well-known/x402", "https://example.com/.well-known/x402", "x402-1"),
    ("https://example.com/.well-known/x402", "https://example.com/.well-known/x402", "bare_url"),
])
def test_forms(text, url, form):
    pointer, reason = parse_txt(text, "example.com")
    assert reason is None and (pointer.url, pointer.form) == (url, form)


@pytest.mark.parametrize("text, reason", [
    ("v=spf1 include:_spf.example.com ~all", "not_x402"),
    ("v=DKIM1; k=rsa; p=MIGf", "not_x402"),
    ("v=x4021;descriptor=api", "bad_url"),
    ("v=x4021;url=ftp://example.com/x", "bad_url"),
    ("v=x4021;url=https://user:pw@example.com/x", "bad_url"),
    ("v=x4021;url=http://127.0.0.1:8080/.well-known/x402", "blocked:loopback"),
    ("v=x4021;url=https://example.com:6379/x", "blocked:bad_port"),
    ("https://localhost/.well-known/x402", "blocked:loopback"),
    ("v=x4021;url=https://example.com.evil.net/x", "cross_domain"),
    ("v=x4021;url=https://notexample.com/x", "cross_domain"),
])
def test_refused_records(text, reason):
    pointer, why = parse_txt(text, "example.com")
    assert pointer is None and why == reason


def test_subdomain_pointer_is_kept_and_private_allowed_only_when_asked():
    assert parse_txt("v=x4021;url=https://api.example.com/x", "example.com")[0] is not None
    found = pointers_from_txt("example.com", ["v=x4021;url=http://127.0.0.1:9/x"], allow_private=True)
    assert found.pointers == [] and found.rejected[0]["reason"] == "cross_domain"
    found = pointers_from_txt("demo.localtest", ["v=x4021;url=http://demo.localtest:8402/.well-known/x402"], allow_private=True)
    assert found.pointers[0].url == "http://demo.localtest:8402/.well-known/x402"


def test_duplicates_and_bounds():
    records = ["v=x4021;url=https://example.com/x"] * 3 + ["junk\u0000"] + ["v=x4021;url=https://example.com/y"] * 20
    found = pointers_from_txt("example.com.", records)
    assert [p.url for p in found.pointers] == ["https://example.com/x", "https://example.com/y"]
    assert txt_name("Example.COM.") == "_x402.example.com"


def test_the_crawl_reads_what_the_txt_points_at(nameserver):
    """The origin-discovery callback, offline: after an origin's /.well-known/x402, its host's TXT
    pointers become well-known requests (and a new origin's discovery), through the same guard."""
    import asyncio

    from scrapy.utils.test import get_crawler

    from crawler.spiders.probe import ProbeSpider

    ns = f"{nameserver[0][0]}:{nameserver[0][1]}"
    crawler = get_crawler(ProbeSpider, {"X402_DNS_NAMESERVERS": [ns], "X402_DNS_TIMEOUT": 2})
    crawler._apply_settings()
    spider = ProbeSpider.from_crawler(crawler)

    requests = asyncio.run(spider._dns_requests("https://shop.example.test"))
    pointer = [r for r in requests if r.meta.get("dns_pointer")]
    assert [r.url for r in pointer] == ["https://shop.example.test/x402-discovery"]  # the standard path was read already
    assert pointer[0].meta["page_kind"] == "well_known" and pointer[0].meta["origin"] == "https://shop.example.test"
    assert pointer[0].callback == spider.parse_origin_file
    assert crawler.stats.get_value("x402/dns/pointers") == 2 and crawler.stats.get_value("x402/dns/answered") == 1

    assert asyncio.run(spider._dns_requests("https://evil.example.test")) == []
    assert crawler.stats.get_value("x402/dns/rejected") == 2
    assert asyncio.run(spider._dns_requests("http://127.0.0.1:8080")) == []  # IP literal: never asked
    assert crawler.stats.get_value("x402/dns/lookups") == 2
