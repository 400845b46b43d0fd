"""Ownership proofs: a valid and an invalid proof for each family, and the wrong values seen in the wild."""

from __future__ import annotations

import base64

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from solders.keypair import Keypair

from index.protocol.ownership import (
    Proof,
    read_proofs,
    signature_bytes,
    signed_message,
    verify_proofs,
)

ORIGIN = "https://api.example.com"


def evm_proof(account, message: str = ORIGIN) -> str:
    return "0x" + account.sign_message(encode_defunct(text=message)).signature.hex().removeprefix("0x")


def solana_proof(keypair: Keypair, message: str = ORIGIN) -> str:
    return "0x" + bytes(keypair.sign_message(message.encode())).hex()


def test_signed_message_is_the_bare_origin():
    assert signed_message("HTTPS://API.Example.com:443/") == "https://api.example.com"
    assert signed_message("http://127.0.0.1:8402/x?y=1") == "http://127.0.0.1:8402"
    assert signed_message("http://[::1]:80") == "http://[::1]"


def test_evm_proof_verifies_against_its_pay_to():
    owner = Account.create()
    verdict = verify_proofs(ORIGIN + "/", read_proofs([evm_proof(owner)]), [owner.address])
    assert verdict.verified
    assert verdict.addresses == [owner.address]
    assert verdict.results[0].family == "evm"
    assert verdict.failed == []


def test_evm_proof_by_another_key_is_a_mismatch():
    owner, stranger = Account.create(), Account.create()
    verdict = verify_proofs(ORIGIN, read_proofs([evm_proof(stranger)]), [owner.address])
    assert not verdict.verified
    [result] = verdict.failed
    assert result.status == "mismatch" and result.family == "evm"
    assert stranger.address in result.reason


def test_evm_proof_of_another_origin_does_not_verify():
    owner = Account.create()
    verdict = verify_proofs(ORIGIN, [Proof(evm_proof(owner, "https://other.example"))], [owner.address])
    assert not verdict.verified and verdict.failed[0].status == "mismatch"


def test_evm_address_comparison_ignores_checksum_case():
    owner = Account.create()
    verdict = verify_proofs(ORIGIN, [Proof(evm_proof(owner))], [owner.address.lower()])
    assert verdict.verified


def test_solana_proof_verifies_against_its_pay_to():
    owner = Keypair()
    address = str(owner.pubkey())
    verdict = verify_proofs(ORIGIN, read_proofs([{"network": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
                                                   "address": address, "signature": solana_proof(owner)}]),
                            ["0x" + "11" * 20, address])
    assert verdict.verified
    assert verdict.addresses == [address]
    assert verdict.results[0].family == "solana"
    assert verdict.results[0].proof.address == address


@pytest.mark.parametrize("encode", [
    lambda sig: sig.hex(),  # bare hex
    lambda sig: base64.b64encode(sig).decode(),
    lambda sig: str(__import__("solders.signature", fromlist=["Signature"]).Signature.from_bytes(sig)),  # base58
])
def test_solana_proof_in_other_encodings(encode):
    owner = Keypair()
    sig = bytes(owner.sign_message(ORIGIN.encode()))
    assert verify_proofs(ORIGIN, [Proof(encode(sig))], [str(owner.pubkey())]).verified


def test_solana_proof_by_another_key_is_a_mismatch():
    owner, stranger = Keypair(), Keypair()
    verdict = verify_proofs(ORIGIN, [Proof(solana_proof(stranger))], [str(owner.pubkey())])
    assert not verdict.verified
    assert verdict.failed[0].status == "mismatch" and verdict.failed[0].family == "solana"


def test_tampered_solana_signature_fails():
    owner = Keypair()
    sig = bytearray(owner.sign_message(ORIGIN.encode()).__bytes__())
    sig[10] ^= 1
    verdict = verify_proofs(ORIGIN, [Proof("0x" + bytes(sig).hex())], [str(owner.pubkey())])
    assert verdict.failed[0].status == "mismatch"


@pytest.mark.parametrize("value, reason", [
    ("0xd4cdA900839C0FED4374EE37EA0DBE8e4c6fd08f", "an address, not a signature"),
    ("gentechlabs-erc8004-1770", "not a signature"),
    ("0x...", "not a signature"),
    ("<proof>", "not a signature"),
    ("0x" + "ab" * 30, "not a signature"),
])
def test_wrong_values_seen_in_the_wild_are_malformed(value, reason):
    verdict = verify_proofs(ORIGIN, read_proofs([value]), ["0xd4cdA900839C0FED4374EE37EA0DBE8e4c6fd08f"])
    assert not verdict.verified
    assert verdict.failed[0].status == "malformed"
    assert verdict.failed[0].reason == reason


def test_proof_without_a_pay_to_of_its_family_is_unchecked_not_failed():
    owner = Account.create()
    verdict = verify_proofs(ORIGIN, [Proof(evm_proof(owner))], [str(Keypair().pubkey())])
    assert verdict.results[0].status == "unchecked"
    assert verdict.failed == [] and not verdict.verified


def test_one_good_proof_among_bad_ones_verifies_and_reports_the_bad():
    owner = Account.create()
    verdict = verify_proofs(ORIGIN, read_proofs(["0x...", evm_proof(owner)]), [owner.address])
    assert verdict.verified
    assert [r.status for r in verdict.results] == ["malformed", "verified"]
    assert verdict.results[1].as_json()["status"] == "verified"


def test_read_proofs_is_bounded_and_tolerant():
    assert read_proofs(None) == [] and read_proofs(5) == [] and read_proofs({"a": 1}) == []
    assert read_proofs("0xabc") == [Proof("0xabc")]
    assert len(read_proofs(["0x" + "00" * 65] * 50)) == 10
    assert read_proofs(["x" * 5000, 7, {"signature": 3}, "ok\u0000"]) == []


def test_signature_bytes_lengths():
    assert signature_bytes("0x" + "00" * 65) is not None
    assert signature_bytes("00" * 64) is not None
    assert signature_bytes("0x" + "00" * 63) is None
    assert signature_bytes("0xzz") is None
