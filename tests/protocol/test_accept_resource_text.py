"""v2 challenges carry description and mimeType on `resource`, not on each accept: every accept of the
parsed challenge says them anyway, while an accept's own text wins (issue 18, protocol side)."""

from __future__ import annotations

from index.protocol.challenge import challenge_from_object

PAY_TO = "0x209693Bc6afc0C5328bA36FaF03C514EF312287C"
USDC = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"


def _accept(**extra: object) -> dict[str, object]:
    return {"scheme": "exact", "network": "eip155:8453", "amount": "1000", "asset": USDC, "payTo": PAY_TO,
            "maxTimeoutSeconds": 60, "extra": {"name": "USD Coin", "version": "2"}, **extra}


def test_v2_accepts_take_the_resource_text() -> None:
    ch = challenge_from_object({"x402Version": 2, "resource": {"url": "https://a.example/x", "description": "Quotes",
                                                               "mimeType": "application/json"},
                                "accepts": [_accept(), _accept(network="eip155:84532")]}, "header")
    assert [(a.description, a.mime_type) for a in ch.accepts] == [("Quotes", "application/json")] * 2


def test_an_accepts_own_text_wins() -> None:
    ch = challenge_from_object({"x402Version": 2, "resource": {"url": "https://a.example/x", "description": "Quotes",
                                                               "mimeType": "application/json"},
                                "accepts": [_accept(description="Own words", mimeType="text/plain")]}, "header")
    [acc] = ch.accepts
    assert (acc.description, acc.mime_type) == ("Own words", "text/plain")
    assert (ch.resource.description, ch.resource.mime_type) == ("Quotes", "application/json")


def test_nothing_to_take_stays_none_with_its_findings() -> None:
    ch = challenge_from_object({"x402Version": 2, "resource": {"url": "https://a.example/x"}, "accepts": [_accept()]},
                               "header")
    [acc] = ch.accepts
    assert (acc.description, acc.mime_type) == (None, None)
    assert {"description_missing", "mime_type_missing"} <= {f["code"] for f in ch.findings}


def test_v1_accepts_share_the_first_accepts_text() -> None:
    v1 = {"scheme": "exact", "network": "base", "maxAmountRequired": "1000", "resource": "https://a.example/x",
          "asset": USDC, "payTo": PAY_TO, "maxTimeoutSeconds": 60, "extra": {"name": "USD Coin", "version": "2"}}
    ch = challenge_from_object({"x402Version": 1, "accepts": [{**v1, "description": "Quotes", "mimeType": "application/json"},
                                                               {**v1, "network": "base-sepolia"}]}, "body")
    assert [(a.description, a.mime_type) for a in ch.accepts] == [("Quotes", "application/json")] * 2
