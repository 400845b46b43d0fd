"""Pure x402 protocol knowledge: read a 402 answer (v1 JSON body, v2 base64 header) into plain data.

No I/O here. `parse_challenge(status, headers, body, probed_url=None)` never raises on hostile input:
whatever the server sent, the result is a `Challenge` whose `findings` say what was wrong. Accepts are
read field by field whatever version the challenge declares (a v2 challenge with v1 field names is
common in discovery data); the discovery hints come from `index.protocol.hints`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from pydantic import BaseModel, Field

from index.findings import finding
from index.protocol.hints import extract_hints
from index.protocol.networks import lookup_asset, lookup_network, to_caip2
from index.untrusted import clean_text, safe_json_loads
from index.urls import MAX_URL, canonical_url

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
MAX_TIMEOUT_SECONDS = 86_400 * 30
CDP_MAX_DESCRIPTION = 500  # the CDP facilitator rejects longer descriptions

KNOWN_SCHEMES = ("exact", "upto", "batch-settlement")

# Required accept fields per declared version (x402-protocol.md §1, §3). A challenge without a
# supported version is held to the v2 list.
V1_REQUIRED = ("scheme", "network", "maxAmountRequired", "resource", "payTo", "asset", "maxTimeoutSeconds")
V2_REQUIRED = ("scheme", "network", "amount", "asset", "payTo", "maxTimeoutSeconds")

# Service metadata limits of the bazaar spec ("Service Metadata"); invalid values are dropped, not cut.
MAX_SERVICE_NAME = 32
MAX_TAGS = 5
MAX_TAG = 32

# Address formats per CAIP-2 namespace; other namespaces (tvm, stellar, fiat rails…) are not judged.
_ADDRESS_FORMATS = {
    "eip155": re.compile(r"0x[0-9a-fA-F]{40}"),
    "solana": re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}"),
}
# Where a payment is lost: the zero address, the common 0x…dEaD burn address, Solana's system
# program and incinerator. EVM entries are lower case (compared case-insensitively).
BURN_ADDRESSES = frozenset({
    "0x0000000000000000000000000000000000000000",
    "0x000000000000000000000000000000000000dead",
    "11111111111111111111111111111111",
    "1nc1nerator11111111111111111111111111111111",
})

_DIGITS = re.compile(r"[0-9]+")
_WHITESPACE = re.compile(rb"\s+")


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

    @property
    def usable(self) -> bool:
        """True when a client could pay this option: an atomic amount, a CAIP-2 network, an asset and a
        payTo that are addresses of that namespace (when we know its format), a payTo that is no burn
        address, and on Solana a feePayer."""
        if self.amount_atomic is None or not self.network_caip2 or not self.pay_to or not self.asset:
            return False
        namespace = namespace_of(self.network_caip2)
        if is_address(namespace, self.pay_to) is False or is_address(namespace, self.asset) is False:
            return False
        if is_burn_address(self.pay_to):
            return False
        return namespace != "solana" or bool(is_address(namespace, self.extra.get("feePayer")))


class Challenge(BaseModel):
    """What a 402 answer says. `usable` is True when at least one accept could be paid (Accept.usable)."""

    x402_version: int | None = None
    source: str | None = None  # "header" | "body" | None
    error: str | None = None
    resource: ResourceInfo = Field(default_factory=ResourceInfo)
    accepts: list[Accept] = Field(default_factory=list)
    extensions: dict[str, Any] = Field(default_factory=dict)
    hints: dict[str, Any] = Field(default_factory=dict)  # shape: index.protocol.hints module docstring
    findings: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return any(a.usable for a in self.accepts)


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
# addresses


def namespace_of(caip2: str | None) -> str | None:
    """The CAIP-2 namespace ("eip155", "solana", …) of a network id."""
    return caip2.split(":", 1)[0] if caip2 and ":" in caip2 else None


def is_address(namespace: str | None, value: Any) -> bool | None:
    """Whether `value` is an address in this namespace; None when we do not know the namespace's format."""
    pattern = _ADDRESS_FORMATS.get(namespace or "")
    if pattern is None:
        return None
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def is_burn_address(value: Any) -> bool:
    """The zero address, 0x…dEaD, or a Solana system/incinerator address: money sent there is gone."""
    return isinstance(value, str) and (value.lower() if value.startswith("0x") else value) in BURN_ADDRESSES


