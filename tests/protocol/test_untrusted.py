"""index.untrusted: the one home of hostile-input hygiene (text, JSON text, bounded JSON values)."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from index.untrusted import (
    INVISIBLE,
    clean_text,
    json_depth_exceeds,
    json_key,
    json_size,
    jsonable,
    kept_value,
    read_value_key,
    safe_copy,
    safe_json_loads,
    scrub_text,
    value_key,
    within,
)


@pytest.mark.skipif(unicodedata.unidata_version != "14.0.0", reason="INVISIBLE is written for Unicode 14")
def test_invisible_covers_every_control_format_surrogate_and_private_use_character() -> None:
    missed = [hex(cp) for cp in range(sys.maxunicode + 1)
              if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Cs", "Co") and chr(cp) not in "\t\n"
              and not INVISIBLE.match(chr(cp))]
    assert missed == []


def test_invisible_keeps_tab_newline_and_visible_text() -> None:
    text = "a\tb\nc é ü ✓ 日本 \u00a0"
    assert INVISIBLE.sub("", text) == text


def test_clean_text_and_scrub_text_remove_the_same_characters() -> None:
    hostile = "pay\u202eme\u200b\x00 \ufeffnow\U000e0041\U000f0000"
    assert clean_text(hostile, 100) == "payme now"
    assert clean_text(hostile, 100) == scrub_text(hostile).strip()


def test_scrub_text_unifies_line_ends_and_spaces() -> None:
    assert scrub_text("a\r\nb\rc\u2028d\u00a0e\u3000f") == "a\nb\nc\nd e f"


def test_clean_text_truncates_with_a_finding() -> None:
    findings: list[dict] = []
    assert clean_text("  abcdef  ", 3, findings, "w") == "abc"
    assert [f["code"] for f in findings] == ["text_truncated"]
    assert clean_text(5, 3) is None and clean_text("\u200b", 3) is None


def test_safe_json_loads_refuses_nesting_bombs() -> None:
    assert safe_json_loads(b'{"a": [1, "[[[["]}') == {"a": [1, "[[[["]}
    assert json_depth_exceeds("[" * 129 + "]" * 129)
    assert not json_depth_exceeds('"' + "[" * 500 + '"')
    with pytest.raises(ValueError):
        safe_json_loads("[" * 200_000)
    with pytest.raises(ValueError):
        safe_json_loads("[[[]]]", max_depth=2)


def test_bounded_measures() -> None:
    assert within({"a": [1, 2]}, 4, 2) and not within({"a": [1, 2]}, 3, 2) and not within({"a": [1, 2]}, 4, 1)
    assert json_size({"é": 1}) == len('{"é":1}'.encode())
    assert json_size(float("nan")) is None and json_size({1: 2} if False else {"a": object()}) is None
    assert json_size([[1]], max_nodes=1, max_depth=5) is None
    assert json_key({"a": [1]}, 10, 10, 100) == '{"a":[1]}'
    assert json_key({"a": (1,)}, 10, 10, 100) is None  # a tuple would share its JSON with a list
    assert json_key({"a": "x" * 100}, 10, 10, 50) is None


def test_value_keys_give_back_the_value_and_its_types() -> None:
    import json

    value = json.loads('{"a": [1, 1.0, true, null, "x", {"b": -0.0}], "c": {"1": "é\\ud800"}}')
    key = value_key(value, 1000)
    assert key is not None and key == value_key(json.loads(json.dumps(value)), 1000)
    back = read_value_key(key)
    assert back == value and back is not value and repr(back) == repr(value)  # 1 vs 1.0, -0.0, True kept
    assert value_key({"a": (1,)}, 100) != value_key({"a": [1]}, 100)  # a tuple comes back a tuple
    assert value_key({1: "a"}, 100) != value_key({"1": "a"}, 100)
    assert value_key({"a": "x" * 100}, 50) is None

    class Text(str):
        pass

    deep: list = []
    for _ in range(3000):
        deep = [deep]
    for refused in ({"a": Text("x")}, {"a": object()}, deep):
        assert value_key(refused, 10**6) is None


def test_bounded_copies() -> None:
    import datetime as dt

    assert jsonable({1: dt.date(2025, 1, 2), "n": float("inf"), "s": {3}}, 100, 10) == (
        True, {"1": "2025-01-02", "n": None, "s": [3]})
    assert jsonable([[[1]]], 100, 2) == (False, None)
    assert jsonable(list(range(10)), 5, 10) == (False, None)
    value = {"a": [1, 2]}
    ok, copy = kept_value(value, 100)
    assert ok and copy == value and copy is not value and copy["a"] is not value["a"]
    assert kept_value("x" * 10, 5) == (False, None)
    assert safe_copy({"k\u200b": ["a\u202eb", float("nan"), object()] * 3}, 100, 5, 4, 100, 10) == {
        "k": ["ab", None, None, "ab"]}
    assert safe_copy([[[[1]]]], 100, 2, 10, 10, 10) == [[[None]]]
