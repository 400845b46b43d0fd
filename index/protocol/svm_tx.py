"""The x402 `exact` payment on Solana: read the partially signed transaction and say whether it pays
exactly what was asked. Pure (solders parses, nothing touches a chain); used by test-buy before it
sends a payment (`index.testbuy.verify.check_signed`) and by the demo facilitator before it settles.

The shape the official client builds (x402 SVM exact scheme): a v0 message whose fee payer (account
0, signature 0) is the facilitator's `extra.feePayer`, holding SetComputeUnitLimit and
SetComputeUnitPrice (ComputeBudget program), one SPL `TransferChecked` (Token or Token-2022) from the
payer's associated token account to the payTo's, signed by the payer, and an optional Memo. Anything
else in it (another program, a second transfer, the fee payer moving tokens) is refused.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr"
ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"
MAX_TX_BYTES = 1232  # a Solana packet
MAX_COMPUTE_UNIT_PRICE = 5_000_000  # microlamports per unit: a fee payer is never made to pay a priority fee past this
TRANSFER_CHECKED = 12


@dataclass(frozen=True)
class SvmTransfer:
    """What one x402 SVM payment transaction does."""

    fee_payer: str
    authority: str  # the payer: owner of the source token account, a signer
    source: str
    mint: str
    destination: str
    amount: int
    decimals: int
    token_program: str
    compute_unit_limit: int | None
    compute_unit_price: int | None
    memo: bytes | None
    authority_signed: bool  # the authority's signature over the message verifies
    fee_payer_signed: bool  # the fee payer's signature is present (a placeholder until the facilitator signs)

    def as_json(self) -> dict[str, Any]:
        return {"fee_payer": self.fee_payer, "payer": self.authority, "source": self.source, "mint": self.mint,
                "destination": self.destination, "amount": str(self.amount), "decimals": self.decimals,
                "token_program": self.token_program}


def associated_token_account(owner: str, mint: str, token_program: str = TOKEN_PROGRAM) -> str | None:
    """The associated token account of `owner` for `mint`; None when an address does not parse."""
    from solders.pubkey import Pubkey

    try:
        seeds = [bytes(Pubkey.from_string(owner)), bytes(Pubkey.from_string(token_program)), bytes(Pubkey.from_string(mint))]
        address, _ = Pubkey.find_program_address(seeds, Pubkey.from_string(ASSOCIATED_TOKEN_PROGRAM))
    except (ValueError, TypeError):
        return None
    return str(address)


def read_transfer(transaction_b64: Any) -> tuple[SvmTransfer | None, str | None]:
    """(transfer, None) for a transaction of the exact scheme's shape, else (None, why)."""
    from solders.message import MessageV0
    from solders.transaction import VersionedTransaction

    if not isinstance(transaction_b64, str) or len(transaction_b64) > MAX_TX_BYTES * 2:
        return None, "not a transaction"
    try:
        raw = base64.b64decode(transaction_b64, validate=True)
        tx = VersionedTransaction.from_bytes(raw)
    except (binascii.Error, ValueError, TypeError):
        return None, "not a transaction"
    if len(raw) > MAX_TX_BYTES:
        return None, "larger than a Solana packet"
    message = tx.message
    if not isinstance(message, MessageV0) or message.address_table_lookups:
        return None, "not a v0 message without address lookup tables"
    keys = [str(k) for k in message.account_keys]
    signers = message.header.num_required_signatures
    if signers != 2 or len(tx.signatures) != 2:
        return None, "not signed by exactly the fee payer and the payer"
    limit = price = None
    memo: bytes | None = None
    transfer: tuple[list[str], bytes, str] | None = None
    for ix in message.instructions:
        program = keys[ix.program_id_index] if ix.program_id_index < len(keys) else ""
        data = bytes(ix.data)
        if program == COMPUTE_BUDGET_PROGRAM and data[:1] == b"\x02" and len(data) == 5 and limit is None:
            limit = int.from_bytes(data[1:], "little")
        elif program == COMPUTE_BUDGET_PROGRAM and data[:1] == b"\x03" and len(data) == 9 and price is None:
            price = int.from_bytes(data[1:], "little")
        elif program in (TOKEN_PROGRAM, TOKEN_2022_PROGRAM) and data[:1] == bytes([TRANSFER_CHECKED]) \
                and len(data) == 10 and len(ix.accounts) == 4 and transfer is None:
            transfer = ([keys[i] if i < len(keys) else "" for i in ix.accounts], data, program)
        elif program == MEMO_PROGRAM and not ix.accounts and memo is None and len(data) <= 256:
            memo = data
        else:
            return None, f"an instruction that is not part of an x402 payment (program {program[:44]})"
    if transfer is None:
        return None, "no TransferChecked instruction"
    (source, mint, destination, authority), data, token_program = transfer
    if authority not in keys[:signers] or keys.index(authority) == 0:
        return None, "the transfer's authority is not the payer's signature"
    message_bytes = bytes([0x80]) + bytes(message)
    authority_sig = tx.signatures[keys.index(authority)]
    from solders.pubkey import Pubkey
    from solders.signature import Signature

    signed = authority_sig != Signature.default() and authority_sig.verify(Pubkey.from_string(authority), message_bytes)
    return SvmTransfer(
        fee_payer=keys[0], authority=authority, source=source, mint=mint, destination=destination,
        amount=int.from_bytes(data[1:9], "little"), decimals=data[9], token_program=token_program,
        compute_unit_limit=limit, compute_unit_price=price, memo=memo, authority_signed=signed,
        fee_payer_signed=tx.signatures[0] != Signature.default(),
    ), None


def transfer_problems(t: SvmTransfer, *, mint: str, pay_to: str, amount: int, decimals: int, fee_payer: str | None,
                      payer: str | None = None) -> list[str]:
    """Every way the transfer differs from the terms, as short names ([] when it pays exactly them)."""
    problems: list[str] = []
    if t.mint != mint:
        problems.append("mint")
    if t.amount != amount:
        problems.append("amount")
    if t.decimals != decimals:
        problems.append("decimals")
    if t.destination != associated_token_account(pay_to, mint, t.token_program):
        problems.append("recipient")
    if fee_payer is None or t.fee_payer != fee_payer:
        problems.append("fee payer")
    if t.authority == t.fee_payer or t.fee_payer in (t.source, t.destination):
        problems.append("fee payer moves tokens")
    if t.source != associated_token_account(t.authority, mint, t.token_program):
        problems.append("source")
    if payer is not None and t.authority != payer:
        problems.append("payer")
    if t.compute_unit_price is not None and t.compute_unit_price > MAX_COMPUTE_UNIT_PRICE:
        problems.append("priority fee")
    if not t.authority_signed:
        problems.append("payer signature")
    return problems
