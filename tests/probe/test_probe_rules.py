"""Pure probing rules: the probe plan, sample bodies, Retry-After, failure classification, URL guard."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest

from index.probe.netguard import host_block_reason
from index.probe.outcomes import Outcome, classify_failure
from index.probe.politeness import backoff_seconds, retry_after_seconds
from index.probe.plan import NO_BODY, probe_plan, refused_before_paywall
from index.probe.samples import sample_from_schema

SEARCH_SCHEMA = {
    "type": "object",
    "properties": {"query": {"type": "string", "minLength": 3}, "limit": {"type": "integer", "minimum": 1},
                   "mode": {"enum": ["fast", "deep"]}, "since": {"type": "string", "format": "date"},
                   "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "filters": {"type": "object", "properties": {"lang": {"type": "string", "maxLength": 2}},
                               "required": ["lang"]},
                   "optional": {"type": "string"}},
    "required": ["query", "limit", "mode", "since", "tags", "filters"],
}


def test_sample_satisfies_its_schema() -> None:
    sample = sample_from_schema(SEARCH_SCHEMA)
    jsonschema.validate(sample, SEARCH_SCHEMA)
    assert "optional" not in sample  # only what is required
    assert sample["limit"] == 1 and sample["mode"] == "fast" and sample["since"] == "2026-01-01"


@pytest.mark.parametrize("schema", [
    {"type": "integer", "exclusiveMinimum": 5},
    {"type": ["null", "number"], "minimum": 0.5},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]},
    {"oneOf": [{"type": "string", "minLength": 12}, {"type": "integer"}]},
    {"type": "string", "examples": ["from the docs"]},
])
def test_sample_edge_cases_validate(schema: dict) -> None:
    jsonschema.validate(sample_from_schema(schema), schema)


def test_sample_is_bounded_on_hostile_schemas() -> None:
    deep: dict = {"type": "object", "required": ["a"], "properties": {}}
    node = deep
    for _ in range(500):
        child: dict = {"type": "object", "required": ["a"], "properties": {}}
        node["properties"]["a"] = child
        node = child
    assert sample_from_schema(deep) is not None  # stops at its depth limit instead of recursing 500 levels
    assert sample_from_schema({"type": "string", "minLength": 10**9}) .startswith("example")
    assert len(sample_from_schema({"type": "string", "minLength": 10**9})) <= 1000
    assert sample_from_schema("not a schema") is None


def test_plan_for_an_undeclared_url_is_get_then_post() -> None:
    plan = probe_plan("https://api.example.com/x")
    assert [(a.method, a.why) for a in plan] == [("GET", "default"), ("POST", "post_empty")]
    assert plan[0].body is NO_BODY and plan[1].body == {}


def test_plan_for_a_declared_post_with_schema() -> None:
    hints = {"source": "bazaar", "input": {"type": "http", "method": "POST", "bodyType": "json"},
             "input_schema": {"type": "object", "properties": {"type": {"const": "http"}, "body": SEARCH_SCHEMA}}}
    plan = probe_plan("https://api.example.com/search", "POST", hints=hints)
    assert [a.why for a in plan] == ["declared", "schema_body", "get_fallback"]
    assert plan[0].body == {} and plan[1].body == sample_from_schema(SEARCH_SCHEMA)


def test_plan_uses_declared_examples_first() -> None:
    hints = {"source": "bazaar", "input": {"type": "http", "method": "GET", "queryParams": {"city": "Lisbon", "days": 3}}}
    plan = probe_plan("https://w.example.com/forecast", hints=hints)
    assert [(a.method, a.url) for a in plan][:2] == [
        ("GET", "https://w.example.com/forecast"), ("GET", "https://w.example.com/forecast?city=Lisbon&days=3")]
    plan = probe_plan("https://ai.example.com/chat", "POST", {"prompt": "hi"})
    assert [(a.why, a.body) for a in plan] == [("declared", {"prompt": "hi"}), ("post_empty", {}), ("get_fallback", NO_BODY)]


def test_plan_builds_samples_from_v1_field_descriptions() -> None:
    from index.protocol.hints import extract_hints

    accepts = [{"scheme": "exact", "network": "base", "outputSchema": {"input": {
        "type": "http", "method": "POST", "body_fields": {"q": {"type": "string", "required": True}, "n": "integer"},
        "query_params": {"lang": "string"}}}}]
    hints = extract_hints({}, accepts)
    plan = probe_plan("https://x.example.com/s", hints=hints)
    bodies = [a.body for a in plan if a.has_body]
    assert {"q": "example"} in bodies  # built from the schema, not the description {"type": "string"}
    assert all(b != {"q": {"type": "string", "required": True}, "n": "integer"} for b in bodies)


def test_refused_before_paywall() -> None:
    assert all(refused_before_paywall(s) for s in (400, 405, 415, 422))
    assert not any(refused_before_paywall(s) for s in (200, 401, 402, 404, 429, 500, None))


def test_retry_after() -> None:
    now = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds(b"3") == 3.0
    assert retry_after_seconds("Sun, 22 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Sun, 22 Nov 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert retry_after_seconds("9" * 40) == 10**9
    assert backoff_seconds(None, 0) == 1.0 and backoff_seconds(None, 2) == 4.0 and backoff_seconds(7.0, 5) == 7.0


@pytest.mark.parametrize(("names", "message", "expected"), [
    (["DownloadTimeoutError", "Exception"], "", (Outcome.TIMEOUT, "timeout")),
    (["ResponseNeverReceived", "Error"], "", (Outcome.UNREACHABLE, "no_response")),
    (["ResponseNeverReceived", "Error", "OpenSSL.SSL.Error"], "", (Outcome.TLS_INVALID, "tls")),
    (["ResponseNeverReceived", "Error"], "[('SSL routines', '', 'certificate verify failed')]", (Outcome.TLS_INVALID, "tls")),
    (["ResponseFailed", "_DataLoss"], "", (Outcome.UNREACHABLE, "data_loss")),
    (["IgnoreRequest"], "max redirections reached", (Outcome.OTHER_STATUS, "too_many_redirects")),
    (["IgnoreRequest"], "Cancelled download: body size 67108864 larger than download max size", (Outcome.TOO_LARGE, "too_large")),
    (["DNSLookupError"], "no results", (Outcome.UNREACHABLE, "dns")),
    (["ConnectionRefusedError"], "", (Outcome.UNREACHABLE, "connection_refused")),
    (["BlockedRequest", "IgnoreRequest"], "", (Outcome.BLOCKED, "ssrf")),
    (["SomethingNew"], "", (Outcome.UNREACHABLE, "error")),
])
def test_classify_failure(names: list[str], message: str, expected: tuple[Outcome, str]) -> None:
    assert classify_failure(names, message) == expected


def test_guard_ports_and_allowed_hosts() -> None:
    assert host_block_reason("http://api.example.com:22/") == "bad_port"
    assert host_block_reason("http://api.example.com:6379/") == "bad_port"
    assert host_block_reason("https://api.example.com:8443/x") is None
    allowed = frozenset({"127.0.0.1"})
    assert host_block_reason("http://127.0.0.1:8402/x", allow_hosts=allowed) is None
    assert host_block_reason("http://127.0.0.2:8402/x", allow_hosts=allowed) == "loopback"
    assert host_block_reason("http://2130706433:8402/x", allow_hosts=allowed) == "loopback"
    assert host_block_reason("file:///etc/passwd", allow_hosts=allowed) == "bad_scheme"
