"""Network and asset registries: CAIP-2 ⇄ v1 names, chain facts, known stablecoins.

The facts live in data/networks.json and data/assets.json; this module only reads them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from index.paths import DATA_DIR

# HTTP methods: the ones an endpoint may be called with, and how each carries its input.
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # input in the request body
QUERY_METHODS = frozenset({"GET", "HEAD", "DELETE"})  # input in the query string

DEFAULT_NETWORK = "eip155:84532"  # Base Sepolia: where test buys pay unless told otherwise


@dataclass(frozen=True)
class Network:
    caip2: str
    v1_names: tuple[str, ...]
    namespace: str
    chain_id: str
    name: str
    testnet: bool


@dataclass(frozen=True)
class Asset:
    network: str  # CAIP-2
    address: str
    symbol: str
    decimals: int
    usd_pegged: bool
    eip712_name: str | None
    eip712_version: str | None


@lru_cache(maxsize=1)
def _networks() -> tuple[dict[str, Network], dict[str, Network]]:
    raw = json.loads((DATA_DIR / "networks.json").read_text())["networks"]
    by_caip2: dict[str, Network] = {}
    by_v1: dict[str, Network] = {}
    for n in raw:
        net = Network(n["caip2"], tuple(n["v1_names"]), n["namespace"], n["chain_id"], n["name"], n["testnet"])
        by_caip2[net.caip2] = net
        for name in net.v1_names:
            by_v1[name] = net
    return by_caip2, by_v1


@lru_cache(maxsize=1)
def _assets() -> dict[tuple[str, str], Asset]:
    raw = json.loads((DATA_DIR / "assets.json").read_text())["assets"]
    out: dict[tuple[str, str], Asset] = {}
    for a in raw:
        eip = a.get("eip712") or {}
        asset = Asset(a["network"], a["address"], a["symbol"], a["decimals"], a["usd_pegged"], eip.get("name"), eip.get("version"))
        out[(asset.network, _asset_key(asset.network, asset.address))] = asset
    return out


def _asset_key(caip2: str, address: str) -> str:
    # EVM addresses are case-insensitive (checksums are only a display convention); base58 mints are not.
    return address.lower() if caip2.startswith("eip155:") else address


def lookup_network(name: str | None) -> Network | None:
    """A network by CAIP-2 id or v1 name; None when unknown."""
    if not name or not isinstance(name, str):
        return None
    by_caip2, by_v1 = _networks()
    return by_caip2.get(name) or by_v1.get(name.lower())


def to_caip2(name: str | None) -> str | None:
    """CAIP-2 id for a v1 name or CAIP-2 id; a well-formed but unregistered CAIP-2 id is kept as is."""
    net = lookup_network(name)
    if net:
        return net.caip2
    if isinstance(name, str) and ":" in name and name.split(":", 1)[0].isalnum():
        return name
    return None


def lookup_asset(caip2: str | None, address: str | None) -> Asset | None:
    """A registered asset on a network; None when the pair is not in our registry."""
    if not caip2 or not address or not isinstance(address, str):
        return None
    return _assets().get((caip2, _asset_key(caip2, address)))


def atomic_to_decimal(atomic: int, decimals: int) -> Decimal:
    """Exact human amount of an atomic integer amount."""
    return Decimal(atomic).scaleb(-decimals)


def format_decimal(value: Decimal) -> str:
    """A decimal as plain text without exponent or trailing zeros: 0.000001, 1, 0.5."""
    text = format(value.normalize(), "f")
    return text


# ---------------------------------------------------------------------------------------------
# addresses

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


def address_key(value: str | None) -> str | None:
    """An address as compared: EVM addresses lower-cased (checksums are a display convention)."""
    return value.lower() if value and value.startswith("0x") else value
