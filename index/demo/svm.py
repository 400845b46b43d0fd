"""The demo facilitator's Solana side: verify an x402 `exact` SVM payment as a careful facilitator
would before co-signing it, and settle it on the in-memory ledger. No chain.

Checked (index.protocol.svm_tx): the transaction has the exact scheme's shape and nothing else, the
fee payer is ours (`extra.feePayer`), the transfer moves exactly `amount` of the mint our registry
lists for the network (with its decimals) into the payTo's associated token account, from the payer's
own token account, and the payer's signature over the message verifies. A payer signature is
settled once (replay).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from index.protocol.networks import lookup_asset, lookup_network, to_caip2
from index.protocol.svm_tx import read_transfer, transfer_problems

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def is_svm(requirements: dict[str, Any]) -> bool:
    net = lookup_network(to_caip2(str(requirements.get("network") or "")))
    return net is not None and net.namespace == "solana"


def _b58(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def check_svm(payload: dict[str, Any], requirements: dict[str, Any], used: set[str]) -> tuple[str | None, str | None, str | None]:
    """(invalid reason or None, payer, the payer's signature) of an SVM exact payment."""
    from solders.transaction import VersionedTransaction

    inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
    transfer, why = read_transfer(inner.get("transaction"))
    if transfer is None:
        return f"invalid_exact_svm_payload_transaction: {why}", None, None
    payer = transfer.authority
    caip2 = to_caip2(str(requirements.get("network") or ""))
    accepted = payload.get("accepted") if isinstance(payload.get("accepted"), dict) else {}
    if to_caip2(str(payload.get("network") or accepted.get("network") or "")) != caip2:
        return "invalid_network", payer, None
    token = lookup_asset(caip2, str(requirements.get("asset") or ""))
    amount = str(requirements.get("amount", requirements.get("maxAmountRequired")) or "")
    if token is None or not amount.isdigit():
        return "invalid_payment_requirements", payer, None
    extra = requirements.get("extra") if isinstance(requirements.get("extra"), dict) else {}
    problems = transfer_problems(transfer, mint=token.address, pay_to=str(requirements.get("payTo") or ""),
                                 amount=int(amount), decimals=token.decimals, fee_payer=extra.get("feePayer"))
    if problems:
        return "invalid_exact_svm_payload_" + problems[0].replace(" ", "_"), payer, None
    tx = VersionedTransaction.from_bytes(base64.b64decode(inner["transaction"]))
    signature = str(tx.signatures[1])
    if signature in used:
        return "duplicate_settlement", payer, signature
    return None, payer, signature


def settle_svm(payload: dict[str, Any], requirements: dict[str, Any], used: set[str],
               ledger: list[dict[str, Any]]) -> tuple[str | None, str | None, str]:
    """(invalid reason or None, payer, transaction id) after writing a valid payment to the ledger."""
    reason, payer, signature = check_svm(payload, requirements, used)
    if reason or signature is None:
        return reason or "invalid_payload", payer, ""
    used.add(signature)
    caip2 = to_caip2(str(requirements.get("network"))) or str(requirements.get("network"))
    tx = _b58(hashlib.sha512(f"demo-ledger:{signature}".encode()).digest())  # shaped like a Solana signature
    ledger.append({"tx": tx, "payer": payer, "to": requirements.get("payTo"), "value": str(requirements.get("amount")),
                   "asset": requirements.get("asset"), "network": caip2, "nonce": signature,
                   "at": datetime.now(UTC).isoformat()})
    return None, payer, tx
