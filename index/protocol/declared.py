"""What a discovery source declared about an endpoint, checked against its live 402.

A source (facilitator listing, well-known manifest, OpenAPI x-payment-info) is never trusted over a
live probe; when the two disagree the record gets a finding:

- `declared_price_mismatch`: the declared USD price (`price_usd`, a dynamic `price_min_usd`..
  `price_max_usd` range, or a declared accept's amount on the same network and asset) differs from
  every live USD price beyond rounding. "Rounding" is half a unit of the declared value's last decimal
  place, and never more than half a cent: "$0.01" covers 0.005..0.015, "0.010000" only 0.01.
- `declared_terms_mismatch`: a declared accept's network, asset or payTo (those it states) match no
  live accept.

Pure: no I/O, never raises on hostile input.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from index.findings import finding
from index.protocol.networks import atomic_to_decimal, format_decimal, lookup_asset, to_caip2

MAX_DECLARED_ACCEPTS = 20
MAX_FINDINGS = 5
HALF_CENT = Decimal("0.005")

# The one reading of a USD price written as text: "0.01", "$0.01", "0.010000", "0.01 USD", "$1 USDC".
_USD = re.compile(r"\$?\s*([0-9]{1,15})(?:\.([0-9]{1,18}))?\s*(?:USDC?)?", re.IGNORECASE)
_DIGITS = re.compile(r"[0-9]{1,78}")


def _usd_match(value: Any) -> re.Match[str] | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    return _USD.fullmatch(value.strip())


def usd_amount(value: Any) -> str | None:
    """A decimal USD amount as text ("0.01") from "$0.01", "0.010000", "0.01 USD" or a JSON number,
    as a source wrote it (what `declared_usd` later reads)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        except (InvalidOperation, ValueError):
            return None
        if not number.is_finite() or number < 0 or number >= Decimal(10) ** 15:
            return None
        return format(number, "f")
    match = _usd_match(value)
    if match is None:
        return None
    return match.group(1) if match.group(2) is None else f"{match.group(1)}.{match.group(2)}"


