"""Owner-supplied metadata: read tolerantly from /.well-known/x402; wins over derived text only when
the owner's proof verified."""

from __future__ import annotations

from tests.support import FIXTURES
import json
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct

from index.catalog.owner import CLAIMED, FROM_OWNER, known_category, origin_owner, owner_categories
from index.protocol.owner_meta import read_owner_metadata, resource_description

PAGE = "https://api.example.com/.well-known/x402"
FIXTURES = FIXTURES / "owner"

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
    assert meta["categories"] == ["Weather"] and owner_categories(meta) == {"category": "weather"}
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
    assert meta == {"name": "Nested", "categories": ["nonsense", "AI & inference"]}
    assert owner_categories(meta) == {"category": "ai"}
    meta = read_owner_metadata({"category": "Astrology"}, PAGE)
    assert meta == {"categories": ["Astrology"]} and owner_categories(meta) == {"category_claimed": "Astrology"}


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


def _pages(proofs, meta=MANIFEST, kind="well_known"):
    info = {"ownership_proofs": proofs, "owner": read_owner_metadata(meta, PAGE)} if proofs is not None else \
        {"owner": read_owner_metadata(meta, PAGE)}
    return [{"kind": kind, "url": PAGE, "fetched_at": "2026-01-02T03:04:05Z", "info": info}]


def _signed(account, origin="https://api.example.com"):
    return "0x" + account.sign_message(encode_defunct(text=origin)).signature.hex().removeprefix("0x")


def test_verified_owner_wins_over_derived_text():
    owner = Account.create()
    view = origin_owner("https://api.example.com", _pages([_signed(owner)]), [owner.address])
    assert view.verified and view.findings == []
    assert view.block["label"] == FROM_OWNER
    assert view.block["proof_source"] == "well_known" and view.block["checked_at"] == "2026-01-02T03:04:05Z"
    assert view.block["addresses"] == [owner.address]
    assert view.words("https://api.example.com/v1/forecast", "GET") == {
        "name": "Example Weather", "description": "Forecasts for agents, paid per call.", "category": "weather",
        "resource_description": "7-day forecast for a city"}


def test_unverified_owner_is_shown_as_claims_and_changes_nothing():
    owner, stranger = Account.create(), Account.create()
    view = origin_owner("https://api.example.com", _pages([_signed(stranger)]), [owner.address])
    assert not view.verified
    assert view.block["label"] == CLAIMED and view.block["name"] == "Example Weather"
    assert view.words("https://api.example.com/v1/forecast", "GET") == {}
    [found] = view.findings
    assert found["code"] == "ownership_proof_invalid" and found["severity"] == "error"
    assert view.block["failed_proofs"][0]["status"] == "mismatch"


def test_metadata_without_proofs_is_a_claim_without_findings():
    view = origin_owner("https://api.example.com", _pages(None), ["0x" + "11" * 20])
    assert not view.verified and view.findings == [] and view.block["proof_source"] is None
    assert view.block["description"] == "Forecasts for agents, paid per call."


def test_malformed_proof_is_an_error_finding_and_nothing_published_is_none():
    view = origin_owner("https://api.example.com", _pages(["0xd4cdA900839C0FED4374EE37EA0DBE8e4c6fd08f"], meta={}), [])
    assert view.findings[0]["code"] == "ownership_proof_malformed"
    assert origin_owner("https://api.example.com", [{"kind": "well_known", "info": {}}], []) is None
    assert origin_owner("https://api.example.com", [], []) is None


def test_a_proof_for_another_origin_does_not_verify():
    owner = Account.create()
    view = origin_owner("https://api.example.com", _pages([_signed(owner, "https://evil.example")]), [owner.address])
    assert not view.verified and view.findings[0]["code"] == "ownership_proof_invalid"


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


def test_a_proof_in_the_openapi_document_counts_too():
    owner = Account.create()
    openapi = [{"kind": "openapi", "url": "https://api.example.com/openapi.json", "fetched_at": "2026-01-03T00:00:00Z",
                "info": {"ownership_proofs": [_signed(owner)]}}]  # x-discovery.ownershipProofs, as the OpenAPI reader keeps it
    view = origin_owner("https://api.example.com", openapi, [owner.address])
    assert view.verified and view.block["proof_source"] == "openapi" and "name" not in view.block
    both = _pages(["0x..."]) + openapi  # a placeholder in the well-known file, a real proof in OpenAPI
    view = origin_owner("https://api.example.com", both, [owner.address])
    assert view.verified and view.block["proof_source"] == "openapi"
    assert [f["code"] for f in view.findings] == ["ownership_proof_malformed"]  # the placeholder is still a finding
