"""Outcome names say what happened (issue 20): a body its encoding cannot decode is `bad_encoding`,
not `too_large`; a status HTTP does not define is `other_status`/`unknown_status`, not a redirect."""

from __future__ import annotations

import zlib

import pytest
from scrapy.utils._compression import _inflate, _unbrotli
from scrapy.utils.gz import gunzip

from crawler.download import BodyTooFragmented, HeadersTooLarge
from index.probe.outcomes import Outcome, classify_failure, outcome_for_status, unhandled_status


def _names(exc: BaseException) -> list[str]:
    return [n for cls in type(exc).__mro__ for n in (cls.__name__, f"{cls.__module__}.{cls.__name__}")]


@pytest.mark.parametrize(("decode", "data"), [
    (gunzip, b"\x1f\x8b\x08\x00" + b"not a deflate stream" * 10),
    (_inflate, b"garbage" * 10),
    (_unbrotli, b"garbage" * 10),
])
def test_a_corrupt_body_is_bad_encoding(decode: object, data: bytes) -> None:
    with pytest.raises(Exception) as info:  # noqa: PT011 - whatever the decoder raises
        decode(data, max_size=1 << 20)  # type: ignore[operator]
    assert classify_failure(_names(info.value), str(info.value)) == (Outcome.BAD_ENCODING, "bad_encoding")


def test_a_bomb_is_still_too_large() -> None:
    """Scrapy's message for a bomb (HttpCompressionMiddleware) mentions decompression too."""
    bomb = zlib.compress(bytes(4 << 20))
    with pytest.raises(Exception) as info:  # noqa: PT011 - Scrapy's private size error
        _inflate(bomb, max_size=1 << 20)
    assert classify_failure(_names(info.value), str(info.value)) == (Outcome.TOO_LARGE, "too_large")
    message = (f"Ignored response <402 http://x/> because its body ({len(bomb)} B compressed, 1048577 B decompressed "
               "so far) exceeded DOWNLOAD_MAXSIZE (1048576 B) during decompression.")
    assert classify_failure(["IgnoreRequest", "scrapy.exceptions.IgnoreRequest"], message) == (Outcome.TOO_LARGE, "too_large")


def test_our_download_limits_have_their_own_codes() -> None:
    assert classify_failure(_names(HeadersTooLarge("x")) + ["ResponseFailed"]) == (Outcome.TOO_LARGE, "headers_too_large")
    # mid-body, Scrapy reports data loss; our cause wins over it
    names = ["ResponseDataLossError", "ResponseFailed", *_names(BodyTooFragmented("x")), "_DataLoss"]
    assert classify_failure(names) == (Outcome.TOO_LARGE, "body_too_fragmented")


@pytest.mark.parametrize(("status", "expected"), [
    (999, (Outcome.OTHER_STATUS, "unknown_status")),
    (99, (Outcome.OTHER_STATUS, "unknown_status")),
    (600, (Outcome.OTHER_STATUS, "unknown_status")),
    (302, (Outcome.OTHER_STATUS, "redirect_not_followed")),
    (308, (Outcome.OTHER_STATUS, "redirect_not_followed")),
    (418, (Outcome.OTHER_STATUS, "status_418")),
    (503, (Outcome.SERVER_ERROR, "status_503")),
])
def test_unhandled_statuses(status: int, expected: tuple[Outcome, str]) -> None:
    assert unhandled_status(status) == expected


def test_a_status_past_599_is_not_a_server_error() -> None:
    assert outcome_for_status(999, False) is Outcome.OTHER_STATUS
    assert outcome_for_status(599, False) is Outcome.SERVER_ERROR
