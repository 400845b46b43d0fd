from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.query import filter_entries, load_entries

ENTRIES = [
    {"slug": "a", "title": "Weather · Forecast", "summary": "Seven-day forecast", "url": "https://w.example/f",
     "category": "weather", "networks": ["eip155:8453", "eip155:84532"], "price_usd": 0.001, "origin": "w.example"},
    {"slug": "b", "title": "AI · Chat", "summary": "Chat completions", "url": "https://ai.example/c",
     "category": "ai", "networks": ["eip155:8453"], "price_usd": 1.0, "origin": "ai.example"},
    {"slug": "c", "title": "Sol · Tokens", "summary": "Top tokens", "url": "https://s.example/t",
     "category": "crypto", "networks": ["solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"], "price_usd": None, "origin": "s.example"},
]


def slugs(rows: list[dict]) -> list[str]:
    return [r["slug"] for r in rows]


def test_filters() -> None:
    assert slugs(filter_entries(ENTRIES, network="eip155:8453")) == ["a", "b"]
    assert slugs(filter_entries(ENTRIES, network="base")) == ["a", "b"]
    assert slugs(filter_entries(ENTRIES, network="base-sepolia")) == ["a"]
    assert slugs(filter_entries(ENTRIES, network="solana")) == ["c"]
    assert slugs(filter_entries(ENTRIES, q="chat COMPLETIONS")) == ["b"]
    assert slugs(filter_entries(ENTRIES, category="AI")) == ["b"]
    assert slugs(filter_entries(ENTRIES, max_price=0.01)) == ["a"]  # unknown USD price never matches a cap
    assert slugs(filter_entries(ENTRIES)) == ["a", "b", "c"]


def test_unknown_network_is_an_error() -> None:
    with pytest.raises(ValueError):
        filter_entries(ENTRIES, network="nope")


def test_load_from_folder_and_errors(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text(json.dumps({"resources": ENTRIES}))
    assert slugs(load_entries(tmp_path)) == ["a", "b", "c"]
    with pytest.raises(FileNotFoundError):
        load_entries(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("[]")
    with pytest.raises(ValueError):
        load_entries(tmp_path / "bad.json")
