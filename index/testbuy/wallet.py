"""The test-buy wallet: a private key read from $X402_PRIVATE_KEY or a key file (never from argv),
held in a type that never prints it, and redacted from any text we show or store.

`new_key_file` writes a throwaway key for testnets and the demo fleet: 0600, never overwritten.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from index.testbuy.secret import REDACTED, WalletError
from index.testbuy.svm_wallet import SolanaKey, looks_like_solana_key

KEY_ENV = "X402_PRIVATE_KEY"
_HEX_KEY = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")


class PrivateKey:
    """An EVM private key. str(), repr() and format() show only the address."""

    __slots__ = ("_hex", "_account")

    family = "evm"

    def __init__(self, text: str) -> None:
        match = _HEX_KEY.fullmatch(text.strip())
        if not match:
            raise WalletError("the private key must be 32 bytes of hex (64 hex digits, optionally 0x-prefixed)")
        self._hex = match.group(1).lower()
        self._account: Any = None

    def account(self) -> Any:
        """The eth_account LocalAccount (for the official SDK signer)."""
        if self._account is None:
            from eth_account import Account

            try:
                self._account = Account.from_key("0x" + self._hex)
            except Exception:  # noqa: BLE001 - never let a library echo the key
                raise WalletError("the private key is not a valid secp256k1 key") from None
        return self._account

    @property
    def address(self) -> str:
        return str(self.account().address)

    def redact(self, text: str) -> str:
        """`text` with every spelling of the key (any case, with or without 0x) replaced."""
        return re.sub(re.escape(self._hex), REDACTED, text, flags=re.IGNORECASE)

    def __repr__(self) -> str:
        return f"PrivateKey(address={self.address})" if self._account is not None else "PrivateKey(<redacted>)"

    __str__ = __repr__

    def __format__(self, _spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> Any:  # never pickled (a pickle would hold the key)
        raise TypeError("a PrivateKey cannot be pickled")


def parse_key(text: str) -> Any:
    """An EVM PrivateKey (64 hex digits), or a Solana key (index.testbuy.svm_wallet) by its form."""
    return SolanaKey(text) if looks_like_solana_key(text) else PrivateKey(text)


def load_key(key_file: Path | None = None, environ: Mapping[str, str] | None = None) -> Any:
    """The key from `key_file` if given, else from $X402_PRIVATE_KEY, else None: an EVM PrivateKey, or
    a SolanaKey when the text is a Solana secret key (base58, or solana-keygen's JSON array).

    A key file must be readable by its owner only (like an SSH key); its first line that is not
    blank or a `#` comment is the key."""
    if key_file is not None:
        try:
            mode = key_file.stat().st_mode
        except OSError as exc:
            raise WalletError(f"cannot read key file {key_file}: {exc.strerror or exc}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise WalletError(f"key file {key_file} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
        try:
            lines = key_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            raise WalletError(f"cannot read key file {key_file}") from None
        text = next((ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")), "")
        if not text:
            raise WalletError(f"key file {key_file} holds no key")
        try:
            return parse_key(text)
        except WalletError as exc:
            raise WalletError(f"key file {key_file}: {exc}") from None
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV)
    if value:
        try:
            return parse_key(value)
        except WalletError as exc:
            raise WalletError(f"${KEY_ENV}: {exc}") from None
    return None


def new_key_file(path: Path) -> str:
    """Write a fresh random key to `path` (mode 0600, refused if the file exists); returns its address."""
    key = PrivateKey(secrets.token_hex(32))
    address = key.address
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        body = (f"# x402-index throwaway wallet {address}\n"
                "# For testnets and the local demo fleet only. Never fund it with real money.\n"
                f"0x{key._hex}\n")  # noqa: SLF001 - the one place the key is written
        os.write(fd, body.encode("ascii"))
    finally:
        os.close(fd)
    return address


def redact(text: str, key: Any) -> str:
    return key.redact(text) if key is not None else text
