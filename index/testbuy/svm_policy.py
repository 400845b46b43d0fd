"""Test-buy rules particular to Solana (index.testbuy.policy holds the shared ones): what --pay would
sign, and whether what the SDK built is exactly the selection. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from index.protocol.networks import format_decimal
from index.protocol.svm_tx import associated_token_account, read_transfer, transfer_problems

if TYPE_CHECKING:
    from index.testbuy.policy import Selection


def svm_signing_plan(sel: Selection, payer: str | None) -> dict[str, Any]:
    """The SPL TransferChecked --pay would sign, between the two associated token accounts."""
    return {
        "primary_type": "SPL TransferChecked (Solana v0 transaction, partially signed)",
        "transfer": {"mint": sel.asset, "decimals": sel.decimals, "amount": str(sel.amount_atomic), "from": payer,
                     "from_token_account": associated_token_account(payer, sel.asset) if payer else None,
                     "to": sel.pay_to, "to_token_account": associated_token_account(sel.pay_to, sel.asset),
                     "fee_payer": sel.fee_payer,
                     "recent_blockhash": (sel.raw.get("extra") or {}).get("recentBlockhash") or "from the network's RPC when signing"},
        "network": sel.caip2, "x402_version": sel.version, "accept_index": sel.position,
        "amount": format_decimal(sel.amount), "symbol": sel.symbol, "usd": format_decimal(sel.usd),
    }


def svm_problems(inner: dict[str, Any], sel: Selection, payer: str) -> list[str]:
    """How the signed transaction differs from the selection ([] when it is exactly it)."""
    transfer, why = read_transfer(inner.get("transaction"))
    if transfer is None:
        return [f"transaction ({why})"]
    return transfer_problems(transfer, mint=sel.asset, pay_to=sel.pay_to, amount=sel.amount_atomic,
                             decimals=sel.decimals, fee_payer=sel.fee_payer, payer=payer)
