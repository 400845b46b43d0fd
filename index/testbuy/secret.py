"""What every key family of the test-buy wallet shares (index.testbuy.wallet for EVM keys,
index.testbuy.svm_wallet for Solana keys): the error a bad key raises and the text that replaces a key."""

from __future__ import annotations

REDACTED = "[redacted key]"


class WalletError(ValueError):
    """A key that cannot be used; its message never contains the key."""
