"""One test-buy, start to end: find the catalog entry, probe unpaid, bind the quote, select, check
the budget, then either describe what would be signed (the default) or sign, send once and record.

Every attempt leaves one `test_buys` row. A payment's row is written before it leaves this machine
(outcome `unreconciled`) and completed from the answer; nothing is ever retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from index.protocol.networks import format_decimal
from index.probe.plan import NO_BODY, probe_plan, refused_before_paywall
from index.testbuy import fetch, ledger
from index.testbuy.policy import (
    Limits,
    Outcome,
    Refusal,
    Selection,
    budget_refusal,
    catalog_terms,
    check_network_choice,
    family_of,
    network_label,
    quote_diff,
    select_accept,
    signing_plan,
)
from index.testbuy.sign import SignedPayment, sign_payment
from index.testbuy.verify import check_signed, classify_answer
from index.urls import canonical_url
from index.testbuy.wallet import PrivateKey, redact
from index.protocol.challenge import MAX_ACCEPTS, parse_challenge
from index.protocol.models import Challenge
from index.protocol.wire import PAYMENT_REQUIRED, PAYMENT_RESPONSE, X_PAYMENT_RESPONSE, decode_header_json
from index.untrusted import safe_json_loads

DEFAULT_TIMEOUT = 30.0
MAX_PROBE_ATTEMPTS = 4


@dataclass(frozen=True)
class BuyRequest:
    target: str  # a catalog slug or a resource URL
    pay: bool = False
    limits: Limits = field(default_factory=Limits)
    accept_changes: bool = False
    method: str | None = None  # picks one of several catalog entries with the same URL
    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()
    timeout: float = DEFAULT_TIMEOUT
    # The catalog's word on a resource this database does not hold: a published record's terms
    # (`published_entry`), e.g. what the MCP server's search returned. Used only when the database
    # has no entry for the target.
    published: ledger.CatalogEntry | None = None


def published_entry(record: dict[str, Any]) -> ledger.CatalogEntry:
    """A catalog entry from a published record (r/<slug>.json): its URL, method and accepts, so a
    test-buy can bind the live quote to what the catalog published. Not in any database (id 0). A
    record does not publish the challenge's own resource URL: its URL stands for it."""
    accepts = [a for a in record.get("accepts") or [] if isinstance(a, dict)]
    options = [{"position": i, "network_caip2": a.get("network_caip2") or a.get("network"), "asset": a.get("asset"),
                "pay_to": a.get("pay_to"), "amount_atomic": a.get("max_amount_required_atomic")}
               for i, a in enumerate(accepts)]
    hints = record.get("hints") if isinstance(record.get("hints"), dict) else None
    if not hints:
        hints = next((a["hints"] for a in accepts if isinstance(a.get("hints"), dict) and a["hints"].get("input")), {})
    return ledger.CatalogEntry(resource_id=0, slug=str(record.get("slug") or ""), url=canonical_url(str(record["url"])),
                               method=str(record.get("method") or "GET").upper(), status=record.get("status"),
                               resource_url=record.get("resource_url") or str(record["url"]), options=options, hints=dict(hints or {}))


@dataclass
class BuyResult:
    outcome: Outcome
    reason: str | None = None
    message: str = ""
    slug: str | None = None
    url: str | None = None
    method: str | None = None
    dry_run: bool = True
    diff: list[str] = field(default_factory=list)  # the quote's differences from the catalog
    details: list[str] = field(default_factory=list)  # a refusal's reasons, one per rule broken
    probe: dict[str, Any] = field(default_factory=dict)  # the fresh unpaid probe: status, version, accepts
    selection: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None  # exactly what is (or would be) signed
    budget: dict[str, str] = field(default_factory=dict)
    payer: str | None = None
    payment_header: str | None = None  # its name; the value is never kept
    payment_sha256: str | None = None
    http_status: int | None = None
    latency_ms: float | None = None
    response_type: str | None = None
    response_size: int | None = None
    receipt_header: str | None = None
    receipt: dict[str, Any] | None = None
    tx: str | None = None
    verified_position: int | None = None
    test_buy_id: int | None = None

    @property
    def signed(self) -> bool:
        return self.payment_sha256 is not None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["outcome"] = self.outcome.value
        out["signed"] = self.signed
        return out


