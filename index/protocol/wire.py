"""The x402 wire: header names and the base64 JSON they carry. Pure, no I/O.

A v2 challenge travels base64-encoded in PAYMENT-REQUIRED; payments and receipts in PAYMENT-SIGNATURE /
PAYMENT-RESPONSE (v1: X-PAYMENT / X-PAYMENT-RESPONSE). `decode_header_json` is lenient the way the
reference clients are (whitespace, missing padding) and says so with a finding.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from index.findings import finding
from index.untrusted import safe_json_loads

# Header names (case-insensitive on the wire). One home for them.
PAYMENT_REQUIRED = "PAYMENT-REQUIRED"
PAYMENT_SIGNATURE = "PAYMENT-SIGNATURE"
PAYMENT_RESPONSE = "PAYMENT-RESPONSE"
X_PAYMENT = "X-PAYMENT"
X_PAYMENT_RESPONSE = "X-PAYMENT-RESPONSE"
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_VALUES = 8  # values of one repeated header we decode and compare; the rest are counted
_WHITESPACE = re.compile(rb"\s+")


def header_values(headers: Mapping[str, Any], name: str) -> list[str | bytes]:
    """Every value of header `name` (any case; str or bytes keys, single or listed values), in order.

    A header sent on several lines reaches us as a list (Scrapy) or joined by ", " (httpx, RFC 9110
    §5.3). Base64 has no comma, so a joined value of a base64 header is split back into its values.
    """
    lname = name.lower()
    out: list[str | bytes] = []
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() != lname:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(item, str | bytes):
                continue
            comma = b"," if isinstance(item, bytes) else ","
            if comma in item:  # type: ignore[operator]
                out.extend(part.strip() for part in item.split(comma) if part.strip())  # type: ignore[arg-type]
            elif item.strip():
                out.append(item)  # as sent: decode_header_json flags whitespace it had to remove
    return out


def _lenient_base64(raw: bytes) -> bytes:
    """Base64 after removing whitespace and repairing the padding, as the reference clients tolerate.

    Characters outside the standard alphabet still fail (ValueError).
    """
    data = _WHITESPACE.sub(b"", raw).rstrip(b"=")
    if not data or len(data) % 4 == 1:
        raise ValueError("header_invalid_base64")
    try:
        return base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("header_invalid_base64") from None


def decode_header_json(value: str | bytes, findings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Decode a base64 JSON header. Raises ValueError with a finding code as message.

    Strict base64 first; a header that decodes only without its whitespace or with repaired padding is
    accepted and, when `findings` is given, flagged `header_base64_lenient`.
    """
    if len(value) > MAX_HEADER_BYTES:
        raise ValueError("header_too_large")
    try:
        raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    except UnicodeEncodeError:
        raise ValueError("header_invalid_base64") from None  # base64 is ASCII
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        decoded = _lenient_base64(raw)
        if findings is not None:
            findings.append(finding("header_base64_lenient", PAYMENT_REQUIRED))
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid_encoding") from None
    try:
        obj = safe_json_loads(text)
    except ValueError:
        raise ValueError("header_invalid_json") from None
    if not isinstance(obj, dict):
        raise ValueError("header_invalid_json")
    return obj


def encode_header_json(obj: Any) -> str:
    """Standard base64 (with padding) of compact UTF-8 JSON, as the reference SDKs send it."""
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode("utf-8")).decode("ascii")
