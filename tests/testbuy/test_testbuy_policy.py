"""The test-buy rules as pure functions: quote binding, accept selection, caps, budget, what the
signer returned, and how an answer is classified. No network, no database."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

from index.testbuy.policy import (
    MAX_VALIDITY_SECONDS,
    Limits,
    Outcome,
    Refusal,
    budget_refusal,
    catalog_terms,
    check_network_choice,
    parse_usd,
    quote_diff,
    select_accept,
    signing_plan,
)
from index.testbuy.run import raw_accepts
from index.testbuy.sign import spend_controls
from index.testbuy.verify import check_signed, classify_answer
from index.protocol.challenge import challenge_from_object

URL = "https://api.example.com/v1/thing"
SEPOLIA_USDC = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"
BASE_USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
PAYER = "0x857b06519E91e3A54538791bDbb0E22373e36b66"


def accept(network: str = "eip155:84532", amount: str = "1000", **over: Any) -> dict[str, Any]:
    asset = SEPOLIA_USDC if network in ("eip155:84532", "base-sepolia") else BASE_USDC
    name = "USDC" if asset == SEPOLIA_USDC else "USD Coin"
    out = {"scheme": "exact", "network": network, "amount": amount, "asset": asset, "payTo": PAY_TO,
           "maxTimeoutSeconds": 300, "extra": {"name": name, "version": "2"}}
    if network in ("base", "base-sepolia"):
        out["maxAmountRequired"] = out.pop("amount")
        out["resource"] = URL
    out.update(over)
    return out


def choose(*accepts: dict[str, Any], version: int = 2, **limits: Any) -> Any:
    obj = {"x402Version": version, "resource": {"url": URL}, "accepts": list(accepts)}
    challenge = challenge_from_object(obj, "header")
    return select_accept(challenge.accepts, raw_accepts(obj), challenge.x402_version, Limits(**limits))


def refusal_code(*accepts: dict[str, Any], **limits: Any) -> str:
    with pytest.raises(Refusal) as info:
        choose(*accepts, **limits)
    return info.value.code


def test_a_plain_sepolia_accept_is_selected_with_our_registry_domain() -> None:
    sel = choose(accept())
    assert (sel.position, sel.caip2, sel.chain_id, sel.amount_atomic, sel.usd) == (0, "eip155:84532", 84532, 1000, Decimal("0.001"))
    assert (sel.eip712_name, sel.eip712_version) == ("USDC", "2") and sel.raw["extra"]["name"] == "USDC"


def test_v1_names_and_fields_are_read() -> None:
    sel = choose(accept("base-sepolia", "50000"), version=1)
    assert (sel.version, sel.network, sel.caip2, sel.amount_atomic) == (1, "base-sepolia", "eip155:84532", 50000)


def test_cap_is_checked_on_the_accept_selected_not_the_cheapest() -> None:
    cheap_mainnet, dear_testnet = accept("eip155:8453", "1000"), accept("eip155:84532", "5000000")
    assert refusal_code(cheap_mainnet, dear_testnet) == "over_cap"
    assert choose(cheap_mainnet, dear_testnet, max_usd=Decimal("5")).position == 1
    assert refusal_code(accept(amount="100001")) == "over_cap"  # $0.100001 > $0.10
    assert choose(accept(amount="100000")).usd == Decimal("0.1")  # exactly the cap is allowed


@pytest.mark.parametrize(("over", "code"), [
    ({"asset": "0x7E57ab1E00000000000000000000000000000C0d"}, "asset_not_allowed"),
    ({"extra": {"name": "USD Coin", "version": "2"}}, "eip712_domain_mismatch"),
    ({"extra": {"name": "USDC", "version": "1"}}, "eip712_domain_mismatch"),
    ({"payTo": "0x0000000000000000000000000000000000000000"}, "pay_to_zero"),
    ({"payTo": "0x000000000000000000000000000000000000dEaD"}, "pay_to_zero"),
    ({"payTo": "not-an-address"}, "pay_to_invalid"),
    ({"maxTimeoutSeconds": 315_360_000}, "timeout_too_long"),
    ({"maxTimeoutSeconds": MAX_VALIDITY_SECONDS + 1}, "timeout_too_long"),
    ({"maxTimeoutSeconds": 0}, "timeout_missing"),
    ({"scheme": "upto"}, "scheme_unsupported"),
    ({"extra": {"name": "USDC", "version": "2", "assetTransferMethod": "permit2"}}, "transfer_method_unsupported"),
    ({"amount": "0"}, "amount_zero"),
    ({"amount": "0.01"}, "amount_invalid"),
])
def test_each_rule_refuses(over: dict[str, Any], code: str) -> None:
    assert refusal_code(accept(**over)) == code


def test_missing_extra_is_signed_with_our_domain() -> None:
    raw = accept()
    del raw["extra"]
    sel = choose(raw)
    assert sel.raw["extra"] == {"name": "USDC", "version": "2"}


def test_networks() -> None:
    assert refusal_code(accept("eip155:8453"), network="eip155:8453") == "mainnet_not_allowed"
    assert choose(accept("eip155:8453"), network="base", mainnet=True).caip2 == "eip155:8453"
    assert refusal_code(accept("eip155:8453")) == "no_accept_on_network"
    assert refusal_code(accept(), network="solana") == "mainnet_not_allowed"  # Solana is paid too (tests/testbuy/test_testbuy_svm.py)
    assert refusal_code(accept(), network="solana-devnet") == "no_accept_on_network"
    assert refusal_code(accept(), network="nope") == "network_unknown"
    assert check_network_choice("base-sepolia", False) == "eip155:84532"


def test_every_reason_is_told_when_several_rules_refuse() -> None:
    with pytest.raises(Refusal) as info:
        choose(accept(payTo="0x0000000000000000000000000000000000000000", maxTimeoutSeconds=10**8))
    assert info.value.code == "pay_to_zero" and "timeout_too_long" in (info.value.detail or "")


def test_quote_diff() -> None:
    obj = {"x402Version": 2, "resource": {"url": URL}, "accepts": [accept(amount="2000")]}
    live = challenge_from_object(obj, "header")
    same = catalog_terms([{"position": 0, "network_caip2": "eip155:84532", "asset": SEPOLIA_USDC.lower(),
                           "pay_to": PAY_TO.upper().replace("0X", "0x"), "amount_atomic": "2000"}])
    assert quote_diff(same, URL, live, URL) == []  # addresses in any case
    assert quote_diff(same, "https://API.example.com:443/v1/thing", live, URL) == []  # URLs compared canonically
    changed = catalog_terms([{"position": 0, "network_caip2": "eip155:84532", "asset": SEPOLIA_USDC,
                              "pay_to": "0x1111111111111111111111111111111111111111", "amount_atomic": "1000"}])
    diff = quote_diff(changed, URL, live, URL)
    assert [d.split(":")[0] for d in diff] == ["accepts[0].payTo", "accepts[0].amount"]
    assert quote_diff(same, "https://elsewhere.example/x", live, URL)[0].startswith("resource.url")
    assert quote_diff([], URL, live, URL)[0].startswith("accepts[0]: catalog (none)")


def test_budget() -> None:
    sel = choose(accept(amount="50000"))
    assert budget_refusal(Decimal("0.95"), sel, Decimal("1")) is None
    refusal = budget_refusal(Decimal("0.96"), sel, Decimal("1"))
    assert refusal is not None and refusal.code == "budget_exceeded"


def _payload(sel: Any, now: int, **auth_over: Any) -> dict[str, Any]:
    auth = {"from": PAYER, "to": sel.pay_to, "value": str(sel.amount_atomic), "validAfter": "0",
            "validBefore": str(now + 300), "nonce": "0x" + "ab" * 32, **auth_over}
    return {"x402Version": 2, "payload": {"signature": "0x00", "authorization": auth},
            "accepted": {"amount": str(sel.amount_atomic), "payTo": sel.pay_to, "asset": sel.asset, "network": sel.network}}


def test_what_the_sdk_signed_must_be_the_selection() -> None:
    sel, now = choose(accept()), int(time.time())
    check_signed(_payload(sel, now), sel, PAYER, now)
    for over in ({"to": "0x1111111111111111111111111111111111111111"}, {"value": "1001"}, {"from": PAY_TO},
                 {"validBefore": str(now + 301)}, {"validBefore": str(now)}, {"nonce": "0x01"}):
        with pytest.raises(Refusal) as info:
            check_signed(_payload(sel, now, **over), sel, PAYER, now)
        assert info.value.code == "signed_mismatch"


def test_answers() -> None:
    sel = choose(accept())
    good = {"success": True, "transaction": "0xabc", "network": "eip155:84532", "payer": PAYER}
    assert classify_answer(200, good, sel, PAYER) == (Outcome.SUCCESS, None)
    assert classify_answer(200, {**good, "network": "base-sepolia"}, sel, PAYER)[0] is Outcome.SUCCESS
    assert classify_answer(200, None, sel, PAYER) == (Outcome.UNRECONCILED, "no_receipt")
    assert classify_answer(200, {**good, "payer": PAY_TO}, sel, PAYER)[0] is Outcome.UNRECONCILED
    assert classify_answer(200, {**good, "network": "eip155:8453"}, sel, PAYER)[0] is Outcome.UNRECONCILED
    assert classify_answer(500, None, sel, PAYER) == (Outcome.UNRECONCILED, "http_500")
    assert classify_answer(302, good, sel, PAYER) == (Outcome.UNRECONCILED, "redirect_not_followed")
    assert classify_answer(402, {"success": False, "errorReason": "insufficient_funds"}, sel, PAYER) == \
        (Outcome.REJECTED, "insufficient_funds")


def test_plan_and_spend_controls() -> None:
    sel = choose(accept("base-sepolia", "1000"), version=1)
    plan = signing_plan(sel, 1_000_000, None)
    assert plan["domain"] == {"name": "USDC", "version": "2", "chainId": 84532, "verifyingContract": SEPOLIA_USDC}
    assert plan["message"]["validAfter"] == str(1_000_000 - 600) and plan["message"]["validBefore"] == str(1_000_300)
    controls = spend_controls(sel, Decimal("0.10"))
    assert controls["max_amount_per_payment"] == "$0.1"
    assert controls["allowed_assets"] == [{"network": "base-sepolia", "asset": SEPOLIA_USDC, "max_amount_per_payment": "100000"}]


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", ""])
def test_parse_usd_refuses(value: str) -> None:
    with pytest.raises(ValueError):
        parse_usd(value)


def test_parse_usd() -> None:
    assert parse_usd("$0.25") == Decimal("0.25") and parse_usd(0.1) == Decimal("0.1")


def test_the_address_guard_checks_what_names_resolve_to(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    from index.testbuy.fetch import Blocked, guard

    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://10.0.0.1/x", "ftp://x.example/y", "http://2130706433/x"):
        with pytest.raises(Blocked):
            guard(url)
    guard("http://127.0.0.1:8080/x", allow_private=True)
    guard("http://127.0.0.1:8080/x", allow_hosts=frozenset({"127.0.0.1"}))

    def resolve(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        address = {"metadata.example": "169.254.169.254", "public.example": "93.184.216.34"}[host]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 80))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(Blocked, match="resolves to"):
        guard("http://metadata.example/latest")
    guard("https://public.example/pay")  # no connection is made: only the name is resolved (stubbed)
