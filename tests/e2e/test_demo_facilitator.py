"""The demo facilitator verifies like a token contract would: a payment signed by the official SDK is
valid once; a replay, a tampered field, an expired window, or a signature over another EIP-712
domain (a server's spoofed `extra.name`) is refused. No chain: the ledger is in memory."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import secrets
from decimal import Decimal
from typing import Any

from index.demo.facilitator import DemoFacilitator
from index.testbuy.policy import Limits, select_accept
from index.testbuy.run import raw_accepts
from index.testbuy.sign import sign_payment
from index.testbuy.wallet import PrivateKey
from index.protocol.challenge import challenge_from_object

SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
ACCEPT = {"scheme": "exact", "network": "eip155:84532", "amount": "1000", "asset": SEPOLIA_USDC, "payTo": PAY_TO,
          "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"}}


def signed(version: int = 2, **sel_changes: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
    raw = dict(ACCEPT) if version == 2 else {**{k: v for k, v in ACCEPT.items() if k != "amount"},
                                              "network": "base-sepolia", "maxAmountRequired": "1000",
                                              "resource": "https://api.example.com/x"}
    obj = {"x402Version": version, "resource": {"url": "https://api.example.com/x"}, "accepts": [raw]}
    challenge = challenge_from_object(obj, "header")
    sel = select_accept(challenge.accepts, raw_accepts(obj), version, Limits())
    if sel_changes:
        sel = dataclasses.replace(sel, **sel_changes)
    key = PrivateKey(secrets.token_hex(32))
    payment = sign_payment(key.account(), sel, obj, Decimal("0.10"))
    return payment.payload, raw, key.address


def settle(fac: DemoFacilitator, payload: dict[str, Any], requirements: dict[str, Any]) -> Any:
    return asyncio.run(fac.settle(payload, requirements))


def test_a_real_signature_settles_once_into_the_ledger() -> None:
    for version in (1, 2):
        fac = DemoFacilitator()
        payload, req, payer = signed(version)
        assert fac.check(payload, req) == (None, payer)
        first = settle(fac, payload, req)
        assert first.success and first.payer == payer and first.transaction.startswith("0x")
        assert fac.ledger[-1]["payer"] == payer and fac.ledger[-1]["value"] == "1000" and fac.ledger[-1]["to"] == PAY_TO
        again = settle(fac, payload, req)
        assert not again.success and again.error_reason == "duplicate_settlement" and len(fac.ledger) == 1


def test_tampered_payments_are_refused() -> None:
    fac = DemoFacilitator()
    payload, req, _ = signed()

    def with_auth(**changes: Any) -> dict[str, Any]:
        out = copy.deepcopy(payload)
        out["payload"]["authorization"].update(changes)
        return out

    other = "0x1111111111111111111111111111111111111111"
    assert fac.check(with_auth(to=other), {**req, "payTo": other})[0] == "invalid_exact_evm_payload_signature"
    assert fac.check(with_auth(value="999"), {**req, "amount": "999"})[0] == "invalid_exact_evm_payload_signature"
    assert fac.check(payload, {**req, "amount": "2000"})[0] == "invalid_exact_evm_payload_authorization_value"
    assert fac.check(payload, {**req, "payTo": other})[0] == "invalid_exact_evm_payload_recipient_mismatch"
    assert fac.check(with_auth(validBefore="1"), req)[0] == "invalid_exact_evm_payload_authorization_valid_before"
    assert fac.check(payload, {**req, "asset": "0x7E57ab1E00000000000000000000000000000C0d"})[0] == "invalid_payment_requirements"
    assert fac.check(payload, {**req, "network": "eip155:8453"})[0] == "invalid_network"
    broken = copy.deepcopy(payload)
    broken["payload"]["signature"] = "0x" + "00" * 65
    assert fac.check(broken, req)[0] == "invalid_exact_evm_payload_signature"
    assert fac.ledger == []


def test_a_signature_over_a_spoofed_domain_does_not_verify() -> None:
    fac = DemoFacilitator()
    spoofed = {**ACCEPT, "extra": {"name": "USD Coin", "version": "2"}}
    payload, _, _ = signed(raw=spoofed)  # what a naive client signs when it trusts extra.name
    assert fac.check(payload, spoofed)[0] == "invalid_exact_evm_payload_signature"
