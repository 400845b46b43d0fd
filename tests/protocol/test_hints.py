"""Discovery hints (index.protocol.hints): bazaar and v1 outputSchema normalized to one shape, bounded, never fetched."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from index.protocol.bazaar_schema import check_bazaar, schema_problem
from index.protocol.hints import MAX_HINTS_BYTES, extract_hints, normalize_bazaar_input, route_template_ok
from index.protocol.v1_hints import body_type, field_schema, fields_schema, normalize_v1_input


def hints_of(extensions: Any = None, accepts: Any = None) -> tuple[dict[str, Any], list[str]]:
    findings: list[dict[str, Any]] = []
    out = extract_hints(extensions or {}, accepts or [], findings)
    return out, [f["code"] for f in findings]


def v1_accept(input_: Any, output: Any = None, key: str = "outputSchema") -> dict[str, Any]:
    return {"scheme": "exact", "network": "base", key: {"input": input_, "output": output}}


# ---------------------------------------------------------------------------------------------
# the two documented examples


def test_v1_snake_case_example() -> None:
    accept = v1_accept({"type": "http", "method": "post", "discoverable": True, "body_type": "multipart/form-data",
                        "body_fields": {"file": {"type": "string", "description": "the document", "required": True},
                                        "pages": {"type": "int"}},
                        "query_params": {"lang": "string"}, "header_fields": {"X-Api-Version": "string"}},
                       {"id": "doc_1"}, key="output_schema")
    hints, codes = hints_of(accepts=[accept])
    assert codes == []
    assert hints == {
        "source": "outputSchema",
        "input": {"type": "http", "method": "POST", "bodyType": "form-data",
                  "body": {"file": {"type": "string", "description": "the document", "required": True},
                           "pages": {"type": "int"}},
                  "queryParams": {"lang": "string"}, "headers": {"X-Api-Version": "string"}},
        "output": {"type": "json", "example": {"id": "doc_1"}},
        "input_schema": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "const": "http"},
                "method": {"type": "string", "const": "POST"},
                "bodyType": {"type": "string", "const": "form-data"},
                "body": {"type": "object", "properties": {"file": {"type": "string", "description": "the document"},
                                                          "pages": {"type": "integer"}},
                         "required": ["file"]},
            },
            "required": ["type", "method", "bodyType", "body"],
        },
    }


BAZAAR_GET = {
    "info": {"input": {"type": "http", "method": "GET", "queryParams": {"city": "SF"}},
             "output": {"type": "json", "example": {"weather": "foggy"}}},
    "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "required": ["input"],
               "properties": {
                   "input": {"type": "object", "additionalProperties": False, "required": ["type", "method"],
                             "properties": {"type": {"type": "string", "const": "http"},
                                            "method": {"type": "string", "enum": ["GET", "HEAD", "DELETE"]},
                                            "queryParams": {"type": "object", "properties": {"city": {"type": "string"}},
                                                            "required": ["city"]}}},
                   "output": {"type": "object", "required": ["type"]}}},
    "routeTemplate": "/weather/:city",
}


def test_bazaar_example() -> None:
    hints, codes = hints_of({"bazaar": BAZAAR_GET})
    assert codes == []
    assert hints == {
        "source": "bazaar",
        "input": {"type": "http", "method": "GET", "queryParams": {"city": "SF"}},
        "output": {"type": "json", "example": {"weather": "foggy"}},
        "input_schema": BAZAAR_GET["schema"]["properties"]["input"],
        "route_template": "/weather/:city",
    }


def test_v1_input_schema_accepts_the_normalized_input() -> None:
    accept = v1_accept({"type": "http", "method": "GET", "queryParams": {"q": {"type": "string", "required": True}}})
    hints, _ = hints_of(accepts=[accept])
    Draft202012Validator(hints["input_schema"]).validate({**hints["input"], "queryParams": {"q": "x"}})


# ---------------------------------------------------------------------------------------------
# bazaar input


@pytest.mark.parametrize("key", ["tool", "toolName"])
def test_mcp_tool_name_is_read_from_either_key(key: str) -> None:
    raw = {"type": "mcp", key: "search", "inputSchema": {"type": "object"}, "description": "Find\u202e things",
           "transport": "sse", "example": {"q": 1}, "unknown": "dropped"}
    assert normalize_bazaar_input(raw) == {"type": "mcp", "toolName": "search", "inputSchema": {"type": "object"},
                                           "description": "Find things", "transport": "sse", "example": {"q": 1}}


def test_mcp_is_inferred_without_a_type() -> None:
    assert normalize_bazaar_input({"tool": "t"}) == {"type": "mcp", "toolName": "t"}


def test_http_bazaar_input_keeps_only_spec_fields() -> None:
    raw = {"type": "HTTP", "method": "post", "bodyType": "multipart/form-data", "body": {"a": 1}, "headers": {"X": "1"},
           "pathParams": {"id": "7"}, "queryParams": {"q": "x"}, "other": True}
    assert normalize_bazaar_input(raw) == {"type": "http", "method": "POST", "queryParams": {"q": "x"}, "headers": {"X": "1"},
                                           "pathParams": {"id": "7"}, "bodyType": "form-data", "body": {"a": 1}}


@pytest.mark.parametrize("raw", [None, [], "http", {"type": "graphql"}, {"type": 3}])
def test_unusable_bazaar_input_is_none(raw: Any) -> None:
    assert normalize_bazaar_input(raw) is None


def test_bazaar_input_without_method_keeps_no_method() -> None:
    assert normalize_bazaar_input({"type": "http", "method": "GET /x"}) == {"type": "http"}


@pytest.mark.parametrize("template, ok", [
    ("/users/:userId", True), ("/a/b-c_d.e~f%20", True), ("/", False), (":var1", False), ("/a/../b", False),
    ("/a/%2e%2e/b", False), ("/a/%2E%2E", False), ("/x%3A%2F%2Fevil", False), ("/a b", False), ("/a%00", False),
    ("/a%5C..", False), ("/a?b", False), ("/" + "a" * 600, False), (5, False), (None, False),
])
def test_route_templates(template: Any, ok: bool) -> None:
    assert route_template_ok(template) is ok


def test_invalid_route_template_is_dropped_and_flagged() -> None:
    hints, codes = hints_of({"bazaar": {**BAZAAR_GET, "routeTemplate": "/a/%2e%2e/etc"}})
    assert "route_template" not in hints and codes == ["route_template_invalid"]


# ---------------------------------------------------------------------------------------------
# v1 outputSchema


@pytest.mark.parametrize("key", ["queryParams", "query_params", "query", "params"])
def test_v1_query_aliases(key: str) -> None:
    inp = normalize_v1_input({"type": "http", "method": "GET", key: {"q": "string"}})
    assert inp == {"type": "http", "method": "GET", "queryParams": {"q": "string"}}


@pytest.mark.parametrize("key", ["bodyFields", "body_fields", "bodyParams", "body", "data", "properties"])
def test_v1_body_aliases(key: str) -> None:
    inp = normalize_v1_input({"type": "http", "method": "PUT", key: {"q": "string"}})
    assert inp == {"type": "http", "method": "PUT", "bodyType": "json", "body": {"q": "string"}}


@pytest.mark.parametrize("key", ["headerFields", "header_fields", "headers"])
def test_v1_header_aliases(key: str) -> None:
    assert normalize_v1_input({"method": "DELETE", key: {"X-Key": "string"}}) == {
        "type": "http", "method": "DELETE", "headers": {"X-Key": "string"}}


def test_v1_first_non_empty_alias_wins() -> None:
    inp = normalize_v1_input({"type": "http", "method": "GET", "queryParams": {}, "query_params": {"a": "string"}})
    assert inp is not None and inp["queryParams"] == {"a": "string"}


@pytest.mark.parametrize("declared, expected", [
    ("json", "json"), ("form-data", "form-data"), ("multipart-form-data", "form-data"),
    ("application/x-www-form-urlencoded", "form-data"), ("text/plain", "text"), ("text", "text"),
    ("binary", "json"), (None, "json"), (7, "json"),
])
def test_body_type_mapping(declared: Any, expected: str) -> None:
    assert body_type(declared) == expected


def test_post_without_body_fields_has_an_empty_body() -> None:
    assert normalize_v1_input({"type": "http", "method": "PATCH"}) == {
        "type": "http", "method": "PATCH", "bodyType": "json", "body": {}}


@pytest.mark.parametrize("raw", [
    {"type": "http", "method": "OPTIONS"}, {"type": "http"}, {"type": "mcp", "method": "GET"},
    {"type": "http", "method": "GET", "discoverable": False}, None, "GET",
])
def test_v1_inputs_without_hints(raw: Any) -> None:
    assert normalize_v1_input(raw) is None


def test_not_discoverable_skips_the_accept_and_the_next_one_is_read() -> None:
    hidden = v1_accept({"type": "http", "method": "GET", "discoverable": False}, {"a": 1})
    shown = v1_accept({"type": "http", "method": "POST", "bodyFields": {"a": "number"}}, None)
    hints, codes = hints_of(accepts=["junk", hidden, shown])
    assert hints["input"]["method"] == "POST" and hints["output"] is None and codes == []


def test_output_only_output_schema_still_gives_hints_but_flags_no_input() -> None:
    hints, codes = hints_of(accepts=[v1_accept(None, {"price": 1})])
    assert hints == {"source": "outputSchema", "input": None, "output": {"type": "json", "example": {"price": 1}}}
    assert codes == ["no_input_schema"]


def test_bazaar_wins_over_output_schema() -> None:
    hints, _ = hints_of({"bazaar": BAZAAR_GET}, [v1_accept({"type": "http", "method": "POST"})])
    assert hints["source"] == "bazaar"


def test_empty_or_broken_bazaar_falls_back_to_output_schema() -> None:
    hints, codes = hints_of({"bazaar": "yes"}, [v1_accept({"type": "http", "method": "GET"})])
    assert hints["source"] == "outputSchema" and codes == ["bazaar_invalid"]
    hints, codes = hints_of({"bazaar": {"schema": {}}}, [])
    assert hints == {} and codes == ["bazaar_invalid", "no_input_schema"]


def test_works_on_a_facilitator_discovery_item() -> None:
    item = {"resource": "https://api.example.com/premium-data", "type": "http", "x402Version": 2,
            "accepts": [{"scheme": "exact", "network": "eip155:8453", "maxAmountRequired": "10000",
                         "outputSchema": {"input": {"type": "http", "method": "GET", "queryParams": {"s": "string"}}}}]}
    hints, codes = hints_of(item.get("extensions"), item["accepts"])
    assert hints["input"] == {"type": "http", "method": "GET", "queryParams": {"s": "string"}} and codes == []


# ---------------------------------------------------------------------------------------------
# v1 field maps → JSON Schema


def test_field_schema_forms() -> None:
    assert field_schema("string") == {"type": "string"}
    assert field_schema("INT") == {"type": "integer"}
    assert field_schema("City name") == {"type": "string"}
    assert field_schema(3) == {"type": "integer"} and field_schema(2.5) == {"type": "number"}
    assert field_schema(True) == {"type": "boolean"} and field_schema([1]) == {"type": "array"} and field_schema(None) == {}
    assert field_schema({"type": ["string", "null", "weird"], "enum": ["a"], "minimum": 1, "default": "a"}) == {
        "type": ["string", "null"], "enum": ["a"], "minimum": 1, "default": "a"}
    assert field_schema({"type": "array", "items": {"type": "number"}}) == {"type": "array", "items": {"type": "number"}}
    assert field_schema({"properties": {"x": {"type": "string", "required": True}, "y": "int"}, "required": ["y"]}) == {
        "type": "object", "properties": {"x": {"type": "string"}, "y": {"type": "integer"}}, "required": ["x", "y"]}


def test_nested_example_objects_become_object_schemas() -> None:
    assert fields_schema({"user": {"name": "Ada", "age": 36}}) == {"type": "object", "properties": {
        "user": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}}}


def test_field_schema_depth_is_bounded() -> None:
    deep: dict[str, Any] = {"a": "string"}
    for _ in range(200):
        deep = {"n": deep}
    schema = fields_schema(deep)
    assert len(json.dumps(schema)) < 10_000


# ---------------------------------------------------------------------------------------------
# bazaar validation


def test_info_that_breaks_its_schema_is_flagged_but_hints_are_kept() -> None:
    bad = json.loads(json.dumps(BAZAAR_GET))
    bad["info"]["input"]["queryParams"] = {}
    hints, codes = hints_of({"bazaar": bad})
    assert codes == ["bazaar_invalid"] and hints["input"]["method"] == "GET" and "input_schema" in hints


@pytest.mark.parametrize("schema, expected", [
    ({"type": "strin"}, "schema.type must be"),
    ({"properties": {"a": {"required": "x"}}}, "schema.properties.a.required"),
    ({"anyOf": []}, "schema.anyOf"),
    ({"minLength": -1}, "schema.minLength"),
    ({"items": 3}, "schema.items"),
    ({"$ref": 5}, "schema.$ref"),
    ({"properties": {"a": 3}}, "schema.properties"),
    ([], "schema is neither"),
])
def test_invalid_schemas_are_named(schema: Any, expected: str) -> None:
    problem = schema_problem(schema)
    assert problem is not None and problem.startswith(expected)


def test_valid_schemas_have_no_problem() -> None:
    assert schema_problem(BAZAAR_GET["schema"]) is None
    assert schema_problem(True) is None
    assert schema_problem({"x-vendor": {"type": 5}, "type": ["string", "null"], "multipleOf": 0.5}) is None


def test_an_invalid_schema_is_not_used_as_input_schema() -> None:
    bad = {**BAZAAR_GET, "schema": {"type": "object", "properties": {"input": {"type": "nope"}}}}
    hints, codes = hints_of({"bazaar": bad})
    assert codes == ["bazaar_invalid"] and "input_schema" not in hints


def test_missing_schema_is_flagged() -> None:
    _, codes = hints_of({"bazaar": {"info": BAZAAR_GET["info"]}})
    assert codes == ["bazaar_invalid"]


def test_local_refs_and_ids_resolve_without_fetching() -> None:
    schema = {"$id": "https://schemas.example/root.json", "$defs": {"q": {"type": "object", "required": ["city"]}},
              "properties": {"input": {"properties": {"queryParams": {"$ref": "#/$defs/q"}},
                                       "allOf": [{"$ref": "https://schemas.example/root.json#/$defs/any"}]}}}
    schema["$defs"]["any"] = {}
    assert check_bazaar({"input": {"queryParams": {"city": "SF"}}}, schema) == (None, True)
    problem, _ = check_bazaar({"input": {"queryParams": {}}}, schema)
    assert problem is not None and "city" in problem


def test_a_dangling_local_ref_is_a_problem() -> None:
    problem, usable = check_bazaar({}, {"$id": "https://s.example/r", "$ref": "https://s.example/r#/$defs/missing"})
    assert problem is not None and not usable


def test_server_regexes_are_never_run() -> None:
    schema = {"properties": {"name": {"type": "string", "pattern": "^(a+)+$"}},
              "patternProperties": {"^(b+)+$": {"type": "integer"}}, "additionalProperties": False,
              "propertyNames": {"pattern": "(c|c)*d"}}
    info = {"name": "a" * 40 + "!", "b" * 40 + "!": "x"}
    start = time.perf_counter()
    check_bazaar(info, schema)
    assert time.perf_counter() - start < 1.0


def test_self_reference_and_exponential_schemas_stop() -> None:
    loop = {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}
    problem, usable = check_bazaar({"x": 1}, loop)
    assert problem is not None and not usable
    defs = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(40)}
    defs["d40"] = {"type": "string"}
    start = time.perf_counter()
    problem, usable = check_bazaar({"x": 1}, {"$defs": defs, "$ref": "#/$defs/d0"})
    assert time.perf_counter() - start < 5.0
    assert problem is not None and not usable


def test_unique_items_on_long_arrays_is_not_quadratic() -> None:
    start = time.perf_counter()
    check_bazaar({"input": [{}] * 20_000}, {"properties": {"input": {"uniqueItems": True}}})
    assert time.perf_counter() - start < 2.0


def test_huge_or_deep_schemas_are_refused_before_evaluation() -> None:
    wide = {"properties": {f"p{i}": {"type": "string"} for i in range(6000)}}
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(100):
        deep = {"properties": {"x": deep}}
    for schema in (wide, deep):
        problem, usable = check_bazaar({}, schema)
        assert problem is not None and "too large" in problem and not usable


def test_dialect_switches_inside_a_schema_are_ignored() -> None:
    schema = {"properties": {"input": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                                       "properties": {"s": {"pattern": "^(a+)+$"}}}}}
    start = time.perf_counter()
    assert check_bazaar({"input": {"s": "a" * 40 + "!"}}, schema) == (None, True)
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------------------------------------
# size bound and hostile shapes


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def test_oversized_parts_are_dropped_least_useful_first() -> None:
    bazaar = json.loads(json.dumps(BAZAAR_GET))
    bazaar["info"]["output"]["example"] = {"blob": "x" * 70_000}
    hints, codes = hints_of({"bazaar": bazaar})
    assert hints["output"] is None and hints["input"]["queryParams"] == {"city": "SF"} and "input_schema" in hints
    assert "hints_too_large" in codes and _size(hints) <= MAX_HINTS_BYTES


def test_oversized_body_example_is_dropped_but_the_method_kept() -> None:
    bazaar = {"info": {"input": {"type": "http", "method": "POST", "bodyType": "json", "body": {"b": "y" * 100_000}}},
              "schema": {}}
    hints, codes = hints_of({"bazaar": bazaar})
    assert hints["input"] == {"type": "http", "method": "POST", "bodyType": "json"}
    assert codes.count("hints_too_large") == 1


def test_hints_that_are_not_plain_json_are_dropped() -> None:
    bazaar = {"info": {"input": {"type": "http", "method": "POST", "body": {"n": float("nan")}},
                       "output": {"example": float("inf")}}, "schema": {}}
    hints, codes = hints_of({"bazaar": bazaar})
    json.dumps(hints, allow_nan=False)
    assert "hints_too_large" in codes


@pytest.mark.parametrize("extensions, accepts", [
    (None, None), ([], "x"), ({"bazaar": []}, [1, None]), ({"bazaar": {"info": []}}, [{"outputSchema": []}]),
    ({"bazaar": {"info": {"input": {"type": "http"}}, "schema": {"$ref": {"a": 1}}}}, []),
    ({"bazaar": {"info": {"input": {"type": "mcp", "tool": 5}}, "schema": {"$id": 7}, "routeTemplate": []}}, []),
    ({"bazaar": {"info": {}, "schema": {"properties": {"input": {"$ref": "#/nowhere"}}}}}, [{"output_schema": {"input": 3}}]),
])
def test_hostile_shapes_give_findings_not_exceptions(extensions: Any, accepts: Any) -> None:
    findings: list[dict[str, Any]] = []
    hints = extract_hints(extensions, accepts, findings)
    json.dumps(hints)
    assert isinstance(hints, dict) and findings
