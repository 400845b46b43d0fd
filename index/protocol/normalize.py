"""One accepts[] entry → Accept: amounts, networks, addresses and `extra` checked field by field.

Accepts are read whatever version the challenge declares (a v2 challenge with v1 field names is common
in discovery data); each problem is a finding, never an exception. Pure, no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from index.findings import finding
from index.protocol.models import Accept
from index.protocol.networks import is_address, is_burn_address, lookup_asset, lookup_network, namespace_of, to_caip2
from index.protocol.plausible import implausible
from index.untrusted import clean_text
from index.urls import MAX_URL

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
_DIGITS = re.compile(r"[0-9]+")


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
    too_much = implausible(amount, caip2, asset)
    if too_much:
        findings.append(finding("amount_implausible", where, too_much))
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
        resource_url=resource_url(entry.get("resource")),
        description=description_text(entry.get("description"), f"{where}.description", findings),
        mime_type=clean_text(entry.get("mimeType"), MAX_SHORT_TEXT),
        extra=extra,
        output_schema=entry.get("outputSchema", entry.get("output_schema")),
    )


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
        raw = value[:80] if isinstance(value, str) else json_text(value, 80)
        findings.append(finding("amount_not_atomic", where, raw))
        return None, raw
    atomic = str(int(value))  # drops leading zeros
    if atomic == "0":
        findings.append(finding("amount_zero", where))
    return atomic, None


def json_text(value: Any, limit: int) -> str:
    """A scalar as JSON text for a finding's detail; containers are named, not dumped (they may nest deep)."""
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    try:
        return json.dumps(value)[:limit]
    except (ValueError, TypeError):
        return type(value).__name__


def _timeout(value: Any, where: str, findings: list[dict[str, Any]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_TIMEOUT_SECONDS:
        findings.append(finding("timeout_invalid", where, json_text(value, 40)))
        return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None
    return value


def resource_url(value: Any) -> str | None:
    if isinstance(value, Mapping):  # a v2-style resource object inside an accept
        value = value.get("url")
    return clean_text(value, MAX_URL)


def description_text(value: Any, where: str, findings: list[dict[str, Any]]) -> str | None:
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
                                    None if fee_payer is None else f"not a Solana address: {json_text(fee_payer, 60)}"))
