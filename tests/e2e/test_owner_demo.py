"""The fleet's seller origin, in process: its proof verifies against the payTo its live 402 names, its
owner metadata reads, and its L402 and MPP endpoints are recognized as other protocols."""

from __future__ import annotations

from starlette.testclient import TestClient

from index.catalog.owner import owner_categories
from index.protocol.owner_meta import read_owner_metadata, resource_description
from index.demo.facilitator import DemoFacilitator
from index.demo.owner import CATEGORY, NAME, OwnerOrigin, owner_manifest
from index.protocol.other402 import other_protocol
from index.protocol.ownership import read_proofs, verify_proofs
from index.protocol.challenge import parse_challenge

BASE = "http://127.0.0.1:9"


def test_seller_origin_end_to_end_in_process():
    origin = OwnerOrigin(BASE, DemoFacilitator())
    client = TestClient(origin.app(), base_url=BASE)
    manifest = owner_manifest(origin)

    doc = client.get("/.well-known/x402").json()
    paid = client.get("/v1/geocode?q=Lisbon")
    assert paid.status_code == 402
    challenge = parse_challenge(402, dict(paid.headers), paid.content, probed_url=BASE + "/v1/geocode?q=Lisbon")
    assert challenge.usable
    pay_to = [a.pay_to for a in challenge.accepts]
    assert pay_to == [manifest["pay_to"], manifest["solana_pay_to"]]

    verdict = verify_proofs(BASE, read_proofs(doc["ownershipProofs"]), pay_to)
    assert verdict.verified and verdict.addresses == [origin.pay_to, origin.solana_pay_to]
    assert [r.family for r in verdict.results] == ["evm", "solana"]

    meta = read_owner_metadata(doc, BASE + "/.well-known/x402")
    assert meta["name"] == NAME and owner_categories(meta) == {"category": CATEGORY}
    assert resource_description(meta, BASE + "/v1/reverse?lat=38.72&lon=-9.14", "GET").startswith("The nearest address")

    l402 = client.get("/v1/tiles/lightning")
    found = other_protocol(l402.status_code, dict(l402.headers))
    assert found["protocol"] == "l402" and found["price"]["amount"] == manifest["l402_price_sat"]
    mpp = client.get("/v1/tiles/card")
    found = other_protocol(mpp.status_code, dict(mpp.headers))
    assert found["protocol"] == "mpp" and found["price"]["decimal"] == "0.25"
    assert parse_challenge(402, dict(mpp.headers), mpp.content).usable is False


def test_each_start_makes_a_new_key_and_a_proof_for_its_own_origin():
    a, b = OwnerOrigin(BASE, DemoFacilitator()), OwnerOrigin(BASE, DemoFacilitator())
    assert a.pay_to != b.pay_to
    assert not verify_proofs(BASE, read_proofs([a.proof]), [b.pay_to]).verified
    assert not verify_proofs("http://127.0.0.1:10", read_proofs([a.proof]), [a.pay_to]).verified
