from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.probe.netguard import host_block_reason, ip_block_reason
from index.urls import _canonical_parsed, canonical_url, is_canonical_http, is_http_url, origin_of, resource_slug, slugify


def test_canonical_url() -> None:
    assert canonical_url("HTTPS://API.Example.com:443/v1/x?b=2&a=1#frag") == "https://api.example.com/v1/x?a=1&b=2"
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"
    assert origin_of("https://a.example/x/y?z=1") == "https://a.example"


def test_slugs_are_safe() -> None:
    assert resource_slug("https://api-beta.daydreams.systems/v1/chat/completions") == "api-beta-daydreams-systems-v1-chat-completions"
    assert resource_slug("https://api.rungate.ai/v1/chat/completions", "POST", with_method=True).startswith("post-")
    for hostile in ("../../etc/passwd", "%2e%2e%2f", "a\x00b", "/", "", "日本語"):
        slug = slugify(hostile)
        assert slug and "/" not in slug and ".." not in slug and "\x00" not in slug
        assert slug.isascii()
    assert len(slugify("x" * 500)) <= 80


def test_only_http_urls_are_links() -> None:
    assert is_http_url("https://a.example/x")
    for bad in ("javascript:alert(1)", "data:text/html,x", "ftp://a/b", "//a.example", None, 3):
        assert not is_http_url(bad)


@pytest.mark.parametrize("url, reason", [
    ("http://127.0.0.1/", "loopback"), ("http://2130706433/", "loopback"), ("http://0x7f.1/", "loopback"),
    ("http://127.1/", "loopback"), ("http://[::ffff:127.0.0.1]/", "loopback"), ("http://[64:ff9b::7f00:1]/", "loopback"),
    ("http://[2002:7f00:1::]/", "loopback"), ("http://localhost:8080/", "loopback"), ("http://10.0.0.1/", "private"),
    ("http://169.254.169.254/latest", "reserved"), ("http://100.64.0.1/", "reserved"), ("http://[fd00::1]/", "reserved"),
    ("http://user@example.com/", "userinfo"), ("file:///etc/passwd", "bad_scheme"), ("ftp://example.com/", "bad_scheme"),
])
def test_ssrf_guard_blocks_before_connecting(url: str, reason: str) -> None:
    assert host_block_reason(url) == reason


def test_ssrf_guard_allows_public_and_can_be_turned_off() -> None:
    assert host_block_reason("https://api.example.com/x") is None
    assert host_block_reason("https://8.8.8.8/") is None
    assert host_block_reason("http://127.0.0.1:8000/", allow_private=True) is None
    assert host_block_reason("file:///etc/passwd", allow_private=True) == "bad_scheme"
    assert ip_block_reason("1.1.1.1") is None
    assert ip_block_reason("224.0.0.1") == "multicast"


def _is_http_url_by_urlsplit(value: object) -> bool:
    """The rule itself, without is_http_url's fast path."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTPS://", " https://", "https:/", "http:", ""]),
       st.text(alphabet=st.sampled_from(list("a.-_:@/?#[]%\\ \t\n\r\x00\x7f~Zé\uff03\u2100")), max_size=12))
def test_the_fast_path_of_is_http_url_agrees_with_urlsplit(prefix: str, rest: str) -> None:
    value = prefix + rest
    assert is_http_url(value) == _is_http_url_by_urlsplit(value), repr(value)


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(["http://", "https://", "HTTP://", "https:/", "ftp://", ""]),
       st.text(alphabet=st.sampled_from(list("aZ09.-_:/?#;%@[] \t\x00é")), max_size=14),
       st.sampled_from(["", ":80", ":443", ":8080", ":0", ":080", ":65535", ":65536", ":99999", "."]),
       st.sampled_from(["", "/", "/x", "/a;b", "/x?", "/x#", "/%41", "/\\", "/~"]))
def test_the_fast_path_of_canonical_url_agrees_with_urlsplit(prefix: str, host: str, port: str, path: str) -> None:
    value = prefix + host + port + path
    if is_canonical_http(value):
        assert _canonical_parsed(value) == value, repr(value)
        assert origin_of(value) == "{0.scheme}://{0.netloc}".format(urlsplit(value)), repr(value)
