"""index.catalog.docs_hints, pure: docs fields as JSON Schema, placeholders, fragments, who wins."""

from __future__ import annotations

from index.catalog.docs_hints import choose_hints, docs_hints, is_placeholder, whole_body

FIELDS = [{"name": "model", "type": "string", "required": True, "description": "Model id", "in": None},
          {"name": "messages", "type": "array", "required": True, "description": None, "in": None},
          {"name": "temperature", "type": "number", "required": False, "description": None, "in": None,
           "minimum": 0, "maximum": 2, "default": 1}]


def test_fields_become_a_json_schema_of_the_body() -> None:
    hints = docs_hints({"fields": FIELDS, "fields_source_url": "https://a.example/docs",
                        "example_body": {"model": "m", "messages": [{"role": "user", "content": "hi there"}]},
                        "output_example": {"ok": True}}, "POST")
    assert hints is not None
    assert hints["source"] == "docs" and hints["url"] == "https://a.example/docs"
    assert hints["input_schema"]["properties"]["body"] == {
        "type": "object", "required": ["model", "messages"],
        "properties": {"model": {"type": "string", "description": "Model id"}, "messages": {"type": "array"},
                       "temperature": {"type": "number", "minimum": 0, "maximum": 2, "default": 1}}}
    assert hints["input"]["body"]["model"] == "m" and hints["output"] == {"type": "json", "example": {"ok": True}}
    query = docs_hints({"fields": [{"name": "city", "type": "string", "required": True, "in": "query"}]}, "GET")
    assert query is not None and list(query["input_schema"]["properties"]) == ["queryParams"]
    assert docs_hints({"fields": []}, "GET") is None


def test_placeholders_and_fragments() -> None:
    assert is_placeholder({"model": "gpt-4o", "messages": [{"role": "system", "content": "string"}]})
    assert is_placeholder({"prompt": "<your prompt>"}) and not is_placeholder({"prompt": "Explain x402"})
    assert not whole_body({"role": "user", "content": "Reply with exactly: OK"}, FIELDS)  # a message, not a body
    assert not whole_body([{"role": "user"}], FIELDS)
    assert whole_body({"model": "m", "messages": []}, FIELDS) and whole_body({"x": 1}, [])
    hints = docs_hints({"fields": FIELDS, "example_body": {"role": "user", "content": "hi"}}, "POST")
    assert hints is not None and hints["input"]["body"] == {}  # the fragment is not published as the body


def test_server_hints_win_and_disagreement_is_a_finding() -> None:
    server = {"source": "bazaar", "input": {"type": "http", "method": "POST", "body": {"model": "m"}},
              "input_schema": {"properties": {"body": {"properties": {"model": {"type": "string"}}}}}}
    docs = docs_hints({"fields": FIELDS, "output_example": {"ok": True}}, "POST")
    chosen, findings = choose_hints(server, [], docs)
    assert chosen["source"] == "bazaar" and chosen["output"] == {"type": "json", "example": {"ok": True}}
    assert chosen["output_source"] == "docs"
    assert [f["code"] for f in findings] == ["docs_hints_disagree"]
    assert "body.messages: required by the docs" in findings[0]["detail"]
    declared = [{"hints": {"source": "openapi", "input": {"type": "http"}}}]
    assert choose_hints({}, declared, docs)[0]["source"] == "openapi"
    assert choose_hints({}, [], docs)[0] is docs and choose_hints({}, [], None) == ({}, [])


def test_a_chat_message_is_never_a_whole_body() -> None:
    """Seed 004 in a plain HTML wrap shows its messages as JSON blocks of their own: none is the body."""
    from index.catalog.docs_match import docs_for, is_message

    assert is_message({"role": "user", "content": "Hello!"}) and not is_message({"role": "admin", "model": "m"})
    page = {"url": "https://a.example/docs", "endpoints": [{"method": "POST", "path": "/v1/chat", "url": None}],
            "examples": [{"method": "POST", "path": "/v1/chat", "body": {"role": "system", "content": "You are a helpful assistant."}},
                         {"method": "POST", "path": "/v1/chat", "body": {"model": "m", "messages": []}}]}
    assert docs_for([page], "/v1/chat", "POST")["example_body"] == {"model": "m", "messages": []}
    assert not whole_body({"role": "user", "content": "What is ERC-4337?"}, [])
