from __future__ import annotations

import json
from decimal import Decimal

from index.protocol.networks import atomic_to_decimal, format_decimal, lookup_asset, lookup_network, to_caip2
from index.paths import DATA_DIR

REFERENCE_V1_NAMES = [
    "abstract", "abstract-testnet", "base", "base-sepolia", "avalanche", "avalanche-fuji", "iotex", "sei",
    "sei-testnet", "polygon", "polygon-amoy", "peaq", "story", "educhain", "skale-base-sepolia", "solana",
    "solana-devnet", "megaeth", "monad", "monad-testnet", "stable", "stable-testnet", "celo", "solana-testnet",
    "ethereum", "flare",
]


def test_every_reference_v1_name_maps_to_caip2() -> None:
    for name in REFERENCE_V1_NAMES:
        caip2 = to_caip2(name)
        assert caip2 and ":" in caip2, name


def test_known_mappings() -> None:
    assert to_caip2("base") == "eip155:8453"
    assert to_caip2("base-sepolia") == "eip155:84532"
    assert to_caip2("solana") == "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"
    assert to_caip2("eip155:8453") == "eip155:8453"
    assert to_caip2("eip155:999999") == "eip155:999999"  # well-formed, unregistered: kept
    assert to_caip2("not a network") is None
    assert lookup_network("base-sepolia").testnet is True
    assert lookup_network("eip155:8453").name == "Base"


def test_assets_lookup_is_case_insensitive_on_evm_only() -> None:
    base = lookup_asset("eip155:8453", "0x833589fcd6edb6e08f4c7c32d4f71b54bda02913")
    assert base and base.decimals == 6 and base.eip712_name == "USD Coin"
    assert lookup_asset("eip155:84532", "0x036CbD53842c5426634e7929541eC2318f3dCF7e").eip712_name == "USDC"
    sol = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
    assert lookup_asset("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", sol)
    assert lookup_asset("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", sol.lower()) is None
    assert lookup_asset("eip155:8453", "0x0000000000000000000000000000000000000000") is None


def test_every_asset_network_is_registered() -> None:
    for asset in json.loads((DATA_DIR / "assets.json").read_text())["assets"]:
        assert lookup_network(asset["network"]), asset["network"]


def test_amount_formatting_is_exact() -> None:
    assert format_decimal(atomic_to_decimal(1, 6)) == "0.000001"
    assert format_decimal(atomic_to_decimal(1_000_000, 6)) == "1"
    assert format_decimal(atomic_to_decimal(10**30, 6)) == "1000000000000000000000000"
    assert atomic_to_decimal(10000, 6) == Decimal("0.01")
