"""L402 and MPP 402 challenges: the protocol named, the price when the challenge states one."""

from __future__ import annotations

import base64
import json

import pytest

from index.protocol.other402 import bolt11_msat, other_protocol, parse_auth_challenges

# A real-shaped BOLT11 invoice (mainnet, 2500u = 250,000 sat); the data part is irrelevant to the amount.
INVOICE = ("lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4js"
           "xqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp")
MACAROON = "AgEEbHNhdAJCAAAClGOZrh7C569Yc7UMk8merfnMdIviyXr1qscW7VgpChNl2HU="


def b64url(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def test_l402_challenge_with_invoice_amount():
    found = other_protocol(402, {"WWW-Authenticate": f'L402 macaroon="{MACAROON}", invoice="{INVOICE}"'})
    assert found["protocol"] == "l402"
    assert found["price"] == {"amount": "250000", "unit": "sat", "source": "invoice"}
    assert found["challenges"][0]["has_macaroon"] is True
    assert found["challenges"][0]["network"] == "bitcoin"


@pytest.mark.parametrize("header", [
    f'L402 token="{MACAROON}", invoice="{INVOICE}"',  # bLIP-26 alias
    f'LSAT macaroon="{MACAROON}", invoice="{INVOICE}"',  # the old name
    f'L402 version="1", token="{MACAROON}", payment_request="{INVOICE}"',
])
def test_l402_variants(header):
    found = other_protocol(402, {"www-authenticate": header})
    assert found["protocol"] == "l402" and found["price"]["amount"] == "250000"


def test_l402_price_from_header_when_invoice_has_no_amount():
    found = other_protocol(402, {b"Www-Authenticate": [f'L402 macaroon="{MACAROON}", invoice="lnbc1pvjluez"'.encode()],
                                 "x-l402-price": "21 sats"})
    assert found["price"] == {"amount": "21", "unit": "sat", "source": "x-l402-price"}


def test_mpp_charge_challenge_with_usd_price():
    request = b64url({"amount": "5000", "currency": "usd", "description": "Premium API access"})
    found = other_protocol(402, {"WWW-Authenticate": f'Payment id="abc", realm="api.example.com", method="stripe", '
                                                      f'intent="charge", request="{request}"'})
    assert found["protocol"] == "mpp"
    assert found["price"] == {"amount": "5000", "unit": "usd", "source": "request", "decimal": "50"}
    assert found["challenges"][0]["method"] == "stripe" and found["challenges"][0]["intent"] == "charge"


def test_mpp_token_price_with_decimals_and_recipient():
    request = b64url({"amount": "10000", "currency": "0x20c0000000000000000000000000000000000001",
                      "recipient": "0x742d35Cc6634C0532925a3b844Bc9e7595f8fE00", "methodDetails": {"chainId": 42431, "decimals": 6}})
    found = other_protocol(402, {"WWW-Authenticate": f'Payment id="x", method="tempo", intent="charge", request="{request}"'})
    assert found["price"]["decimal"] == "0.01"
    assert found["challenges"][0]["recipient"].startswith("0x742d")


def test_mpp_and_l402_in_one_header_are_both_read():
    request = b64url({"amount": "100", "currency": "sat"})
    header = f'L402 macaroon="{MACAROON}", invoice="lnbc1pvjluez", Payment id="p", method="lightning", intent="charge", request="{request}"'
    found = other_protocol(402, {"WWW-Authenticate": header})
    assert [c["protocol"] for c in found["challenges"]] == ["l402", "mpp"]
    assert found["protocol"] == "mpp"  # the one that states a price names the endpoint's price
    assert found["price"]["amount"] == "100"


def test_mpp_without_readable_request_has_no_price():
    found = other_protocol(402, {"WWW-Authenticate": 'Payment id="x", method="tempo", request="!!notbase64"'})
    assert found == {"protocol": "mpp", "challenges": [{"protocol": "mpp", "method": "tempo"}]}


@pytest.mark.parametrize("status, headers", [
    (200, {"WWW-Authenticate": f'L402 macaroon="m", invoice="{INVOICE}"'}),
    (402, {"PAYMENT-REQUIRED": "eyJ4NDAyVmVyc2lvbiI6Mn0="}),
    (402, {"WWW-Authenticate": 'Bearer realm="x"'}),
    (402, {"WWW-Authenticate": "\x00\x01 garbage ,,,=\"unterminated"}),
    (402, {}),
])
def test_not_another_protocol(status, headers):
    assert other_protocol(status, headers) is None


def test_auth_header_parser():
    assert parse_auth_challenges('Basic realm="a, b", charset=UTF-8, Newauth abc==') == [
        ("basic", {"realm": "a, b", "charset": "UTF-8"}), ("newauth", {"": "abc=="})]
    assert parse_auth_challenges('L402 macaroon="a\\"b"') == [("l402", {"macaroon": 'a"b'})]


@pytest.mark.parametrize("invoice, msat", [
    ("lnbc2500u1xyz", 250_000_000),
    ("lnbc1m1xyz", 100_000_000),
    ("lnbc10n1xyz", 1_000),
    ("lntb20m1xyz", 2_000_000_000),
    ("LNBC1500N1XYZ", 150_000),
    ("lnbc1pvjluez", None),  # no amount
    ("lnbc15p1xyz", None),  # not a whole millisatoshi
    ("bitcoin:abc", None),
])
def test_bolt11_amounts(invoice, msat):
    assert bolt11_msat(invoice) == msat


def test_hostile_header_is_bounded():
    header = ", ".join(f'L402 macaroon="{i}", invoice="lnbc10n1x"' for i in range(500))
    found = other_protocol(402, {"WWW-Authenticate": header})
    assert found["protocol"] == "l402" and len(found["challenges"]) <= 8
