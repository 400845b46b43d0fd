"""Ownership proofs: does a key that receives an origin's payments vouch for that origin?

The convention (x402scan's discovery docs): `/.well-known/x402` carries `ownershipProofs`, an OpenAPI
document `x-discovery.ownershipProofs`; each proof is a signature of the origin string
(`scheme://host[:port]`, no trailing slash, see `signed_message`) made by a payTo key.

- EVM: EIP-191 `personal_sign` (65 bytes, 0x-hex). We recover the signer with eth_account and compare it
  with every EVM payTo the origin's live 402s name.
- Solana: an ed25519 detached signature over the same UTF-8 bytes (64 bytes; 0x-hex as documented,
  base58 and base64 also occur). The payTo *is* the public key, so we verify against each Solana payTo.

A proof entry is a string, or an object `{signature, address?, network?}` (the shape a widely copied
generator script emits). Values seen in the wild that are no signature at all (a bare address, an opaque
id, `"0x..."`) are `malformed`. Pure: no I/O, bounded input, never raises on hostile values.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

MAX_PROOFS = 10
MAX_PROOF_CHARS = 600

Status = Literal["verified", "mismatch", "malformed", "unchecked"]

_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_HEX = re.compile(r"(?:0x)?([0-9a-fA-F]+)\Z")
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+\Z")
_SIGNATURE_KEYS = ("signature", "proof", "sig")
_ADDRESS_KEYS = ("address", "payTo", "signer", "publicKey")


@dataclass(frozen=True)
class Proof:
    """One ownership proof as published: the signature text and, when the entry names them, the
    address it claims to be signed by and the network."""

    signature: str
    address: str | None = None
    network: str | None = None


@dataclass(frozen=True)
class ProofResult:
    """What one proof proved: status, the family of the signature, the payTo it matched (if any)."""

    proof: Proof
    status: Status
    family: Literal["evm", "solana"] | None = None
    address: str | None = None  # the payTo this proof verified for (verified only)
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "signature": _short(self.proof.signature)}
        for key in ("family", "address", "reason"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass
class Verdict:
    """The outcome of checking every proof of an origin against the payTo addresses it uses."""

    origin: str
    results: list[ProofResult] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return any(r.status == "verified" for r in self.results)

    @property
    def addresses(self) -> list[str]:
        """The payTo addresses proven to belong to the origin's owner, in proof order."""
        out: list[str] = []
        for r in self.results:
            if r.status == "verified" and r.address and r.address not in out:
                out.append(r.address)
        return out

    @property
    def failed(self) -> list[ProofResult]:
        """Proofs that were checked and did not verify (the findings)."""
        return [r for r in self.results if r.status in ("mismatch", "malformed")]


def _short(text: str, keep: int = 18) -> str:
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"


def _text(value: Any, limit: int = MAX_PROOF_CHARS) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= limit and value.isprintable() else None


def read_proofs(value: Any) -> list[Proof]:
    """The proofs of an `ownershipProofs` value: a string, or a list of strings or objects.
    At most MAX_PROOFS; entries that are neither are skipped."""
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        return []
    out: list[Proof] = []
    for entry in value[:MAX_PROOFS]:
        if isinstance(entry, dict):
            signature = next((s for s in (_text(entry.get(k)) for k in _SIGNATURE_KEYS) if s), None)
            if signature is None:
                continue
            address = next((a for a in (_text(entry.get(k), 128) for k in _ADDRESS_KEYS) if a), None)
            out.append(Proof(signature, address, _text(entry.get("network"), 128)))
        else:
            signature = _text(entry)
            if signature is not None:
                out.append(Proof(signature))
    return out


