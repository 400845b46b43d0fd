"""Whatever a server sends, the parser returns a Challenge: never another exception."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from index.findings import CODES
from index.protocol.bazaar_schema import check_bazaar
from index.protocol.hints import MAX_HINTS_BYTES, extract_hints
from index.protocol.challenge import challenge_from_object, parse_challenge
from index.protocol.models import Challenge

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
challenge_like = st.fixed_dictionaries({
    "x402Version": st.one_of(st.sampled_from([1, 2]), json_values),
    "accepts": st.one_of(st.lists(st.dictionaries(
        st.sampled_from(["scheme", "network", "amount", "maxAmountRequired", "asset", "payTo", "maxTimeoutSeconds",
                         "extra", "resource", "description", "mimeType", "outputSchema"]), json_values, max_size=12),
        max_size=3), json_values),
    "resource": json_values,
    "extensions": json_values,
})


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from([402, 200, 500]), header=st.one_of(st.none(), st.text(max_size=200), st.binary(max_size=200)),
       body=st.binary(max_size=500))
def test_any_bytes(status: int, header: str | bytes | None, body: bytes) -> None:
    headers = {"payment-required": header} if header is not None else {}
    assert isinstance(parse_challenge(status, headers, body), Challenge)


@settings(max_examples=300, deadline=None)
@given(obj=challenge_like, in_header=st.booleans())
def test_any_challenge_shaped_json(obj: dict, in_header: bool) -> None:
    raw = json.dumps(obj).encode()
    headers = {"PAYMENT-REQUIRED": base64.b64encode(raw).decode()} if in_header else {}
    ch = parse_challenge(402, headers, b"" if in_header else raw)
    assert isinstance(ch, Challenge)
    for acc in ch.accepts:
        assert acc.amount_atomic is None or acc.amount_atomic.isdigit()


# ---------------------------------------------------------------------------------------------
# decoded objects: whatever JSON a facilitator or a server hands us, challenge_from_object and
# extract_hints return plain data, never raise, and keep hints JSON-able and bounded

bazaar_keys = st.sampled_from(["info", "schema", "routeTemplate", "input", "output", "type", "method", "tool",
                               "toolName", "inputSchema", "queryParams", "body", "bodyType", "properties", "required",
                               "$ref", "$id", "$defs", "anyOf", "items", "pattern", "enum", "const", "additionalProperties"])
schema_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12) | st.sampled_from(
        ["#", "#/$defs/a", "http", "mcp", "GET", "POST", "string", "object", "/a/:b", "https://e.example/s.json"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(bazaar_keys | st.text(max_size=6), children, max_size=5),
    max_leaves=30,
)
output_schema_keys = st.sampled_from(["input", "output", "type", "method", "discoverable", "queryParams", "query_params",
                                      "query", "params", "bodyFields", "body_fields", "bodyParams", "body", "data",
                                      "properties", "bodyType", "body_type", "headerFields", "header_fields", "headers",
                                      "required", "description", "enum", "items"])
output_schema_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
    | st.sampled_from(["http", "GET", "post", "string", "int", "multipart/form-data", "text/plain"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(output_schema_keys, children, max_size=5),
    max_leaves=25,
)
any_object = st.fixed_dictionaries({}, optional={
    "x402Version": st.one_of(st.sampled_from([1, 2]), json_values),
    "accepts": st.one_of(st.lists(st.one_of(
        st.fixed_dictionaries({}, optional={k: json_values for k in (
            "scheme", "network", "amount", "maxAmountRequired", "asset", "payTo", "maxTimeoutSeconds", "extra",
            "resource", "description", "mimeType")} | {"outputSchema": output_schema_like, "output_schema": output_schema_like}),
        json_values), max_size=4), json_values),
    "resource": st.one_of(json_values, st.fixed_dictionaries({}, optional={
        "url": st.text(max_size=30) | st.sampled_from(["https://a.example/x", "http://a.example/x?q=1", "/x"]),
        "description": st.text(), "serviceName": json_values, "tags": json_values, "iconUrl": json_values})),
    "extensions": st.one_of(json_values, st.fixed_dictionaries({}, optional={"bazaar": schema_like})),
    "description": json_values, "serviceName": json_values, "tags": json_values,
})


@settings(max_examples=300, deadline=None)
@given(obj=any_object, probed=st.sampled_from([None, "https://a.example/x", "http://b.example/y?z=1", "not a url"]))
def test_any_decoded_object(obj: dict, probed: str | None) -> None:
    ch = challenge_from_object(obj, "fuzz", probed_url=probed)
    assert isinstance(ch, Challenge)
    assert set(ch.hints) <= {"source", "input", "output", "input_schema", "route_template"}
    assert len(json.dumps(ch.hints, allow_nan=False)) <= MAX_HINTS_BYTES
    assert all(f["code"] in CODES for f in ch.findings)
    ch.model_dump(mode="json")


@settings(max_examples=300, deadline=None)
@given(extensions=st.one_of(json_values, st.fixed_dictionaries({"bazaar": schema_like})),
       accepts=st.one_of(json_values, st.lists(st.fixed_dictionaries({"outputSchema": output_schema_like}), max_size=3)))
def test_extract_hints_on_any_json(extensions: object, accepts: object) -> None:
    findings: list = []
    hints = extract_hints(extensions, accepts, findings)  # type: ignore[arg-type]
    assert isinstance(hints, dict)
    json.dumps(hints, allow_nan=False)
    assert not hints or hints["source"] in ("bazaar", "outputSchema")
    if hints.get("input"):
        assert hints["input"]["type"] in ("http", "mcp")
    assert all(f["code"] in CODES for f in findings)


@settings(max_examples=200, deadline=None)
@given(schema=schema_like, info=schema_like)
def test_check_bazaar_on_any_json(schema: object, info: object) -> None:
    problem, usable = check_bazaar(info, schema)
    assert problem is None or isinstance(problem, str)
    assert isinstance(usable, bool)
