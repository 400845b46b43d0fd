"""A test-buy result as plain text lines for the terminal. Server-provided text is cleaned of
control and bidi characters before it is shown (a receipt is as untrusted as a challenge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from index.testbuy.policy import Outcome
from index.testbuy.run import BuyResult
from index.untrusted import clean_text, iso_z

EXIT_CODES = {Outcome.DRY_RUN: 0, Outcome.SUCCESS: 0, Outcome.REFUSED: 1, Outcome.REJECTED: 1, Outcome.UNRECONCILED: 3}


def _clean(value: Any, limit: int = 300) -> str:
    return clean_text(str(value), limit) or ""


def _when(epoch: str | None, now: float | None = None) -> str:
    if not epoch or not str(epoch).isdigit() or int(epoch) == 0:
        return str(epoch)
    at = datetime.fromtimestamp(int(epoch), UTC)
    text = f"{epoch} ({iso_z(at)}"
    if now is not None:
        text += f", now {int(epoch) - int(now):+d} s"
    return text + ")"


def lines(r: BuyResult, now: float | None = None) -> list[str]:
    out = [f"test-buy {r.slug or '(not in the catalog)'} · {r.method or ''} {r.url or ''}".rstrip()]
    if r.probe:
        p = r.probe
        version = f"x402 v{p['x402_version']} ({p['source']})" if p.get("x402_version") else "no x402 challenge"
        out.append(f"probe (unpaid): HTTP {p['http_status']} in {p['latency_ms']} ms · {version} · {p['accepts']} accepts")
    if r.diff:
        out.append("quote: the live 402 differs from the catalog:")
        out += [f"  {_clean(line, 400)}" for line in r.diff]
    elif r.selection:
        out.append("quote: the live 402 matches the catalog")
    if r.selection:
        s = r.selection
        out.append(f"selected: accepts[{s['accept_index']}] · {s['description']} · x402 v{s['x402_version']}")
    if r.budget:
        b = r.budget
        out.append(f"limits: ≤ ${b['max_amount_usd']} per payment · ${b['spent_usd']} spent of ${b['daily_budget_usd']} "
                   "in the last 24 h")
    if r.plan:
        d, m = r.plan["domain"], r.plan["message"]
        out.append(f"{'signed' if r.signed else 'would sign'} (EIP-3009 TransferWithAuthorization, EIP-712 typed data):")
        out += [
            f"  domain       name {d['name']!r} · version {d['version']!r} · chainId {d['chainId']} · "
            f"verifyingContract {d['verifyingContract']}",
            f"  from         {m['from'] or '(your wallet: give --key-file or X402_PRIVATE_KEY)'}",
            f"  to           {m['to']}",
            f"  value        {m['value']} atomic = {r.plan['amount']} {r.plan['symbol']} (${r.plan['usd']})",
            f"  validAfter   {_when(m['validAfter'])}",
            f"  validBefore  {_when(m['validBefore'], now)}",
            f"  nonce        {m['nonce']}",
        ]
    if r.payment_header:
        sent = f"sent: {r.payment_header} (sha256 {r.payment_sha256[:16]}…)" if r.payment_sha256 else f"sent: {r.payment_header}"
        if r.http_status is not None:
            sent += f" → HTTP {r.http_status} in {r.latency_ms} ms · {_clean(r.response_type or 'no content type', 80)} · {r.response_size} bytes"
        out.append(sent)
    if r.receipt_header:
        rc = r.receipt or {}
        fields = " · ".join(f"{k} {_clean(v, 120)}" for k, v in rc.items() if k in
                            ("success", "transaction", "network", "payer", "amount", "errorReason", "invalid"))
        out.append(f"receipt ({r.receipt_header}): {fields or '(empty)'}")
    elif r.payment_header and r.outcome is not Outcome.REFUSED:
        out.append("receipt: none")
    if r.details:
        out.append("why:")
        out += [f"  {_clean(line, 400)}" for line in r.details]
    out.append(_verdict(r))
    return out


def _verdict(r: BuyResult) -> str:
    reason = f" ({r.reason})" if r.reason else ""
    message = _clean(r.message, 600)
    if r.outcome is Outcome.DRY_RUN:
        return "DRY RUN: nothing signed, nothing sent. Add --pay to sign and send exactly this."
    if r.outcome is Outcome.REFUSED:
        return f"REFUSED{reason}: {message}\nnothing signed, nothing sent."
    if r.outcome is Outcome.SUCCESS:
        where = (f"accepts[{r.verified_position}] is now verified in the catalog (rebuild the site to show it)"
                 if r.verified_position is not None else "the catalog holds no accept with these terms: nothing marked verified")
        return f"PAID: {message}; {where}. test_buys #{r.test_buy_id}"
    if r.outcome is Outcome.REJECTED:
        return f"REJECTED{reason}: {message}. test_buys #{r.test_buy_id}"
    return f"UNRECONCILED{reason}: {message} test_buys #{r.test_buy_id}"
