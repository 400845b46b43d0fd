"""Issue 20 for test-buy (and so the MCP `test_buy` tool): compressed answers are decoded with a
bound on the output, whatever the encoding and however many layers, and `--timeout` bounds the
whole exchange, not each read."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import brotli
import httpx
import pytest

from index.demo.hostile2 import HostileServers
from index.testbuy import fetch
from index.testbuy.decode import BoundedDecoder, accept_encoding

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

PEAK_MB = 64  # Python allocations while reading one bomb (they used to reach ~2.1 GB)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with HostileServers() as urls:
        yield urls["origin"]


@pytest.mark.parametrize("path", ["/gzip-gzip", "/brotli-bomb", "/deflate-bomb", "/zstd-bomb"])
def test_a_bomb_is_cut_at_max_body_while_decoding(origin: str, path: str) -> None:
    tracemalloc.start()
    try:
        answer = fetch.request("GET", origin + path, {}, None, 30.0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status == 402 and answer.truncated
    assert answer.body == bytes(fetch.MAX_BODY)  # decoded zeros, cut at the limit
    assert peak < PEAK_MB * 1024 * 1024, peak


def test_the_deadline_covers_a_head_sent_one_byte_a_second(origin: str) -> None:
    """httpx's read timeout restarts with every byte; the deadline does not."""
    with pytest.raises(httpx.ReadTimeout, match="no complete answer within 2 s"):
        fetch.request("GET", origin + "/slow-head", {}, None, 2.0)


def test_endless_interim_answers_end_at_the_deadline_or_a_protocol_error(origin: str) -> None:
    with pytest.raises((httpx.ReadTimeout, httpx.RemoteProtocolError)):
        fetch.request("GET", origin + "/continue-flood", {}, None, 2.0)


@pytest.mark.parametrize("path", ["/header-flood", "/folded-header"])
def test_a_header_flood_is_refused(origin: str, path: str) -> None:
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadTimeout)):
        fetch.request("GET", origin + path, {}, None, 5.0)


def test_a_corrupt_gzip_answer_is_a_decoding_error(origin: str) -> None:
    with pytest.raises(httpx.DecodingError):
        fetch.request("GET", origin + "/corrupt-gzip", {}, None, 5.0)


# -- the decoder on its own ---------------------------------------------------------------------


def _decode(encoding: list[str], data: bytes, limit: int = 1 << 20, step: int = 7) -> BoundedDecoder:
    decoder = BoundedDecoder(encoding, limit)
    for i in range(0, len(data), step):
        decoder.feed(data[i:i + step])
    return decoder


TEXT = b"the quick brown fox jumps over the lazy dog " * 500


@pytest.mark.parametrize(("encoding", "data"), [
    (["gzip"], gzip.compress(TEXT)),
    (["x-gzip"], gzip.compress(TEXT)),
    (["gzip, gzip"], gzip.compress(gzip.compress(TEXT))),
    (["gzip", "br"], brotli.compress(gzip.compress(TEXT))),  # two header lines, applied in order
    (["deflate"], zlib.compress(TEXT)),  # zlib-wrapped, as the RFC says
    (["deflate"], zlib.compress(TEXT)[2:-4]),  # raw deflate, as some servers send
    (["br"], brotli.compress(TEXT)),
    (["identity"], TEXT),
    ([], TEXT),
    (["compress"], TEXT),  # unknown: passed through, as httpx does
])
def test_every_encoding_decodes_byte_for_byte_in_small_pieces(encoding: list[str], data: bytes) -> None:
    decoder = _decode(encoding, data)
    assert decoder.body() == TEXT and not decoder.full


def test_zstd_and_concatenated_frames_and_members() -> None:
    from index.testbuy.decode import _zstd_module

    zstd = _zstd_module()
    if zstd is None:
        assert "zstd" not in accept_encoding()
        return
    assert "zstd" in accept_encoding()
    two = zstd.compress(TEXT) + zstd.compress(TEXT)
    assert _decode(["zstd"], two, step=100).body() == TEXT * 2
    assert _decode(["gzip"], gzip.compress(TEXT) + gzip.compress(TEXT), step=100).body() == TEXT * 2


def test_the_limit_holds_exactly() -> None:
    decoder = _decode(["gzip"], gzip.compress(TEXT), limit=1000, step=50)
    assert decoder.full and decoder.body() == TEXT[:1000]
    exact = _decode(["gzip"], gzip.compress(TEXT), limit=len(TEXT), step=50)
    assert not exact.full and exact.body() == TEXT


def test_corrupt_data_is_a_decoding_error() -> None:
    for encoding in (["gzip"], ["br"], ["deflate"]):
        with pytest.raises(httpx.DecodingError):
            _decode(encoding, b"\x1f\x8b\x08\x00" + b"not compressed at all" * 20, step=1000)
