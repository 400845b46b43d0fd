"""After signing, before and after sending: is what the SDK signed exactly our selection
(`check_signed`, the last rule before anything is sent), and what did the server's answer prove
(`classify_answer`). Pure rules over plain data, no I/O; the rules before signing are
index.testbuy.policy's."""

from __future__ import annotations

from typing import Any

from index.protocol.networks import to_caip2
from index.testbuy.policy import MAX_VALIDITY_SECONDS, Outcome, Refusal, Selection, address_key
from index.testbuy.svm_policy import svm_problems


def check_signed(payload: dict[str, Any], sel: Selection, payer: str, now: int) -> None:
    """Refuse to send a payload that is not exactly the selection: recipient, value, payer, a window
    ending by now + MAX_VALIDITY_SECONDS, a 32-byte nonce, and (v2) the accepted terms. On Solana: the
    transaction's shape, mint, amount, decimals, recipient's token account, fee payer and our signature
    (index.protocol.svm_tx)."""
    inner = payload.get("payload") if isinstance(payload.get("payload"), dict) else {}
    auth = inner.get("authorization") if isinstance(inner.get("authorization"), dict) else {}
    problems = []
    if sel.family == "solana":
        problems += svm_problems(inner, sel, payer)
    elif address_key(str(auth.get("to"))) != address_key(sel.pay_to):
        problems.append("recipient")
    if sel.family != "solana":
        problems += _evm_problems(auth, sel, payer, now)
    if sel.version == 2:
        acc = payload.get("accepted") if isinstance(payload.get("accepted"), dict) else {}
        if (acc.get("amount"), address_key(acc.get("payTo")), address_key(acc.get("asset")), acc.get("network")) != \
                (str(sel.amount_atomic), address_key(sel.pay_to), address_key(sel.asset), sel.network):
            problems.append("accepted terms")
    elif payload.get("network") != sel.network:
        problems.append("network")
    if problems:
        raise Refusal("signed_mismatch", "the signed payment differs from the selection (" + ", ".join(problems) + "); not sent")


def _evm_problems(auth: dict[str, Any], sel: Selection, payer: str, now: int) -> list[str]:
    problems = []
    if str(auth.get("value")) != str(sel.amount_atomic):
        problems.append("value")
    if address_key(str(auth.get("from"))) != address_key(payer):
        problems.append("payer")
    try:
        valid_before, valid_after = int(auth.get("validBefore")), int(auth.get("validAfter"))
    except (TypeError, ValueError):
        valid_before = valid_after = -1
    if not (now < valid_before <= now + MAX_VALIDITY_SECONDS) or not (0 <= valid_after <= now):
        problems.append("validity window")
    nonce = str(auth.get("nonce", ""))
    if not (nonce.startswith("0x") and len(nonce) == 66):
        problems.append("nonce")
    return problems


def classify_answer(status: int | None, receipt: dict[str, Any] | None, sel: Selection, payer: str) -> tuple[Outcome, str | None]:
    """Outcome of a sent payment from the answer: success needs a 2xx and a receipt saying success on
    our network, naming a transaction (and our payer when it names one)."""
    if status is None:
        return Outcome.UNRECONCILED, "no_answer"
    if status == 402:
        reason = (receipt or {}).get("errorReason") if isinstance(receipt, dict) else None
        return Outcome.REJECTED, str(reason or "payment_refused")[:80]
    if 300 <= status < 400:
        return Outcome.UNRECONCILED, "redirect_not_followed"
    if not 200 <= status < 300:
        return Outcome.UNRECONCILED, f"http_{status}"
    if not isinstance(receipt, dict):
        return Outcome.UNRECONCILED, "no_receipt"
    if receipt.get("success") is not True or not receipt.get("transaction"):
        return Outcome.UNRECONCILED, "receipt_not_success"
    if to_caip2(str(receipt.get("network") or "")) != sel.caip2:
        return Outcome.UNRECONCILED, "receipt_network_mismatch"
    if receipt.get("payer") and address_key(str(receipt["payer"])) != address_key(payer):
        return Outcome.UNRECONCILED, "receipt_payer_mismatch"
    return Outcome.SUCCESS, None