def declared_usd(value: Any) -> tuple[Decimal, Decimal] | None:
    """(amount, rounding tolerance) of a declared USD price ("0.01", "$0.01", 0.01), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = repr(value) if isinstance(value, float) else str(value)
        if "e" in value.lower() or "inf" in value.lower() or "nan" in value.lower() or value.startswith("-"):
            return None
    match = _usd_match(value)
    if not match:
        return None
    places = len(match.group(2) or "")
    try:
        amount = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    except InvalidOperation:
        return None
    half_unit = Decimal(5).scaleb(-(places + 1))
    return amount, min(half_unit, HALF_CENT)


def live_usd(accept: Any) -> Decimal | None:
    """The USD price of a normalized accept dict (amount_atomic of a known USD-pegged asset), or None."""
    if not isinstance(accept, dict):
        return None
    atomic = accept.get("amount_atomic")
    if not isinstance(atomic, str) or not _DIGITS.fullmatch(atomic):
        return None
    network = _network(accept)
    asset = lookup_asset(network, accept.get("asset") if isinstance(accept.get("asset"), str) else None)
    if asset is None or not asset.usd_pegged:
        return None
    return atomic_to_decimal(int(atomic), asset.decimals)


def _network(accept: dict[str, Any]) -> str | None:
    for key in ("network_caip2", "network"):
        value = accept.get(key)
        if isinstance(value, str) and value:
            return to_caip2(value) or value
    return None


def _address(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value.lower() if value.startswith("0x") else value


def _usd_text(value: Decimal) -> str:
    """$0.10, $1.00, $0.001: at least cents, every significant digit."""
    text = format_decimal(value)
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _live_text(prices: list[Decimal]) -> str:
    distinct = sorted(set(prices))
    shown = ", ".join(_usd_text(p) for p in distinct[:3])
    return shown + (", …" if len(distinct) > 3 else "")


def _fits(declared: Decimal, tolerance: Decimal, live: Decimal, scheme: Any) -> bool:
    if scheme == "upto":  # the live amount is a maximum: any declared price up to it fits
        return declared <= live + tolerance
    return abs(declared - live) <= tolerance


def _price_findings(declared: dict[str, Any], live: list[tuple[Decimal, Any]]) -> list[dict[str, Any]]:
    if not live:
        return []
    prices = [p for p, _ in live]
    if declared.get("price_dynamic") is True:
        low = declared_usd(declared.get("price_min_usd"))
        high = declared_usd(declared.get("price_max_usd"))
        if low is None and high is None:
            return []
        floor = low[0] - low[1] if low else Decimal(0)
        ceiling = high[0] + high[1] if high else None
        def inside(price: Decimal, scheme: Any) -> bool:
            if scheme == "upto":  # charges up to `price`: fits when the range reaches below it
                return floor <= price
            return floor <= price and (ceiling is None or price <= ceiling)

        if any(inside(p, s) for p, s in live):
            return []
        span = f"{_usd_text(low[0]) if low else '$0'}–{_usd_text(high[0]) if high else '…'}"
        return [finding("declared_price_mismatch", "declared.price_usd", f"declared {span} (dynamic), live {_live_text(prices)}")]
    parsed = declared_usd(declared.get("price_usd"))
    if parsed is None:
        return []
    amount, tolerance = parsed
    if any(_fits(amount, tolerance, p, s) for p, s in live):
        return []
    return [finding("declared_price_mismatch", "declared.price_usd", f"declared {_usd_text(amount)}, live {_live_text(prices)}")]


def _terms(accept: dict[str, Any]) -> dict[str, str]:
    """The terms a declared accept states: network (CAIP-2), asset and payTo, compared case-insensitively
    for 0x addresses."""
    out: dict[str, str] = {}
    network = _network(accept)
    if network:
        out["network"] = network
    asset = _address(accept.get("asset"))
    if asset:
        out["asset"] = asset
    pay_to = _address(accept.get("pay_to", accept.get("payTo")))
    if pay_to:
        out["pay_to"] = pay_to
    return out


def _describe(terms: dict[str, str]) -> str:
    return " ".join(f"{k}={v[:66]}" for k, v in terms.items())


def _accept_findings(declared_accepts: list[Any], live: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    live_terms = [_terms(a) for a in live]
    for i, accept in enumerate(declared_accepts[:MAX_DECLARED_ACCEPTS]):
        if not isinstance(accept, dict):
            continue
        terms = _terms(accept)
        if not terms:
            continue
        matching = [lv for lv, lt in zip(live, live_terms, strict=True) if all(lt.get(k) == v for k, v in terms.items())]
        where = f"declared.accepts[{i}]"
        if not matching:
            shown = "; ".join(_describe(t) for t in live_terms[:2]) + ("; …" if len(live_terms) > 2 else "")
            out.append(finding("declared_terms_mismatch", where, f"declared {_describe(terms)}; live {shown}"[:400]))
            continue
        price = live_usd(accept)
        live_prices = [(p, lv.get("scheme")) for lv in matching if (p := live_usd(lv)) is not None]
        if price is not None and live_prices and not any(_fits(price, Decimal(0), p, s) for p, s in live_prices):
            detail = f"declared {_usd_text(price)}, live {_live_text([p for p, _ in live_prices])}"
            out.append(finding("declared_price_mismatch", where, detail))
    return out


def compare_declared(declared: dict[str, Any], accepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings where a source's declared terms disagree with the live challenge's normalized accepts
    (dicts with amount_atomic, network_caip2, asset, pay_to, scheme). Nothing to compare, no findings."""
    if not isinstance(declared, dict) or not isinstance(accepts, list):
        return []
    live = [a for a in accepts[:MAX_DECLARED_ACCEPTS] if isinstance(a, dict)]
    if not live:
        return []
    try:
        priced = [(p, a.get("scheme")) for a in live if (p := live_usd(a)) is not None]
        findings = _price_findings(declared, priced)
        declared_accepts = declared.get("accepts")
        if isinstance(declared_accepts, list):
            findings += _accept_findings(declared_accepts, live)
    except (ValueError, TypeError, ArithmeticError):
        return []
    unique: list[dict[str, Any]] = []
    for f in findings:
        if all((f["code"], f.get("detail")) != (u["code"], u.get("detail")) for u in unique):
            unique.append(f)
    return unique[:MAX_FINDINGS]