# ---------------------------------------------------------------------------------------------
# normalization


def _amount(entry: Mapping[str, Any], name: str, where: str, findings: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(atomic digits or None, the raw value as text when unusable); reads `amount` or `maxAmountRequired`."""
    names = (name, "maxAmountRequired" if name == "amount" else "amount")
    value = next((entry[n] for n in names if entry.get(n) is not None), None)
    if value is None:
        findings.append(finding("missing_field", where, name))
        return None, None
    if isinstance(value, bool):
        findings.append(finding("amount_not_atomic", where, "boolean"))
        return None, str(value)
    if isinstance(value, int):
        if value < 0 or value >= 10**MAX_AMOUNT_DIGITS:  # compared as numbers: str() of a huge int raises
            raw = str(value)[:80] if abs(value) < 10**80 else "integer over 80 digits"
            findings.append(finding("amount_not_atomic", where, raw))
            return None, raw
        findings.append(finding("amount_not_string", where))
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_AMOUNT_DIGITS or not _DIGITS.fullmatch(value):
        raw = value[:80] if isinstance(value, str) else _json_text(value, 80)
        findings.append(finding("amount_not_atomic", where, raw))
        return None, raw
    atomic = str(int(value))  # drops leading zeros
    if atomic == "0":
        findings.append(finding("amount_zero", where))
    return atomic, None


def _json_text(value: Any, limit: int) -> str:
    """A scalar as JSON text for a finding's detail; containers are named, not dumped (they may nest deep)."""
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    try:
        return json.dumps(value)[:limit]
    except (ValueError, TypeError):
        return type(value).__name__


def _timeout(value: Any, where: str, findings: list[dict[str, Any]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_TIMEOUT_SECONDS:
        findings.append(finding("timeout_invalid", where, _json_text(value, 40)))
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None
    return value


def _resource_url(value: Any) -> str | None:
    if isinstance(value, Mapping):  # a v2-style resource object inside an accept
        value = value.get("url")
    return clean_text(value, MAX_URL)


def _description(value: Any, where: str, findings: list[dict[str, Any]]) -> str | None:
    if isinstance(value, str) and len(value) > CDP_MAX_DESCRIPTION:
        findings.append(finding("description_too_long", where, f"{len(value)} characters"))
    return clean_text(value, MAX_DESCRIPTION, findings, where)


def _mixed_fields(entry: Mapping[str, Any], version: int | None) -> list[str]:
    """Field names of the other version in an accept (a v2 accept with maxAmountRequired, …)."""
    if version == 2:
        names = [n for n in ("maxAmountRequired", "resource", "outputSchema", "output_schema") if n in entry]
        return [n for n in names if n != "maxAmountRequired" or "amount" not in entry]
    if version == 1 and "amount" in entry and "maxAmountRequired" not in entry:
        return ["amount"]
    return []


def normalize_accept(entry: Any, index: int, version: int | None, findings: list[dict[str, Any]]) -> Accept | None:
    """One accepts entry → Accept, reading v1 and v2 field names alike."""
    where = f"accepts[{index}]"
    if not isinstance(entry, dict):
        findings.append(finding("accept_not_object", where))
        return None
    required = V1_REQUIRED if version == 1 else V2_REQUIRED
    for name in ("scheme", "network", "asset", "payTo", "resource"):
        if name in required and (not isinstance(entry.get(name), str) or not entry[name].strip()):
            findings.append(finding("missing_field", where, name))
    mixed = _mixed_fields(entry, version)
    if mixed:
        findings.append(finding("version_fields_mixed", where, ", ".join(mixed)))

    scheme = clean_text(entry.get("scheme"), MAX_SHORT_TEXT)
    if scheme and scheme not in KNOWN_SCHEMES:
        findings.append(finding("scheme_unknown", where, scheme[:40]))
    network = clean_text(entry.get("network"), MAX_SHORT_TEXT)
    caip2 = to_caip2(network)
    net = lookup_network(network)
    if network and net is None:
        findings.append(finding("network_unknown", where, network[:80]))
    if version == 2 and network and net is not None and ":" not in network:
        findings.append(finding("network_not_caip2", where, network))
    namespace = namespace_of(caip2)
    amount, amount_raw = _amount(entry, "maxAmountRequired" if version == 1 else "amount", where, findings)

    asset = clean_text(entry.get("asset"), MAX_SHORT_TEXT)
    if asset and is_address(namespace, asset) is False:
        findings.append(finding("asset_not_address", where, asset[:80]))
    elif caip2 and asset and lookup_asset(caip2, asset) is None:
        findings.append(finding("asset_unknown", where, asset[:80]))
    pay_to = clean_text(entry.get("payTo"), MAX_SHORT_TEXT)
    if pay_to and is_address(namespace, pay_to) is False:
        findings.append(finding("pay_to_invalid", where, pay_to[:80]))
    elif pay_to and is_burn_address(pay_to):
        findings.append(finding("pay_to_zero", where, pay_to))

    extra = entry.get("extra") if isinstance(entry.get("extra"), dict) else {}
    _check_extra(scheme, namespace, caip2, asset, extra, where, findings)

    timeout = entry.get("maxTimeoutSeconds")
    if timeout is None and "maxTimeoutSeconds" in required:
        findings.append(finding("missing_field", where, "maxTimeoutSeconds"))
    return Accept(
        scheme=scheme,
        network=network,
        network_caip2=caip2,
        amount_atomic=amount,
        amount_raw=amount_raw,
        asset=asset,
        pay_to=pay_to,
        max_timeout_seconds=_timeout(timeout, where, findings) if timeout is not None else None,
        resource_url=_resource_url(entry.get("resource")),
        description=_description(entry.get("description"), f"{where}.description", findings),
        mime_type=clean_text(entry.get("mimeType"), MAX_SHORT_TEXT),
        extra=extra,
        output_schema=entry.get("outputSchema", entry.get("output_schema")),
    )


def _check_extra(scheme: str | None, namespace: str | None, caip2: str | None, asset: str | None,
                 extra: Mapping[str, Any], where: str, findings: list[dict[str, Any]]) -> None:
    """Scheme/namespace needs of `extra`: the EIP-712 domain for EVM exact (EIP-3009), feePayer on Solana.

    EVM accepts moved by Permit2 or ERC-7710 (extra.assetTransferMethod) sign another domain and are
    not checked.
    """
    if namespace == "eip155" and scheme == "exact" and extra.get("assetTransferMethod", "eip3009") == "eip3009":
        name, version = extra.get("name"), extra.get("version")
        if not (isinstance(name, str) and name and isinstance(version, str) and version):
            missing = [k for k, v in (("name", name), ("version", version)) if not (isinstance(v, str) and v)]
            findings.append(finding("evm_extra_missing", f"{where}.extra", ", ".join(missing)))
        else:
            known = lookup_asset(caip2, asset)
            if known is not None and known.eip712_name and (name, version) != (known.eip712_name, known.eip712_version):
                detail = f"{name[:40]!r}/{version[:10]!r}, registry {known.eip712_name!r}/{known.eip712_version!r}"
                findings.append(finding("evm_extra_mismatch", f"{where}.extra", detail))
    if namespace == "solana":
        fee_payer = extra.get("feePayer")
        if not is_address("solana", fee_payer):
            findings.append(finding("svm_fee_payer_missing", f"{where}.extra",
                                    None if fee_payer is None else f"not a Solana address: {_json_text(fee_payer, 60)}"))


def _duplicates(accepts: list[tuple[int, Accept]], findings: list[dict[str, Any]]) -> None:
    """One accepts_duplicate per entry that is repeated, naming the repeats."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, acc in accepts:
        key = (acc.scheme, acc.network_caip2 or acc.network, _address_key(acc.asset), _address_key(acc.pay_to),
               acc.amount_atomic or acc.amount_raw)
        groups.setdefault(key, []).append(index)
    for first, *repeats in groups.values():
        if repeats:
            named = ", ".join(f"accepts[{i}]" for i in repeats[:5]) + (", …" if len(repeats) > 5 else "")
            findings.append(finding("accepts_duplicate", f"accepts[{first}]", f"repeated by {named}"))


def _on_testnet(acc: Accept) -> bool:
    net = lookup_network(acc.network_caip2)
    return net is not None and net.testnet


def _address_key(value: str | None) -> str | None:
    return value.lower() if value and value.startswith("0x") else value


def _service_metadata(top: Mapping[str, Any], findings: list[dict[str, Any]]) -> tuple[str | None, list[str], str | None]:
    """serviceName, tags, iconUrl within the bazaar limits; a value that breaks them is dropped whole."""
    dropped: list[str] = []
    name = top.get("serviceName")
    if name is not None and not _service_name_ok(name):
        dropped.append("serviceName")
        name = None
    tags: list[str] = []
    raw_tags = top.get("tags")
    if raw_tags is not None:
        if not isinstance(raw_tags, list) or len(raw_tags) > MAX_TAGS:
            dropped.append("tags")
        else:
            tags = [t for t in raw_tags if _tag_ok(t)]
            if len(tags) != len(raw_tags):
                dropped.append("tags")
    icon = top.get("iconUrl")
    if icon is not None and not icon_url_ok(icon):
        dropped.append("iconUrl")
        icon = None
    if dropped:
        findings.append(finding("service_metadata_invalid", "resource", ", ".join(dropped)))
    return (name or None), tags, (icon or None)


def _service_name_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_SERVICE_NAME and all(" " <= c <= "~" for c in value)


def _tag_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TAG and clean_text(value, MAX_TAG) == value


def icon_url_ok(value: Any) -> bool:
    """An iconUrl the bazaar spec allows: absolute http(s), ≤ 2048, host not an IP literal nor localhost."""
    if not isinstance(value, str) or len(value) > MAX_URL or clean_text(value, MAX_URL) != value or " " in value:
        return False
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host.endswith(".localhost") or ":" in host:  # ':' only in IPv6 literals
        return False
    # dotted or bare numbers are IPv4 in some form (127.1, 2130706433, 0x7f.1): no TLD is all digits
    last = host.rsplit(".", 1)[-1]
    return not (last.isdigit() or last.lower().startswith("0x"))


def _resource_info(obj: Mapping[str, Any], accepts: list[Accept], findings: list[dict[str, Any]]) -> ResourceInfo:
    """v2 `resource{…}`, else the top-level fields (discovery items), else the first accept's v1 fields."""
    res = obj.get("resource")
    top: Mapping[str, Any] = res if isinstance(res, Mapping) else obj
    url = _resource_url(res) or next((a.resource_url for a in accepts if a.resource_url), None)
    description = _description(top.get("description"), "resource.description", findings) \
        or next((a.description for a in accepts if a.description), None)
    mime_type = clean_text(top.get("mimeType"), MAX_SHORT_TEXT) or next((a.mime_type for a in accepts if a.mime_type), None)
    service_name, tags, icon_url = _service_metadata(top, findings)
    return ResourceInfo(url=url, description=description, mime_type=mime_type, service_name=service_name,
                        tags=tags, icon_url=icon_url)


def _check_resource_url(url: str, probed_url: str, where: str, findings: list[dict[str, Any]]) -> None:
    """Compare a challenge's resource URL with the URL we probed.

    Rule: scheme and host are compared lower-cased, default ports dropped (index.urls.canonical_url);
    paths compared percent-decoded, trailing slashes ignored. The query string is ignored: it is
    per-call input (the reference server echoes the probe's query), not the resource's identity, as
    in our slugs. A relative resource URL is read against the probed URL. An http:// resource for an
    https probe is `resource_insecure` (typically a server behind a TLS proxy), not a mismatch.
    """
    try:
        ours = urlsplit(canonical_url(probed_url))
        theirs = urlsplit(canonical_url(urljoin(probed_url, url)))
    except ValueError:
        findings.append(finding("resource_url_mismatch", where, url[:200]))
        return
    if theirs.scheme == "http" and ours.scheme == "https":
        findings.append(finding("resource_insecure", where, url[:200]))
    if theirs.scheme not in ("http", "https") or theirs.netloc != ours.netloc or _path_key(theirs.path) != _path_key(ours.path):
        findings.append(finding("resource_url_mismatch", where, url[:200]))


def _path_key(path: str) -> str:
    return unquote(path).rstrip("/") or "/"


def challenge_from_object(obj: Mapping[str, Any], source: str, findings: list[dict[str, Any]] | None = None,
                          probed_url: str | None = None) -> Challenge:
    """Normalize a decoded challenge object (v1 or v2, or a discovery item) into a Challenge."""
    findings = findings if findings is not None else []
    if not isinstance(obj, Mapping):
        obj = {}
    version = obj.get("x402Version")
    if isinstance(version, bool) or version not in (1, 2):
        findings.append(finding("version_unsupported", detail=_json_text(version, 20)))
        version = None
    raw_accepts = obj.get("accepts")
    if not isinstance(raw_accepts, list) or not raw_accepts:
        findings.append(finding("accepts_empty"))
        raw_accepts = []
    if len(raw_accepts) > MAX_ACCEPTS:
        findings.append(finding("accepts_too_many", detail=str(len(raw_accepts))))
        raw_accepts = raw_accepts[:MAX_ACCEPTS]
    indexed = [(i, a) for i, e in enumerate(raw_accepts) if (a := normalize_accept(e, i, version, findings))]
    accepts = [a for _, a in indexed]
    _duplicates(indexed, findings)
    extensions = obj.get("extensions") if isinstance(obj.get("extensions"), dict) else {}
    resource = _resource_info(obj, accepts, findings)
    if not resource.url:
        findings.append(finding("resource_missing"))
    elif probed_url:
        for url in dict.fromkeys([resource.url] + [a.resource_url for a in accepts if a.resource_url]):
            _check_resource_url(url, probed_url, "resource.url", findings)
    if not resource.description:
        findings.append(finding("description_missing"))
    if not resource.mime_type:
        findings.append(finding("mime_type_missing"))
    usable = [a for a in accepts if a.usable]
    if usable and all(_on_testnet(a) for a in usable):
        findings.append(finding("testnet_only", detail=", ".join(sorted({a.network_caip2 or "" for a in usable}))))
    if version == 1:
        findings.append(finding("v1_only"))
    return Challenge(
        x402_version=version,
        source=source,
        error=clean_text(obj.get("error"), MAX_SHORT_TEXT),
        resource=resource,
        accepts=accepts,
        extensions=extensions,
        hints=extract_hints(extensions, raw_accepts, findings),
        findings=findings,
    )


def _comparable(obj: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """What must agree between a header and a body challenge: network, amount, payTo, asset per accept.

    Compared as a v1 body and a v2 header would say the same thing: CAIP-2 network, either amount
    field, EVM addresses in any case.
    """
    out = []
    for a in obj.get("accepts") or []:
        if isinstance(a, dict):
            amount = a.get("amount") if a.get("amount") is not None else a.get("maxAmountRequired")
            network = a.get("network") if isinstance(a.get("network"), str) else None
            out.append((str(to_caip2(network) or network), str(amount),
                        str(_address_key(a["payTo"]) if isinstance(a.get("payTo"), str) else a.get("payTo")),
                        str(_address_key(a["asset"]) if isinstance(a.get("asset"), str) else a.get("asset"))))
    return out


def parse_challenge(status: int, headers: Mapping[str, Any], body: bytes, probed_url: str | None = None) -> Challenge:
    """Read a 402 answer. The v2 header wins; a v1 body (or a v2 body without header) is the fallback.

    `probed_url` is the URL we requested; when given, the challenge's resource URL is compared with it.
    """
    findings: list[dict[str, Any]] = []
    header_obj: dict[str, Any] | None = None
    raw_header = _header(headers, PAYMENT_REQUIRED)
    if raw_header:
        try:
            header_obj = decode_header_json(raw_header, findings)
        except ValueError as exc:
            findings.append(finding(str(exc), PAYMENT_REQUIRED))
    body_obj = _body_json(body, findings)
    body_is_challenge = isinstance(body_obj, dict) and "x402Version" in body_obj and "accepts" in body_obj

    if header_obj is not None:
        if body_is_challenge and _comparable(body_obj) != _comparable(header_obj):
            findings.append(finding("header_body_conflict"))
        return challenge_from_object(header_obj, "header", findings, probed_url)
    if body_is_challenge:
        if body_obj.get("x402Version") == 2:
            findings.append(finding("v2_in_body_only"))
        return challenge_from_object(body_obj, "body", findings, probed_url)
    if status == 402 and not any(f.get("where") == PAYMENT_REQUIRED for f in findings):  # a broken header is its own finding
        findings.append(finding("no_challenge"))
    return Challenge(findings=findings)