def signed_message(origin_url: str) -> str:
    """The text a proof signs: the origin as `scheme://host[:port]`, lowercase scheme and host, the
    default port left out, no path and no trailing slash."""
    parts = urlsplit(origin_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" if port is None or port == default else f"{scheme}://{host}:{port}"


def signature_bytes(text: str) -> bytes | None:
    """A signature's bytes from 0x-hex, bare hex, base58 or base64; None when it is none of these
    or its length is neither 64 (ed25519) nor 65 (secp256k1 + recovery id)."""
    raw: bytes | None = None
    hexed = _HEX.match(text)
    if hexed and len(hexed.group(1)) % 2 == 0 and (text.startswith("0x") or len(hexed.group(1)) in (128, 130)):
        raw = bytes.fromhex(hexed.group(1))
    elif _BASE58.match(text) and 80 <= len(text) <= 90:
        raw = _b58decode(text)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    return raw if raw is not None and len(raw) in (64, 65) else None


_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def _b58decode(text: str) -> bytes | None:
    number = 0
    for char in text:
        index = _B58_ALPHABET.find(char)
        if index < 0:
            return None
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def is_evm_address(value: Any) -> bool:
    return isinstance(value, str) and bool(_EVM_ADDRESS.match(value))


def solana_key(value: Any) -> bytes | None:
    """The 32 public-key bytes of a base58 Solana address, else None."""
    if not isinstance(value, str) or not 32 <= len(value) <= 44 or not _BASE58.match(value):
        return None
    raw = _b58decode(value)
    return raw if raw is not None and len(raw) == 32 else None


def recover_evm(signature: bytes, message: str) -> str | None:
    """The checksummed address that produced an EIP-191 personal_sign signature of `message`."""
    from eth_account import Account  # the SDK's EVM extra; imported here to keep import time low
    from eth_account.messages import encode_defunct

    try:
        return Account.recover_message(encode_defunct(text=message), signature=signature)
    except Exception:  # noqa: BLE001 - any malformed signature is simply "not recovered"
        return None


def verify_ed25519(signature: bytes, message: str, public_key: bytes) -> bool:
    """True when `signature` is a valid ed25519 signature of `message` by `public_key`."""
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    try:
        return Signature.from_bytes(signature).verify(Pubkey.from_bytes(public_key), message.encode("utf-8"))
    except Exception:  # noqa: BLE001 - a key or signature of the wrong shape verifies nothing
        return False


def check_proof(proof: Proof, message: str, pay_to: Iterable[str]) -> ProofResult:
    """One proof against the origin's payTo addresses."""
    raw = signature_bytes(proof.signature)
    if raw is None:
        reason = "an address, not a signature" if is_evm_address(proof.signature) or solana_key(proof.signature) else "not a signature"
        return ProofResult(proof, "malformed", reason=reason)
    addresses = list(dict.fromkeys(a for a in pay_to if isinstance(a, str)))
    if len(raw) == 65:
        signer = recover_evm(raw, message)
        if signer is None:
            return ProofResult(proof, "malformed", "evm", reason="signature does not recover a key")
        evm = [a for a in addresses if is_evm_address(a)]
        if not evm:
            return ProofResult(proof, "unchecked", "evm", reason="no EVM payTo seen yet")
        match = next((a for a in evm if a.lower() == signer.lower()), None)
        if match:
            return ProofResult(proof, "verified", "evm", match)
        return ProofResult(proof, "mismatch", "evm", reason=f"signed by {signer}, which is no payTo of this origin")
    keys = [(a, k) for a, k in ((a, solana_key(a)) for a in addresses) if k is not None]
    if not keys:
        return ProofResult(proof, "unchecked", "solana", reason="no Solana payTo seen yet")
    for address, key in keys:
        if verify_ed25519(raw, message, key):
            return ProofResult(proof, "verified", "solana", address)
    return ProofResult(proof, "mismatch", "solana", reason="signed by no payTo key of this origin")


def verify_proofs(origin_url: str, proofs: Iterable[Proof], pay_to: Iterable[str]) -> Verdict:
    """Every proof of an origin checked against the payTo addresses its live 402s name."""
    message = signed_message(origin_url)
    addresses = list(pay_to)
    verdict = Verdict(message)
    for proof in list(proofs)[:MAX_PROOFS]:
        verdict.results.append(check_proof(proof, message, addresses))
    return verdict
