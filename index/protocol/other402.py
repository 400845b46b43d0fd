"""402 answers of other payment protocols: L402 (Lightning) and MPP (the `Payment` HTTP auth scheme).

An endpoint that answers 402 with one of these is a paid endpoint of another protocol, not a broken
x402 one. We name the protocol and, when the challenge states it, the price:

- L402 (formerly LSAT; bLIP-26): `WWW-Authenticate: L402 macaroon="…", invoice="lnbc…"` (`token=` is an
  alias of `macaroon=`; `payment_request=` of `invoice=`; the old scheme name `LSAT` occurs). The price is
  the BOLT11 invoice's amount, in satoshis; some sellers also send `x-l402-price` (sats).
- MPP: `WWW-Authenticate: Payment id="…", realm="…", method="tempo", intent="charge",
  request="<base64url JSON>"`, one challenge per method. The charge request's `amount` is in base units
  of `currency` (ISO 4217 codes count cents: `usd` 5000 = 50.00 USD).

Pure: headers in, a plain dict out; bounded, never raises on hostile input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_HEADER = 16 * 1024
MAX_CHALLENGES = 8
MAX_PARAM = 2048
MAX_REQUEST_JSON = 8 * 1024

L402_SCHEMES = frozenset({"l402", "lsat"})
MPP_SCHEME = "payment"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SPACE = re.compile(r"[ \t]*")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# hrp of a BOLT11 invoice: ln + currency prefix + optional amount (digits + optional multiplier).
_BOLT11 = re.compile(r"ln(bcrt|bc|tbs|tb|sb)(\d+)?([munp])?\Z")
_MSAT_PER_BTC = Decimal(100_000_000_000)
_MULTIPLIER = {None: Decimal(1), "m": Decimal("0.001"), "u": Decimal("0.000001"), "n": Decimal("0.000000001"),
               "p": Decimal("0.000000000001")}
_FIAT = re.compile(r"[a-z]{3}\Z")


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1", "replace")
    return value if isinstance(value, str) else ""


def header_values(headers: Mapping[Any, Any], name: str) -> list[str]:
    """Every value of a header, any key case, str or bytes, single or list."""
    lname = name.lower()
    out: list[str] = []
    for key, value in headers.items():
        if _text(key).lower() != lname:
            continue
        for v in value if isinstance(value, list | tuple) else [value]:
            text = _text(v)
            if text:
                out.append(text[:MAX_HEADER])
    return out


def parse_auth_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """`WWW-Authenticate` text → [(scheme lowercased, {param lowercased: value})] (RFC 9110 §11.6.1).

    Several challenges may share one header line, separated by commas; a token68 value is kept under
    the key "". Parsing stops quietly at the first thing that is not a challenge."""
    out: list[tuple[str, dict[str, str]]] = []
    pos, n = 0, min(len(value), MAX_HEADER)
    current: dict[str, str] | None = None
    while pos < n and len(out) <= MAX_CHALLENGES:
        pos = _skip(value, pos, n, ", \t")
        token = _TOKEN.match(value, pos, n)
        if not token:
            break
        name, end = token.group(0), token.end()
        after = _SPACE.match(value, end, n).end()
        if after < n and value[after] == "=" and current is not None and not value.startswith("==", after):
            pos, param = _param_value(value, _SPACE.match(value, after + 1, n).end(), n)
            if param is None:
                break
            if len(current) < 32:
                current.setdefault(name.lower(), param[:MAX_PARAM])
            continue
        # A new challenge: its scheme, then perhaps a token68 standing alone before the next comma.
        current = {}
        out.append((name.lower(), current))
        pos = after
        t68 = _TOKEN68.match(value, pos, n)
        if t68 and after > end:
            rest = _SPACE.match(value, t68.end(), n).end()
            if rest >= n or value[rest] == ",":
                current[""] = t68.group(0)[:MAX_PARAM]
                pos = rest
    return out[:MAX_CHALLENGES]


def _skip(value: str, pos: int, n: int, chars: str) -> int:
    while pos < n and value[pos] in chars:
        pos += 1
    return pos


def _param_value(value: str, pos: int, n: int) -> tuple[int, str | None]:
    if pos < n and value[pos] == '"':
        out: list[str] = []
        pos += 1
        while pos < n:
            char = value[pos]
            if char == "\\" and pos + 1 < n:
                out.append(value[pos + 1])
                pos += 2
                continue
            if char == '"':
                return pos + 1, "".join(out)
            out.append(char)
            pos += 1
        return n, None  # unterminated quote
    token = re.compile(r"[^,\s]+").match(value, pos, n)
    return (token.end(), token.group(0)) if token else (pos, None)


def bolt11_msat(invoice: str) -> int | None:
    """The amount of a BOLT11 invoice in millisatoshis; None when it states none or is not BOLT11."""
    text = invoice.strip().lower()
    if text.startswith("lightning:"):
        text = text[len("lightning:"):]
    sep = text.rfind("1")
    if sep < 4 or len(text) > 8192:
        return None
    match = _BOLT11.match(text[:sep])
    if not match or match.group(2) is None:
        return None
    msat = Decimal(match.group(2)) * _MULTIPLIER[match.group(3)] * _MSAT_PER_BTC
    if msat != msat.to_integral_value() or msat <= 0:
        return None
    return int(msat)


def _sats(msat: int) -> str:
    value = Decimal(msat) / 1000
    return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))


def _l402(params: dict[str, str], headers: Mapping[Any, Any]) -> dict[str, Any]:
    invoice = params.get("invoice") or params.get("payment_request") or ""
    out: dict[str, Any] = {"protocol": "l402", "has_macaroon": bool(params.get("macaroon") or params.get("token"))}
    msat = bolt11_msat(invoice) if invoice else None
    if msat is not None:
        out["price"] = {"amount": _sats(msat), "unit": "sat", "source": "invoice"}
    else:
        stated = next((v.strip() for v in header_values(headers, "x-l402-price") if v.strip()), "")
        number = re.match(r"(\d{1,15})\s*(?:sats?)?\Z", stated, re.I)
        if number:
            out["price"] = {"amount": str(int(number.group(1))), "unit": "sat", "source": "x-l402-price"}
    hrp = _BOLT11.match(invoice.strip().lower()[:invoice.strip().lower().rfind("1")]) if invoice else None
    if hrp:
        out["network"] = {"bc": "bitcoin", "tb": "testnet", "bcrt": "regtest", "tbs": "signet", "sb": "simnet"}[hrp.group(1)]
    return out


def _b64url_json(text: str) -> dict[str, Any] | None:
    if not text or len(text) > MAX_REQUEST_JSON * 2:
        return None
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        obj = json.loads(raw[:MAX_REQUEST_JSON * 2])
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


def _mpp(params: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": "mpp"}
    for key in ("method", "intent", "realm"):
        value = params.get(key, "").strip()
        if value and len(value) <= 200 and value.isprintable():
            out[key] = value
    request = _b64url_json(params.get("request", ""))
    if request is None:
        return out
    amount, currency = request.get("amount"), request.get("currency")
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = str(amount)
    if isinstance(amount, str) and amount.isdigit() and len(amount) <= 40 and isinstance(currency, str) \
            and 0 < len(currency) <= 100 and currency.isprintable():
        price: dict[str, Any] = {"amount": amount, "unit": currency, "source": "request"}
        if _FIAT.match(currency):
            price["decimal"] = _decimal(Decimal(amount) / 100)  # ISO 4217 base units: cents
        details = request.get("methodDetails")
        decimals = details.get("decimals") if isinstance(details, dict) else None
        if isinstance(decimals, int) and not isinstance(decimals, bool) and 0 <= decimals <= 36 and "decimal" not in price:
            price["decimal"] = _decimal(Decimal(amount).scaleb(-decimals))
        out["price"] = price
    recipient = request.get("recipient")
    if isinstance(recipient, str) and 0 < len(recipient) <= 200 and recipient.isprintable():
        out["recipient"] = recipient
    return out


def _decimal(value: Decimal) -> str:
    try:
        text = format(value.normalize(), "f")
    except InvalidOperation:
        return "0"
    return text


def other_protocol(status: int, headers: Mapping[Any, Any]) -> dict[str, Any] | None:
    """The other 402 protocol an answer speaks, or None.

    → {"protocol": "l402" | "mpp", "price"?: {"amount", "unit", "source", "decimal"?},
       "challenges": [each challenge read, in order]}; the first challenge that states a price gives
    `price` (an endpoint offering both L402 and MPP is named by the first one it lists)."""
    if status != 402:
        return None
    challenges: list[dict[str, Any]] = []
    for value in header_values(headers, "www-authenticate"):
        for scheme, params in parse_auth_challenges(value):
            if scheme in L402_SCHEMES:
                challenges.append(_l402(params, headers))
            elif scheme == MPP_SCHEME:
                challenges.append(_mpp(params))
            if len(challenges) >= MAX_CHALLENGES:
                break
    if not challenges:
        return None
    priced = next((c for c in challenges if "price" in c), None)
    head = priced or challenges[0]
    out: dict[str, Any] = {"protocol": head["protocol"], "challenges": challenges}
    if priced:
        out["price"] = priced["price"]
    return out
