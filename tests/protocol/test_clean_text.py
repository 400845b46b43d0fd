"""clean_text's fast path for printable ASCII gives exactly what the general scan gives."""

from __future__ import annotations

import itertools
import string
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from index.untrusted import _clean_scan, clean_text

LIMITS = (0, 1, 5, 10, 200, 255, 256, 257, 2000)


def _both(value: str, limit: int) -> tuple[tuple[Any, list[dict[str, Any]]], tuple[Any, list[dict[str, Any]]]]:
    fast: list[dict[str, Any]] = []
    scan: list[dict[str, Any]] = []
    return (clean_text(value, limit, fast, "w"), fast), (_clean_scan(value, limit, scan, "w"), scan)


def _samples() -> list[str]:
    words = ["", " ", "  ", "a", "ab c", " x ", "Weather report #7", "https://api.example/v1/x?q=1", "~!@#$%^&*()"]
    out = [a + b + c for a, b, c in itertools.product(words, repeat=3)]
    for n in (9, 10, 11, 199, 200, 201, 255, 256, 257, 511, 512, 513, 2001):
        out += ["x" * n, " " * n, "x" * (n - 1) + " y", " " + "ab " * (n // 3) + " ", "a" + " " * n + "b"]
    out += ["\t tab", "line\nbreak", "caf\u00e9", "ab\u202ecd", "nul\x00", "del\x7f", "\u3000wide\u3000"]
    return out


def test_fast_path_matches_the_scan_on_many_strings() -> None:
    for value in _samples():
        for limit in LIMITS:
            fast, scan = _both(value, limit)
            assert fast == scan, (value, limit)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=string.printable, max_size=600), st.integers(min_value=0, max_value=600))
def test_fast_path_matches_the_scan_on_ascii(value: str, limit: int) -> None:
    fast, scan = _both(value, limit)
    assert fast == scan


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=0, max_value=300))
def test_fast_path_matches_the_scan_on_any_text(value: str, limit: int) -> None:
    fast, scan = _both(value, limit)
    assert fast == scan
