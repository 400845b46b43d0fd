"""Pure x402 protocol knowledge: read a 402 answer (v1 JSON body, v2 base64 header) into plain data.

No I/O here. `parse_challenge(status, headers, body)` never raises on hostile input: whatever the
server sent, the result is a `Challenge` whose `findings` say what was wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from index.findings import finding
from index.networks import lookup_asset, lookup_network, to_caip2

# Header names (case-insensitive on the wire). One home for them.
PAYMENT_REQUIRED = "PAYMENT-REQUIRED"
PAYMENT_SIGNATURE = "PAYMENT-SIGNATURE"
PAYMENT_RESPONSE = "PAYMENT-RESPONSE"
X_PAYMENT = "X-PAYMENT"
X_PAYMENT_RESPONSE = "X-PAYMENT-RESPONSE"

MAX_HEADER_BYTES = 64 * 1024
MAX_ACCEPTS = 20
MAX_DESCRIPTION = 2000
MAX_SHORT_TEXT = 200
MAX_AMOUNT_DIGITS = 78  # uint256
MAX_JSON_DEPTH = 128  # nesting beyond this is refused before parsing (the C scanner can overflow the stack)

_DIGITS = re.compile(r"[0-9]+")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class ResourceInfo(BaseModel):
    url: str | None = None
    description: str | None = None
    mime_type: str | None = None
    service_name: str | None = None
    tags: list[str] = Field(default_factory=list)
    icon_url: str | None = None


class Accept(BaseModel):
    """One accepts[] entry, normalized field by field whatever version declared it."""

    scheme: str | None = None
    network: str | None = None  # as the server wrote it
    network_caip2: str | None = None
    amount_atomic: str | None = None  # digits only, or None when the server's value is not usable
    amount_raw: str | None = None  # the server's value as text, kept when it was not usable
    asset: str | None = None
    pay_to: str | None = None
    max_timeout_seconds: int | None = None
    resource_url: str | None = None
    description: str | None = None
    mime_type: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)
    output_schema: Any = None  # v1 outputSchema, verbatim


class Challenge(BaseModel):
    """What a 402 answer says. `usable` is True when at least one accept can be priced."""

    x402_version: int | None = None
    source: str | None = None  # "header" | "body" | None
    error: str | None = None
    resource: ResourceInfo = Field(default_factory=ResourceInfo)
    accepts: list[Accept] = Field(default_factory=list)
    extensions: dict[str, Any] = Field(default_factory=dict)
    hints: dict[str, Any] = Field(default_factory=dict)
    findings: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return any(a.amount_atomic is not None and a.network_caip2 and a.pay_to for a in self.accepts)


# ---------------------------------------------------------------------------------------------
# text hygiene


def clean_text(value: Any, limit: int, findings: list[dict[str, Any]] | None = None, where: str = "") -> str | None:
    """A crawled string made safe to keep: str only, control and bidi characters removed, truncated."""
    if not isinstance(value, str):
        return None
    text = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))
    text = text.strip()
    if len(text) > limit:
        text = text[:limit]
        if findings is not None:
            findings.append(finding("text_truncated", where))
    return text or None


# ---------------------------------------------------------------------------------------------
# decoding


def _header(headers: Mapping[str, Any], name: str) -> str | bytes | None:
    lname = name.lower()
    for key, value in headers.items():
        k = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if k.lower() == lname:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return value
    return None


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when JSON text nests deeper than `limit` (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


def safe_json_loads(data: bytes | str) -> Any:
    """json.loads that turns every way JSON can fail (including nesting bombs) into ValueError."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if json_depth_exceeds(text):
        raise ValueError("JSON nested too deeply")
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def decode_header_json(value: str | bytes) -> dict[str, Any]:
    """Decode a base64 JSON header strictly. Raises ValueError with a finding code as message."""
    if len(value) > MAX_HEADER_BYTES:
        raise ValueError("header_too_large")
    try:
        raw = value.encode("ascii") if isinstance(value, str) else bytes(value)
    except UnicodeEncodeError:
        raise ValueError("header_invalid_base64") from None  # base64 is ASCII
    try:
        decoded = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("header_invalid_base64") from None
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


def _body_json(body: bytes, findings: list[dict[str, Any]]) -> Any:
    if not body or not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        findings.append(finding("invalid_encoding", "body"))
        return None
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None  # HTML paywall or plain text: not a JSON challenge, and not an error by itself
    try:
        return safe_json_loads(text)
    except ValueError:
        findings.append(finding("body_invalid_json", "body"))
        return None


