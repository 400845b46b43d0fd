"""`x-payment-info` (x402scan's OpenAPI convention, x402-protocol.md §5.2): the protocols an operation
accepts and the price it declares (decimal USD, fixed or dynamic, in several spellings; the USD text
itself is read by index.protocol.declared.usd_amount)."""

from __future__ import annotations

import re
from typing import Any

from index.protocol.declared import usd_amount

USD_CURRENCIES = ("USD", "USDC")
_PROTOCOL = re.compile(r"[a-z0-9][a-z0-9._\-]{0,31}")


def payment_declared(info: Any) -> dict[str, Any]:
    """What an operation's `x-payment-info` declares: {"price_usd"?, "price_dynamic"?, "price_min_usd"?,
    "price_max_usd"?, "protocols"?}. Spellings seen: {"price": "$0.01"}, {"amount": "0.01",
    "currency": "USD"}, {"price": {"mode": "fixed", "currency": "USD", "amount": "0.010000"}},
    {"price": {"mode": "dynamic", "min": "0.01", "max": "1.00"}}, {"dynamic": true, "min", "max"}."""
    out: dict[str, Any] = {}
    if not isinstance(info, dict):
        return out
    protocols = _protocols(info.get("protocols", info.get("protocol")))
    if protocols:
        out["protocols"] = protocols
    price = info.get("price", info.get("pricing"))
    box = price if isinstance(price, dict) else info

    def pick(*keys: str) -> Any:
        for key in keys:
            for where in (box, info):
                if where.get(key) is not None:
                    return where[key]
        return None

    currency = pick("currency")
    if isinstance(currency, str) and currency.strip().upper() not in USD_CURRENCIES:
        return out  # a price in another currency: no USD claim to compare
    mode = pick("mode", "pricingMode", "type")
    dynamic = (isinstance(mode, str) and mode.strip().lower() == "dynamic") or pick("dynamic") is True
    if dynamic:
        out["price_dynamic"] = True
        low, high = usd_amount(pick("min", "minAmount", "minimum")), usd_amount(pick("max", "maxAmount", "maximum"))
        if low is not None:
            out["price_min_usd"] = low
        if high is not None:
            out["price_max_usd"] = high
        return out
    amount = usd_amount(price) if not isinstance(price, dict) and price is not None else None
    if amount is None:
        amount = usd_amount(pick("amount", "price", "value", "usd"))
    if amount is not None:
        out["price_usd"] = amount
        out["price_dynamic"] = False
    return out


def _protocols(value: Any) -> list[str]:
    """["x402"], [{"x402": {}}], [{"name": "x402"}] or "x402" → ["x402"]."""
    if isinstance(value, str | dict):
        value = [value]
    if not isinstance(value, list):
        return []
    names: list[str] = []
    for entry in value[:10]:
        if isinstance(entry, dict):
            candidates = [entry["name"]] if isinstance(entry.get("name"), str) else list(entry)[:5]
        else:
            candidates = [entry]
        for name in candidates:
            text = name.strip().lower() if isinstance(name, str) else ""
            if _PROTOCOL.fullmatch(text) and text not in names:
                names.append(text)
    return names
