"""index.protocol.hints.bounded_hints: one trim order for every hints value we keep (live challenges
and discovery documents alike)."""

from __future__ import annotations

import json
from typing import Any

from crawler.discovery import source_of
from crawler.discovery.facilitator import item_candidate
from index.protocol.hints import HINT_TRIM_ORDER, MAX_HINTS_BYTES, bounded_hints

BIG = "x" * (MAX_HINTS_BYTES + 10)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def test_the_order_gives_up_the_least_useful_parts_first() -> None:
    assert HINT_TRIM_ORDER[0] == ("output",) and HINT_TRIM_ORDER[-1] == ("input",)
    assert HINT_TRIM_ORDER.index(("input", "body")) < HINT_TRIM_ORDER.index(("input", "queryParams"))


def test_small_hints_are_kept_whole() -> None:
    hints = {"source": "bazaar", "input": {"type": "http", "method": "GET"}, "output": None}
    assert bounded_hints(dict(hints)) == hints


def test_parts_are_given_up_in_order_with_findings() -> None:
    findings: list[dict[str, Any]] = []
    hints = {"source": "bazaar", "output": {"example": BIG}, "input_schema": {"d": BIG},
             "input": {"type": "http", "method": "POST", "body": {"b": BIG}, "queryParams": {"q": "1"}}}
    out = bounded_hints(hints, findings)
    assert out == {"source": "bazaar", "output": None,
                   "input": {"type": "http", "method": "POST", "queryParams": {"q": "1"}}}
    assert [f["detail"] for f in findings] == ["output", "input_schema", "input.body"]
    assert _size(out) <= MAX_HINTS_BYTES


def test_query_params_go_before_the_whole_input() -> None:
    out = bounded_hints({"source": "openapi", "input": {"type": "http", "method": "GET", "queryParams": {"q": BIG}}})
    assert out == {"source": "openapi", "input": {"type": "http", "method": "GET"}}


def test_at_worst_only_plain_text_source_and_route_template_remain() -> None:
    out = bounded_hints({"source": "bazaar", "route_template": "/a/:id", "input": {"type": "http", "headers": {"h": BIG}},
                         "extra": BIG})
    assert out == {"source": "bazaar", "route_template": "/a/:id", "input": None, "output": None}


def test_a_smaller_limit_is_honoured() -> None:
    out = bounded_hints({"source": "s", "input": {"type": "http", "body": "y" * 200}}, limit=100)
    assert out == {"source": "s", "input": {"type": "http"}}


def test_discovery_items_use_the_same_policy() -> None:
    item = {"resource": "https://o.example/a", "type": "http", "x402Version": 2,
            "input": {"type": "http", "method": "POST", "body": {"b": BIG}}, "output": {"example": "small"}}
    cand = item_candidate(item, source_of("well_known", "https://o.example/.well-known/x402.json"))
    assert cand is not None
    # output goes first, then the body: the order a live challenge's hints are trimmed in
    assert cand["hints"] == {"source": "bazaar", "input": {"type": "http", "method": "POST", "bodyType": "json"},
                             "output": None}
