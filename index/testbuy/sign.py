"""Signing with the official x402 SDK, fenced in by our selection.

The SDK client sees a challenge that holds only the accept we selected (so its own selector cannot
pick another), with spend controls set explicitly to our cap on exactly that asset, a policy that
keeps only our selection, and a before-payment hook that aborts on anything else. What it returns
is checked again (`verify.check_signed`) before it may be sent.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from index.protocol.networks import format_decimal
from index.testbuy.policy import Refusal, Selection
from index.protocol.wire import PAYMENT_SIGNATURE, X_PAYMENT

SOLANA_RPC_ENV = "X402_SOLANA_RPC_URL"


@dataclass(frozen=True)
class SignedPayment:
    header_name: str  # X-PAYMENT (v1) or PAYMENT-SIGNATURE (v2)
    header_value: str
    payload: dict[str, Any]  # what the header encodes (public once sent)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.header_value.encode("ascii")).hexdigest()

    @property
    def nonce(self) -> str | None:
        return ((self.payload.get("payload") or {}).get("authorization") or {}).get("nonce")

    @property
    def valid_before(self) -> int | None:
        value = ((self.payload.get("payload") or {}).get("authorization") or {}).get("validBefore")
        return int(value) if str(value).isdigit() else None


def spend_controls(sel: Selection, max_usd: Decimal) -> dict[str, Any]:
    """The SDK's spend controls for this payment: our USD cap, and the selected asset (on the network
    as the server names it) allowed up to the same cap in atomic units."""
    cap_atomic = int((max_usd * (Decimal(10) ** sel.decimals)).to_integral_value(rounding=ROUND_DOWN))
    return {
        "max_amount_per_payment": f"${format_decimal(max_usd)}",
        "allowed_assets": [{"network": sel.network, "asset": sel.asset, "max_amount_per_payment": str(cap_atomic)}],
    }


def _matches(sel: Selection, req: Any) -> bool:
    return (req.scheme == sel.scheme and req.network == sel.network and str(req.asset).lower() == sel.asset.lower()
            and str(req.pay_to).lower() == sel.pay_to.lower() and str(req.get_amount()) == str(sel.amount_atomic))


def _payment_required(sel: Selection, challenge_obj: dict[str, Any]) -> Any:
    from x402.schemas import PaymentRequired, PaymentRequiredV1

    if sel.version == 1:
        return PaymentRequiredV1.model_validate({"x402Version": 1, "accepts": [sel.raw]})
    out: dict[str, Any] = {"x402Version": 2, "accepts": [sel.raw]}
    for name in ("resource", "extensions"):  # echoed as the server sent them; the SDK ignores unknown fields
        if isinstance(challenge_obj.get(name), dict):
            out[name] = challenge_obj[name]
    return PaymentRequired.model_validate(out)


def _register_svm(client: Any, keypair: Any, sel: Selection) -> None:
    """The SDK's Solana exact client for the selected network, told the mint's decimals and token
    program from our registry (so it never asks an RPC what the mint is). The recent blockhash comes
    from the accept's `extra.recentBlockhash` when the server gives one, else from the network's RPC
    ($X402_SOLANA_RPC_URL, or the SDK's default for the network)."""
    from solders.pubkey import Pubkey
    from x402.mechanisms.svm.exact.client import ExactSvmScheme
    from x402.mechanisms.svm.mint_cache import MintMetadata
    from x402.mechanisms.svm.signers import KeypairSigner

    from index.protocol.svm_tx import TOKEN_PROGRAM

    from x402.mechanisms.svm.exact.v1.client import ExactSvmSchemeV1

    rpc_url = os.environ.get(SOLANA_RPC_ENV) or None
    scheme: Any = (ExactSvmSchemeV1 if sel.version == 1 else ExactSvmScheme)(KeypairSigner(keypair), rpc_url)
    # The SDK's per-scheme mint cache (key: network as written, mint), seeded with our own facts.
    scheme._mint_cache[(sel.network, sel.asset)] = MintMetadata(decimals=sel.decimals,  # noqa: SLF001
                                                                 token_program=Pubkey.from_string(TOKEN_PROGRAM))
    (client.register_v1 if sel.version == 1 else client.register)(sel.network, scheme)


def sign_payment(account: Any, sel: Selection, challenge_obj: dict[str, Any], max_usd: Decimal) -> SignedPayment:
    """Sign `sel` with the official client (x402ClientSync with its exact EVM or SVM scheme). Raises
    Refusal when the SDK refuses or anything but the selection would be signed."""
    from pydantic import ValidationError
    from x402 import x402ClientSync
    from x402.http.utils import encode_payment_signature_header
    from x402.mechanisms.evm.exact import register_exact_evm_client
    from x402.schemas import AbortResult

    if sel.usd > max_usd:  # never reached: select_accept refused it already
        raise Refusal("over_cap", "over the cap")
    client = x402ClientSync()
    if sel.family == "solana":
        _register_svm(client, account, sel)
    else:
        register_exact_evm_client(client, account, networks=[sel.caip2])
    client.set_spend_controls(spend_controls(sel, max_usd))  # type: ignore[arg-type]
    client.register_policy(lambda _version, reqs: [r for r in reqs if _matches(sel, r)])

    def before(ctx: Any) -> AbortResult | None:
        if not _matches(sel, ctx.selected_requirements):
            return AbortResult(reason="not the selected accept")
        return None

    client.on_before_payment_creation(before)
    try:
        required = _payment_required(sel, challenge_obj)
        with warnings.catch_warnings():  # solana-py's sync Client warns that it is deprecated, on every use
            warnings.filterwarnings("ignore", message="Client is deprecated")
            payload = client.create_payment_payload(required)
    except ValidationError as exc:
        raise Refusal("challenge_incomplete", f"the SDK cannot read the selected accept ({exc.error_count()} errors)") from None
    except Exception as exc:  # noqa: BLE001 - the SDK's refusals (spend controls, policies, hooks) end here
        raise Refusal("sdk_refused", f"the x402 SDK refused to sign: {type(exc).__name__}: {str(exc)[:300]}") from None
    header_name = X_PAYMENT if sel.version == 1 else PAYMENT_SIGNATURE
    value = encode_payment_signature_header(payload)
    return SignedPayment(header_name, value, payload.model_dump(by_alias=True, exclude_none=True))
