"""A Solana test-buy key: the same rules as the EVM one (index.testbuy.wallet): read from a key file or
$X402_PRIVATE_KEY, never from argv, never printed, redacted from any text we show or store.

Forms read: the 64-byte secret key as base58 (what wallets export) or as the JSON array of 64 numbers
that `solana-keygen` writes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from index.testbuy.secret import REDACTED, WalletError

_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{80,90}")
_JSON_ARRAY = re.compile(r"\[\s*\d{1,3}(?:\s*,\s*\d{1,3}){63}\s*\]")


def looks_like_solana_key(text: str) -> bool:
    text = text.strip()
    return bool(_BASE58.fullmatch(text) or _JSON_ARRAY.fullmatch(text))


class SolanaKey:
    """A Solana keypair. str(), repr() and format() show only the address."""

    __slots__ = ("_secret", "_keypair", "_spellings")

    family = "solana"

    def __init__(self, text: str) -> None:
        from solders.keypair import Keypair

        text = text.strip()
        try:
            if _JSON_ARRAY.fullmatch(text):
                secret = bytes(json.loads(text))
            elif _BASE58.fullmatch(text):
                secret = bytes(Keypair.from_base58_string(text))
            else:
                raise ValueError
            keypair = Keypair.from_bytes(secret)
        except Exception:  # noqa: BLE001 - never let a library echo the key
            raise WalletError("a Solana key must be its 64-byte secret as base58, or the JSON array "
                              "solana-keygen writes") from None
        self._secret = secret
        self._keypair = keypair
        self._spellings = [str(keypair), text, ",".join(str(b) for b in secret), ", ".join(str(b) for b in secret)]

    def account(self) -> Any:
        """The solders Keypair (for the official SDK's SVM signer)."""
        return self._keypair

    @property
    def address(self) -> str:
        return str(self._keypair.pubkey())

    def redact(self, text: str) -> str:
        for spelling in self._spellings:
            text = text.replace(spelling, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"SolanaKey(address={self.address})"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> Any:  # never pickled (a pickle would hold the key)
        raise TypeError("a SolanaKey cannot be pickled")