def raw_challenge(headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
    """The challenge object as the server sent it, chosen as `parse_challenge` chooses: the
    PAYMENT-REQUIRED header, else an x402 JSON body. The SDK signs from this, not our normalization."""
    header = headers.get(PAYMENT_REQUIRED.lower())
    try:
        if header:
            return decode_header_json(header)
        obj = safe_json_loads(body) if body.strip().startswith(b"{") else None
    except (ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) and "x402Version" in obj and "accepts" in obj else None


def raw_accepts(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The raw accepts aligned with `Challenge.accepts` (the parser keeps the first MAX_ACCEPTS objects)."""
    accepts = obj.get("accepts") if isinstance(obj.get("accepts"), list) else []
    return [a for a in accepts[:MAX_ACCEPTS] if isinstance(a, dict)]


def _body_bytes(body: Any) -> bytes | None:
    return None if body is NO_BODY else json.dumps(body, separators=(",", ":")).encode()


class TestBuyer:
    """Runs test-buys against one database. `sign` and `send` are the official-SDK signer and the
    guarded HTTP request; tests pass spies."""

    __test__ = False

    def __init__(self, engine: Engine, key: PrivateKey | None = None,
                 sign: Callable[..., SignedPayment] = sign_payment,
                 send: Callable[..., fetch.Answer] = fetch.request,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.key = key
        self.sign = sign
        self.send = send
        self.clock = clock

    # -- the whole flow ---------------------------------------------------------------------------

    def run(self, req: BuyRequest) -> BuyResult:
        result = BuyResult(Outcome.REFUSED, dry_run=not req.pay)
        entry = sel = None
        if not req.target.startswith(("http://", "https://")):
            result.slug = req.target
        try:
            caip2 = check_network_choice(req.limits.network, req.limits.mainnet)
            if req.pay and self.key is None:
                raise Refusal("no_key", "--pay needs a key: set X402_PRIVATE_KEY or pass --key-file")
            if self.key is not None and getattr(self.key, "family", "evm") != family_of(caip2):
                raise Refusal("key_wrong_family", f"{network_label(caip2)} is paid with a {family_of(caip2)} key; "
                                                  f"the key given is a {getattr(self.key, 'family', 'evm')} key")
            entry = ledger.find_entry(self.engine, req.target, req.method) or req.published
            self._describe_target(result, req, entry)
            challenge, obj, attempt = self._probe(result, req, entry)
            self._bind_quote(result, req, entry, challenge)
            sel = select_accept(challenge.accepts, raw_accepts(obj), challenge.x402_version, req.limits)
            result.selection = {"accept_index": sel.position, "network": sel.caip2, "asset": sel.asset,
                                "symbol": sel.symbol, "amount_atomic": str(sel.amount_atomic),
                                "amount": format_decimal(sel.amount), "usd": format_decimal(sel.usd), "pay_to": sel.pay_to,
                                "x402_version": sel.version, "description": sel.describe()}
            spent = ledger.spent_usd(self.engine)
            result.budget = {"spent_usd": format_decimal(spent), "daily_budget_usd": format_decimal(req.limits.daily_budget_usd),
                             "max_amount_usd": format_decimal(req.limits.max_usd)}
            refusal = budget_refusal(spent, sel, req.limits.daily_budget_usd)
            if refusal:
                raise refusal
            payer = self.key.address if self.key is not None else None
            result.payer = payer
            result.plan = signing_plan(sel, int(self.clock()), payer)
            if not req.pay:
                result.outcome, result.message = Outcome.DRY_RUN, "dry run: nothing signed, nothing sent"
                self._record(result, entry, sel)
                return result
            assert self.key is not None and payer is not None
            return self._pay(result, req, entry, sel, obj, attempt, payer)
        except Refusal as refusal:
            result.outcome, result.reason = Outcome.REFUSED, refusal.code
            result.message = self._redact(refusal.message)
            if refusal.detail:
                result.details = self._redact(refusal.detail).splitlines()
            self._record(result, entry, sel)
            return result

    # -- steps ----------------------------------------------------------------------------------

    def _describe_target(self, result: BuyResult, req: BuyRequest, entry: ledger.CatalogEntry | None) -> None:
        if entry is None:
            if not req.target.startswith(("http://", "https://")):
                raise Refusal("not_in_catalog", f"no resource with slug {req.target!r} in the catalog")
            result.url, result.method = canonical_url(req.target), (req.method or "GET").upper()
        else:
            result.slug, result.url, result.method = entry.slug, entry.url, entry.method

    def _probe(self, result: BuyResult, req: BuyRequest, entry: ledger.CatalogEntry | None) -> tuple[Challenge, dict[str, Any], Any]:
        """The fresh unpaid probe, as the crawler would ask (index.probe.plan), with the resource's method."""
        assert result.url and result.method
        plan = [a for a in probe_plan(result.url, result.method, hints=entry.hints if entry else None)
                if a.method == result.method][:MAX_PROBE_ATTEMPTS]
        answer = attempt = None
        for attempt in plan:
            address = self._guard(attempt.url, req)
            try:
                answer = self.send(attempt.method, attempt.url, _json_headers(attempt.body), _body_bytes(attempt.body),
                                   req.timeout, connect_to=address)
            except httpx.HTTPError as exc:
                raise Refusal("probe_failed", f"the unpaid probe failed: {type(exc).__name__}: {exc}") from None
            if not refused_before_paywall(answer.status):
                break
        assert answer is not None and attempt is not None
        challenge = parse_challenge(answer.status, answer.headers, answer.body, probed_url=attempt.url)
        result.probe = {"url": attempt.url, "http_status": answer.status, "latency_ms": round(answer.latency_ms, 1),
                        "x402_version": challenge.x402_version, "source": challenge.source, "accepts": len(challenge.accepts),
                        "findings": sorted({f["code"] for f in challenge.findings})}
        if answer.status != 402:
            raise Refusal("not_402", f"the unpaid probe answered HTTP {answer.status}, not 402: nothing to buy")
        obj = raw_challenge(answer.headers, answer.body)
        if obj is None or not challenge.accepts:
            raise Refusal("no_challenge", "the 402 carries no readable x402 challenge")
        return challenge, obj, attempt

    def _bind_quote(self, result: BuyResult, req: BuyRequest, entry: ledger.CatalogEntry | None, challenge: Challenge) -> None:
        if entry is None:
            result.diff = ["not in the catalog: no recorded quote to compare with"]
            if not req.accept_changes:
                raise Refusal("not_in_catalog", "the URL is not in the catalog (crawl it first), or pass --accept-changes "
                                                "to buy on the live quote alone")
            return
        result.diff = quote_diff(catalog_terms(entry.options), entry.resource_url, challenge, result.probe["url"])
        if result.diff and not req.accept_changes:
            raise Refusal("quote_changed", "the live quote differs from the catalog; nothing signed "
                                           "(recrawl, or pass --accept-changes to buy on the live quote)")

    def _pay(self, result: BuyResult, req: BuyRequest, entry: ledger.CatalogEntry | None, sel: Selection,
             obj: dict[str, Any], attempt: Any, payer: str) -> BuyResult:
        assert self.key is not None
        # checked again before signing (a name may resolve elsewhere now), and the paid request connects
        # to exactly the address checked here, whatever the name resolves to a moment later
        address = self._guard(attempt.url, req)
        signed = self.sign(self.key.account(), sel, obj, req.limits.max_usd)
        check_signed(signed.payload, sel, payer, int(self.clock()))
        result.payment_header, result.payment_sha256 = signed.header_name, signed.sha256
        auth = (signed.payload.get("payload") or {}).get("authorization") or {}
        assert result.plan is not None
        if "message" in result.plan:  # EVM: the window and nonce the SDK chose
            result.plan["message"] = {**result.plan["message"], **{k: auth[k] for k in ("validAfter", "validBefore", "nonce") if k in auth}}
        row = self._record(result, entry, sel, outcome=Outcome.UNRECONCILED, reason="in_flight",
                           nonce=signed.nonce, valid_before=signed.valid_before, payment_sha256=signed.sha256)
        headers = {**_json_headers(attempt.body), signed.header_name: signed.header_value}
        try:
            answer = self.send(attempt.method, attempt.url, headers, _body_bytes(attempt.body), req.timeout, connect_to=address)
        except (httpx.HTTPError, OSError) as exc:
            result.outcome, result.reason = Outcome.UNRECONCILED, ("timeout" if isinstance(exc, httpx.TimeoutException)
                                                                    else type(exc).__name__)
            result.message = self._redact(f"the paid request failed after the payment was sent ({type(exc).__name__}: {exc}); "
                                          "it may have been settled. Not retried.")
            self._finish(row, result)
            return result
        result.http_status, result.latency_ms = answer.status, round(answer.latency_ms, 1)
        result.response_type, result.response_size = answer.content_type, len(answer.body)
        receipt, result.receipt_header = self._receipt(answer)
        result.receipt = receipt
        result.tx = str(receipt.get("transaction")) if isinstance(receipt, dict) and receipt.get("transaction") else None
        result.outcome, result.reason = classify_answer(answer.status, receipt, sel, payer)
        if result.outcome is Outcome.REJECTED:
            again = parse_challenge(answer.status, answer.headers, answer.body)
            result.reason = str((receipt or {}).get("errorReason") or again.error or "payment_refused")[:80]
        result.message = {
            Outcome.SUCCESS: f"HTTP {answer.status} with a receipt of settlement",
            Outcome.REJECTED: "the server refused the payment (402 again): not settled",
            Outcome.UNRECONCILED: "the payment was sent but its end is unknown: it may have been settled. Not retried.",
        }[result.outcome]
        if result.outcome is Outcome.SUCCESS and entry is not None and entry.resource_id:
            result.verified_position = ledger.mark_verified(self.engine, entry.resource_id, sel, datetime.now(UTC))
        self._finish(row, result)
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def _guard(self, url: str, req: BuyRequest) -> str | None:
        try:
            return fetch.guard(url, req.allow_private, req.allow_hosts)
        except fetch.Blocked as exc:
            raise Refusal("blocked_address", str(exc)) from None

    def _receipt(self, answer: fetch.Answer) -> tuple[dict[str, Any] | None, str | None]:
        for name in (PAYMENT_RESPONSE, X_PAYMENT_RESPONSE):
            value = answer.headers.get(name.lower())
            if value:
                try:
                    return decode_header_json(value), name
                except ValueError as exc:
                    return {"invalid": str(exc)}, name
        return None, None

    def _redact(self, text: str) -> str:
        return redact(text, self.key)

    def _record(self, result: BuyResult, entry: ledger.CatalogEntry | None, sel: Selection | None,
                outcome: Outcome | None = None, reason: str | None = None, **extra: Any) -> int:
        values: dict[str, Any] = {
            "resource_id": (entry.resource_id or None) if entry else None, "slug": result.slug,
            "url": result.url or "(not found)", "method": result.method or "GET",
            "dry_run": result.dry_run, "outcome": (outcome or result.outcome).value, "reason": reason or result.reason,
            "detail": self._redact("\n".join([result.message, *result.diff, *result.details]).strip()) or None, "payer": result.payer,
            **(ledger.selection_fields(sel) if sel else {}), **extra,
        }
        if outcome is None:
            values["finished_at"] = datetime.now(UTC)
        row = ledger.record(self.engine, **values)
        result.test_buy_id = row
        return row

    def _finish(self, row: int, result: BuyResult) -> None:
        ledger.update(self.engine, row, outcome=result.outcome.value, reason=result.reason, finished_at=datetime.now(UTC),
                      detail=self._redact("\n".join([result.message, *result.diff, *result.details]).strip()) or None,
                      http_status=result.http_status, latency_ms=result.latency_ms, response_type=result.response_type,
                      response_size=result.response_size, tx=result.tx,
                      receipt=result.receipt if isinstance(result.receipt, dict) else None)


def _json_headers(body: Any) -> dict[str, str]:
    return {} if body is NO_BODY else {"Content-Type": "application/json"}
