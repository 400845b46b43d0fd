"""What the published record schema enforces beyond types (index.catalog.record applies these to its
fields): JSON Schema `pattern` besides `format` (validators check formats only when told to, patterns
always), networks as CAIP-2 or known v1 names, and payTo/asset addresses matching the family of the
accept's network. Applied to the schema only: a record built from a hostile server's words is checked
where it is published, and the build's tests validate every one."""

from __future__ import annotations

from typing import Any

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DIGITS = r"^[0-9]+$"
HTTP_URL = r"^https?://[^\s/?#]+[^\s]*$"
TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$"
CAIP2 = r"^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$"
EVM_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
SOLANA_ADDRESS = r"^[1-9A-HJ-NP-Za-km-z]{32,44}$"


def url_format(**extra: Any) -> dict[str, Any]:
    return {"format": "uri", "pattern": HTTP_URL, **extra}


def time_format(**extra: Any) -> dict[str, Any]:
    return {"format": "date-time", "pattern": TIMESTAMP, **extra}


def _network_names() -> tuple[list[str], list[str], list[str]]:
    """(every known v1 network name, the EVM ones, the Solana ones), from our network registry."""
    from index.protocol.networks import _networks  # the registry's one home; read once

    by_caip2, _ = _networks()
    names = sorted({n for net in by_caip2.values() for n in net.v1_names})
    evm = sorted({n for net in by_caip2.values() if net.namespace == "eip155" for n in net.v1_names})
    sol = sorted({n for net in by_caip2.values() if net.namespace == "solana" for n in net.v1_names})
    return names, evm, sol


def network_schema(schema: dict[str, Any]) -> None:
    names, _, _ = _network_names()
    schema["anyOf"] = [{"type": "string", "pattern": CAIP2}, {"type": "string", "enum": names}, {"type": "null"}]
    schema.pop("type", None)


def family_rules(schema: dict[str, Any]) -> None:
    """payTo and asset match the address family of the accept's network (EVM hex, Solana base58)."""
    _, evm, sol = _network_names()
    rules = []
    for prefix, v1, pattern in (("eip155", evm, EVM_ADDRESS), ("solana", sol, SOLANA_ADDRESS)):
        when = {"anyOf": [{"properties": {"network_caip2": {"type": "string", "pattern": f"^{prefix}:"}},
                           "required": ["network_caip2"]},
                          {"properties": {"network": {"enum": v1}}, "required": ["network"]},
                          {"properties": {"network": {"type": "string", "pattern": f"^{prefix}:"}}, "required": ["network"]}]}
        address = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": pattern}]}
        rules.append({"if": when, "then": {"properties": {"pay_to": address, "asset": address}}})
    schema["allOf"] = rules
