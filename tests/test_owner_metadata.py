"""Owner-supplied metadata: read tolerantly from /.well-known/x402; wins over derived text only when
the owner's proof verified."""

from __future__ import annotations

import json
from pathlib import Path

from index.catalog.owner import (
    CLAIMED,
    FROM_OWNER,
    apply_owner,
    known_category,
    owner_block,
    read_owner_metadata,
    resource_description,
)
from index.catalog.record import OriginRef

PAGE = "https://api.example.com/.well-known/x402"
FIXTURES = Path(__file__).parent / "fixtures" / "owner"

MANIFEST = {
    "version": 1,
    "name": "Example Weather",
    "description": "Forecasts for agents, paid per call.",
    "category": "Weather",
    "docsUrl": "/docs",
    "iconUrl": "https://cdn.example.com/logo.png",
    "unknownKey": {"whatever": [1, 2, 3]},
    "resources": [
        "https://api.example.com/plain",
        {"url": "https://api.example.com/v1/forecast", "method": "GET", "description": "7-day forecast for a city"},
        {"resource": {"url": "/v1/alerts", "description": "Severe weather alerts"}},
        "POST /v1/batch",
    ],
    "descriptions": {"POST /v1/batch": "Many forecasts in one call", "https://api.example.com/plain": "Plain one"},
    "ownershipProofs": ["0xabc"],
}


def test_reads_every_owner_key():
    meta = read_owner_metadata(MANIFEST, PAGE)
    assert meta["name"] == "Example Weather"
    assert meta["description"] == "Forecasts for agents, paid per call."
    assert meta["category"] == "weather"
    assert meta["docs_url"] == "https://api.example.com/docs"
    assert meta["logo_url"] == "https://cdn.example.com/logo.png"
    assert resource_description(meta, "https://API.example.com/v1/forecast", "GET") == "7-day forecast for a city"
    assert resource_description(meta, "https://api.example.com/v1/alerts", "POST") == "Severe weather alerts"
    assert resource_description(meta, "https://api.example.com/v1/batch", "POST") == "Many forecasts in one call"
    assert resource_description(meta, "https://api.example.com/plain", "GET") == "Plain one"
    assert resource_description(meta, "https://api.example.com/unknown", "GET") is None


def test_nested_service_block_and_unknown_category():
    meta = read_owner_metadata({"service": {"serviceName": "Nested", "tags": ["nonsense", "AI & inference"]},
                                "resources": []}, PAGE)
    assert meta == {"name": "Nested", "category": "ai"}
    meta = read_owner_metadata({"category": "Astrology"}, PAGE)
    assert meta == {"category_claimed": "Astrology"}


def test_hostile_values_are_dropped_or_bounded():
    meta = read_owner_metadata({
        "name": "\u202eevil\u0000" + "x" * 500, "description": 7, "docs": "javascript:alert(1)",
        "logo": "https://user:pw@example.com/l.png", "iconUrl": {"url": "data:image/png;base64,AAAA"},
        "resources": [{"url": "javascript:x", "description": "no"}] * 3 + [None, 5],
    }, PAGE)
    assert len(meta["name"]) <= 120 and "\u202e" not in meta["name"] and "\u0000" not in meta["name"]
    assert set(meta) == {"name"}
    assert read_owner_metadata(["not", "a", "dict"], PAGE) == {}


def test_known_category():
    assert known_category("crypto") == "crypto"
    assert known_category(["x", "Weather & climate"]) == "weather"
    assert known_category(None) is None


def _fields():
    return {"title": "api.example.com · Forecast", "summary": "Paid GET endpoint /v1/forecast on api.example.com.",
            "category": "other",
            "origin": OriginRef(slug="api-example-com", host="api.example.com", title="Home page title",
                                description="From the homepage", url="https://api.example.com")}


def test_verified_owner_wins_over_derived_text():
    meta = read_owner_metadata(MANIFEST, PAGE)
    owner = owner_block(meta, verified=True, source="well_known", checked_at="2026-01-01T00:00:00Z",
                        addresses=["0x" + "11" * 20])
    assert owner["label"] == FROM_OWNER
    fields, supplied = apply_owner(_fields(), owner, derived={"summary", "title", "category"},
                                   resource_meta=resource_description(meta, "https://api.example.com/v1/forecast", "GET"),
                                   retitle=lambda provider: f"{provider} · Forecast")
    assert fields["title"] == "Example Weather · Forecast"
    assert fields["summary"] == "7-day forecast for a city"
    assert fields["category"] == "weather"
    assert fields["origin"].title == "Example Weather"
    assert fields["origin"].description == "Forecasts for agents, paid per call."
    assert supplied == ["title", "summary", "category", "origin.title", "origin.description"]


def test_verified_owner_does_not_replace_the_servers_own_description():
    owner = owner_block(read_owner_metadata(MANIFEST, PAGE), verified=True, source="well_known", checked_at=None, addresses=[])
    fields, supplied = apply_owner(_fields(), owner, derived={"title", "category"}, resource_meta="owner text",
                                   retitle=lambda p: p)
    assert fields["summary"].startswith("Paid GET endpoint")  # the live 402's description stays
    assert "summary" not in supplied


def test_unverified_owner_is_shown_as_claims_and_changes_nothing():
    meta = read_owner_metadata(MANIFEST, PAGE)
    owner = owner_block(meta, verified=False, source="well_known", checked_at="2026-01-01T00:00:00Z", addresses=[],
                        failed=[{"status": "mismatch"}])
    assert owner["label"] == CLAIMED and owner["name"] == "Example Weather"
    before = _fields()
    fields, supplied = apply_owner(_fields(), owner, derived={"summary", "title", "category"},
                                   resource_meta="owner text", retitle=lambda p: p)
    assert supplied == [] and fields == before


def test_a_real_rich_well_known():
    """AgentResolver's published /.well-known/x402 (public, provenance beside it): name, description and
    six 'POST /api/…' resources with their own descriptions."""
    obj = json.loads((FIXTURES / "agentresolver_well_known.json").read_text())
    meta = read_owner_metadata(obj, "https://agentresolver.vercel.app/.well-known/x402")
    assert meta["name"] == "AgentResolver"
    assert meta["description"].startswith("Free capability discovery")
    assert len(meta["resources"]) == 6
    text = resource_description(meta, "https://agentresolver.vercel.app/api/http-inspect", "POST")
    assert text.startswith("Preflight a public HTTPS or x402 API")
    assert resource_description(meta, "https://agentresolver.vercel.app/api/http-inspect", "GET") is None