# ---------------------------------------------------------------------------------------------
# normalization


def _amount(entry: Mapping[str, Any], where: str, findings: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    value = entry.get("amount", entry.get("maxAmountRequired"))
    if value is None:
        findings.append(finding("missing_field", where, "amount"))
        return None, None
    if isinstance(value, bool):
        findings.append(finding("amount_not_atomic", where, "boolean"))
        return None, str(value)
    if isinstance(value, int):
        if value < 0 or len(str(value)) > MAX_AMOUNT_DIGITS:
            findings.append(finding("amount_not_atomic", where, str(value)[:80]))
            return None, str(value)[:80]
        findings.append(finding("amount_not_string", where))
        value = str(value)
    if not isinstance(value, str) or not _DIGITS.fullmatch(value) or len(value) > MAX_AMOUNT_DIGITS:
        raw = value if isinstance(value, str) else json.dumps(value)[:80]
        findings.append(finding("amount_not_atomic", where, raw[:80]))
        return None, raw[:80]
    atomic = str(int(value))  # drops leading zeros
    if atomic == "0":
        findings.append(finding("amount_zero", where))
    return atomic, None


def _timeout(value: Any, where: str, findings: list[dict[str, Any]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > 86_400 * 30:
        findings.append(finding("timeout_invalid", where, None if value is None else str(value)[:40]))
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None
    return value


def normalize_accept(entry: Any, index: int, version: int | None, findings: list[dict[str, Any]]) -> Accept | None:
    """One accepts entry → Accept, reading v1 and v2 field names alike."""
    where = f"accepts[{index}]"
    if not isinstance(entry, dict):
        findings.append(finding("accept_not_object", where))
        return None
    for required in ("scheme", "network", "asset", "payTo"):
        if not isinstance(entry.get(required), str) or not entry.get(required):
            findings.append(finding("missing_field", where, required))
    network = clean_text(entry.get("network"), MAX_SHORT_TEXT)
    caip2 = to_caip2(network)
    net = lookup_network(network)
    if network and net is None:
        findings.append(finding("network_unknown", where, network))
    if version == 2 and network and net is not None and ":" not in network:
        findings.append(finding("network_not_caip2", where, network))
    amount, amount_raw = _amount(entry, where, findings)
    asset = clean_text(entry.get("asset"), MAX_SHORT_TEXT)
    if caip2 and asset and lookup_asset(caip2, asset) is None:
        findings.append(finding("asset_unknown", where, asset))
    extra = entry.get("extra") if isinstance(entry.get("extra"), dict) else {}
    return Accept(
        scheme=clean_text(entry.get("scheme"), MAX_SHORT_TEXT),
        network=network,
        network_caip2=caip2,
        amount_atomic=amount,
        amount_raw=amount_raw,
        asset=asset,
        pay_to=clean_text(entry.get("payTo"), MAX_SHORT_TEXT),
        max_timeout_seconds=_timeout(entry.get("maxTimeoutSeconds"), where, findings),
        resource_url=clean_text(entry.get("resource"), 2048),
        description=clean_text(entry.get("description"), MAX_DESCRIPTION, findings, where),
        mime_type=clean_text(entry.get("mimeType"), MAX_SHORT_TEXT),
        extra=extra,
        output_schema=entry.get("outputSchema", entry.get("output_schema")),
    )


def _resource_info(obj: Mapping[str, Any], accepts: list[Accept], findings: list[dict[str, Any]]) -> ResourceInfo:
    res = obj.get("resource")
    if isinstance(res, dict):
        tags = res.get("tags") if isinstance(res.get("tags"), list) else []
        return ResourceInfo(
            url=clean_text(res.get("url"), 2048),
            description=clean_text(res.get("description"), MAX_DESCRIPTION, findings, "resource.description"),
            mime_type=clean_text(res.get("mimeType"), MAX_SHORT_TEXT),
            service_name=clean_text(res.get("serviceName"), 32),
            tags=[t for t in (clean_text(t, 32) for t in tags[:5]) if t],
            icon_url=clean_text(res.get("iconUrl"), 2048),
        )
    # v1: the resource facts ride on each accept
    first = accepts[0] if accepts else Accept()
    return ResourceInfo(
        url=clean_text(res, 2048) or first.resource_url,
        description=first.description,
        mime_type=first.mime_type,
    )


def _hints(extensions: Mapping[str, Any], accepts: list[Accept]) -> dict[str, Any]:
    """Input/output hints: the v2 bazaar extension first, else the v1 outputSchema."""
    bazaar = extensions.get("bazaar")
    if isinstance(bazaar, dict) and isinstance(bazaar.get("info"), dict):
        info = bazaar["info"]
        hints: dict[str, Any] = {"source": "bazaar"}
        if info.get("input") is not None:
            hints["input"] = info["input"]
        if info.get("output") is not None:
            hints["output"] = info["output"]
        schema = bazaar.get("schema")
        if isinstance(schema, dict):
            input_schema = (schema.get("properties") or {}).get("input")
            if isinstance(input_schema, dict):
                hints["input_schema"] = input_schema
        return hints
    for acc in accepts:
        schema = acc.output_schema
        if isinstance(schema, dict) and (schema.get("input") is not None or schema.get("output") is not None):
            hints = {"source": "outputSchema"}
            if schema.get("input") is not None:
                hints["input"] = schema["input"]
            if schema.get("output") is not None:
                hints["output"] = schema["output"]
            return hints
    return {}


def challenge_from_object(obj: Mapping[str, Any], source: str, findings: list[dict[str, Any]] | None = None) -> Challenge:
    """Normalize a decoded challenge object (v1 or v2) into a Challenge."""
    findings = findings if findings is not None else []
    version = obj.get("x402Version")
    if isinstance(version, bool) or version not in (1, 2):
        findings.append(finding("version_unsupported", detail=str(version)[:20]))
        version = None
    raw_accepts = obj.get("accepts")
    if not isinstance(raw_accepts, list) or not raw_accepts:
        findings.append(finding("accepts_empty"))
        raw_accepts = []
    if len(raw_accepts) > MAX_ACCEPTS:
        findings.append(finding("accepts_too_many", detail=str(len(raw_accepts))))
        raw_accepts = raw_accepts[:MAX_ACCEPTS]
    accepts = [a for i, e in enumerate(raw_accepts) if (a := normalize_accept(e, i, version, findings))]
    extensions = obj.get("extensions") if isinstance(obj.get("extensions"), dict) else {}
    resource = _resource_info(obj, accepts, findings)
    if not resource.url:
        findings.append(finding("resource_missing"))
    if not resource.description and not any(a.description for a in accepts):
        findings.append(finding("description_missing"))
    if version == 1:
        findings.append(finding("v1_only"))
    return Challenge(
        x402_version=version,
        source=source,
        error=clean_text(obj.get("error"), MAX_SHORT_TEXT),
        resource=resource,
        accepts=accepts,
        extensions=extensions,
        hints=_hints(extensions, accepts),
        findings=findings,
    )


def _comparable(obj: Mapping[str, Any]) -> Any:
    return [(a.get("network"), str(a.get("amount", a.get("maxAmountRequired"))), a.get("payTo"), a.get("asset"))
            for a in obj.get("accepts") or [] if isinstance(a, dict)]


def parse_challenge(status: int, headers: Mapping[str, Any], body: bytes) -> Challenge:
    """Read a 402 answer. The v2 header wins; a v1 body (or a v2 body without header) is the fallback."""
    findings: list[dict[str, Any]] = []
    header_obj: dict[str, Any] | None = None
    raw_header = _header(headers, PAYMENT_REQUIRED)
    if raw_header:
        try:
            header_obj = decode_header_json(raw_header)
        except ValueError as exc:
            findings.append(finding(str(exc), PAYMENT_REQUIRED))
    body_obj = _body_json(body, findings)
    body_is_challenge = isinstance(body_obj, dict) and "x402Version" in body_obj and "accepts" in body_obj

    if header_obj is not None:
        if body_is_challenge and _comparable(body_obj) != _comparable(header_obj):
            findings.append(finding("header_body_conflict"))
        return challenge_from_object(header_obj, "header", findings)
    if body_is_challenge:
        if body_obj.get("x402Version") == 2:
            findings.append(finding("v2_in_body_only"))
        return challenge_from_object(body_obj, "body", findings)
    if status == 402 and not any(f["code"].startswith("header_") for f in findings):
        findings.append(finding("no_challenge"))
    return Challenge(findings=findings)
