"""What a test-buy may sign: pure rules over plain data, no I/O.

Every rule here runs before anything is signed (hardening-and-performance.md §5):
- the quote is bound to the catalog: the live 402 must say what the catalog recorded
  (`quote_diff`), or the caller accepts the changes explicitly;
- the accept is chosen on one network (Base Sepolia unless told; a mainnet needs its own flag),
  `exact` only: on EVM via EIP-3009, an asset of our registry (data/assets.json) whose EIP-712
  domain is ours (a server's `extra.name`/`extra.version` that differ are refused, never signed);
  on Solana an SPL TransferChecked of a mint of our registry, with our registry's decimals, and a
  fee payer that is an address; a payTo that is an address and no burn address, a validity window
  of at most MAX_VALIDITY_SECONDS, and an amount within the cap, checked on the accept actually
  selected (`select_accept`);
- the daily budget is not exceeded (`budget_refusal`);
- what the SDK signed is what we selected (`index.testbuy.verify.check_signed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urljoin

from index.protocol.networks import DEFAULT_NETWORK, Asset, atomic_to_decimal, format_decimal, lookup_asset, lookup_network, to_caip2
from index.urls import canonical_url
from index.protocol.models import Accept, Challenge
from index.protocol.networks import is_address, is_burn_address, namespace_of

DEFAULT_MAX_USD = Decimal("0.10")
DEFAULT_DAILY_BUDGET_USD = Decimal("1.00")
MAX_VALIDITY_SECONDS = 300  # our validBefore is never later than now + this
V1_VALID_AFTER_SLACK = 600  # the official v1 client signs validAfter = now - 600
BUDGET_WINDOW_HOURS = 24
EIP3009 = "eip3009"
FAMILIES = {"eip155": "evm", "solana": "solana"}  # network namespace -> key family


def family_of(caip2: str | None) -> str | None:
    """evm | solana for a network we pay on, else None."""
    net = lookup_network(caip2)
    return FAMILIES.get(net.namespace) if net else None


class Outcome(StrEnum):
    DRY_RUN = "dry_run"  # everything checked, nothing signed or sent
    REFUSED = "refused"  # a rule said no: nothing signed, nothing sent
    SUCCESS = "success"  # paid: 2xx with a receipt that says so
    REJECTED = "rejected"  # sent, and the server answered 402 again: not settled
    UNRECONCILED = "unreconciled"  # sent, and the end is unknown (error, timeout, no receipt): a possible spend


# Outcomes that count against the daily budget: every payment that left this machine.
SPENT_OUTCOMES = (Outcome.SUCCESS, Outcome.REJECTED, Outcome.UNRECONCILED)


class Refusal(ValueError):
    """A rule refused the test-buy before anything was signed. `code` is stable, `message` human."""

    def __init__(self, code: str, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    network: str = DEFAULT_NETWORK  # CAIP-2 or a v1 name
    mainnet: bool = False
    max_usd: Decimal = DEFAULT_MAX_USD
    daily_budget_usd: Decimal = DEFAULT_DAILY_BUDGET_USD


@dataclass(frozen=True)
class Selection:
    """The one accept we would sign, with our registry's facts about it."""

    position: int  # index in the live accepts[]
    version: int
    scheme: str
    network: str  # as the server wrote it (what goes back on the wire)
    caip2: str
    chain_id: int
    asset: str
    symbol: str
    decimals: int
    amount_atomic: int
    amount: Decimal  # human units
    usd: Decimal
    pay_to: str
    max_timeout_seconds: int
    eip712_name: str  # "" on Solana
    eip712_version: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)  # the server's accept, extra set to our domain
    family: str = "evm"  # evm | solana (the network's namespace)
    fee_payer: str | None = None  # Solana: the facilitator's fee payer (extra.feePayer)

    def describe(self) -> str:
        return f"{format_decimal(self.amount)} {self.symbol} (${format_decimal(self.usd)}) on {network_label(self.caip2)}"


def network_label(caip2: str | None) -> str:
    net = lookup_network(caip2)
    return f"{net.name} ({net.caip2})" if net else str(caip2)


def parse_usd(value: Any, what: str = "amount") -> Decimal:
    """A positive USD amount from CLI/MCP input ("0.10", 0.1); ValueError otherwise."""
    try:
        usd = Decimal(str(value).strip().lstrip("$"))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{what} must be a USD amount such as 0.10, got {value!r}") from None
    if not usd.is_finite() or usd <= 0:
        raise ValueError(f"{what} must be a positive USD amount, got {value!r}")
    return usd


def check_network_choice(network: str, mainnet: bool) -> str:
    """The CAIP-2 id of the network to pay on; refuses unknown networks, networks of a family we do not
    pay on (EVM and Solana only), and a mainnet without the flag."""
    caip2 = to_caip2(network)
    net = lookup_network(caip2)
    if net is None:
        raise Refusal("network_unknown", f"unknown network {network!r} (see data/networks.json)")
    if net.namespace not in FAMILIES:
        raise Refusal("network_unsupported", f"{network_label(net.caip2)}: test-buy pays on EVM and Solana networks only")
    if not net.testnet and not mainnet:
        raise Refusal("mainnet_not_allowed",
                      f"{network_label(net.caip2)} is a mainnet: real money; pass --mainnet to allow it")
    return net.caip2


# ---------------------------------------------------------------------------------------------
# quote binding


def address_key(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) and value.startswith("0x") else value


def _url_key(url: str | None, base: str) -> str | None:
    if not url:
        return None
    try:
        return canonical_url(urljoin(base, url))
    except ValueError:
        return url


def catalog_terms(options: list[Any]) -> list[dict[str, Any]]:
    """The compared terms of catalog payment options (PaymentOption rows or dicts), in position order."""
    rows = [o if isinstance(o, dict) else o.model_dump() for o in options]
    rows.sort(key=lambda o: o.get("position", 0))
    return [{"network": o.get("network_caip2"), "asset": o.get("asset"), "payTo": o.get("pay_to"),
             "amount": o.get("amount_atomic")} for o in rows]


def live_terms(accepts: list[Accept]) -> list[dict[str, Any]]:
    return [{"network": a.network_caip2, "asset": a.asset, "payTo": a.pay_to, "amount": a.amount_atomic} for a in accepts]


def quote_diff(catalog: list[dict[str, Any]], catalog_resource_url: str | None, live: Challenge, probed_url: str) -> list[str]:
    """Every difference between the catalog's terms and the live challenge's, one line each; [] when
    they agree. Addresses compare case-insensitively, networks as CAIP-2, URLs canonically."""
    lines = []
    ours, theirs = _url_key(catalog_resource_url, probed_url), _url_key(live.resource.url, probed_url)
    if ours != theirs:
        lines.append(f"resource.url: catalog {catalog_resource_url or '(none)'} → live {live.resource.url or '(none)'}")
    now = live_terms(live.accepts)
    for i in range(max(len(catalog), len(now))):
        was, is_ = (catalog[i] if i < len(catalog) else None), (now[i] if i < len(now) else None)
        if was is None:
            lines.append(f"accepts[{i}]: catalog (none) → live {_terms_text(is_)}")
        elif is_ is None:
            lines.append(f"accepts[{i}]: catalog {_terms_text(was)} → live (none)")
        else:
            for name in ("network", "asset", "payTo", "amount"):
                if address_key(was[name]) != address_key(is_[name]):
                    lines.append(f"accepts[{i}].{name}: catalog {was[name]} → live {is_[name]}")
    return lines


def _terms_text(t: dict[str, Any] | None) -> str:
    if t is None:
        return "(none)"
    return f"{t['amount']} of {t['asset']} on {t['network']} to {t['payTo']}"


# ---------------------------------------------------------------------------------------------
# choosing the accept


def accept_problems(acc: Accept, raw: dict[str, Any], limits: Limits) -> list[tuple[str, str]]:
    """Why this accept may not be signed ([] when it may), as (code, message) pairs in rule order."""
    problems: list[tuple[str, str]] = []
    if acc.scheme != "exact":
        problems.append(("scheme_unsupported", f"scheme {acc.scheme!r}: only 'exact' is paid"))
    extra = raw.get("extra") if isinstance(raw.get("extra"), dict) else {}
    solana = family_of(acc.network_caip2) == "solana"
    method = extra.get("assetTransferMethod", EIP3009)
    if not solana and method != EIP3009:
        problems.append(("transfer_method_unsupported", f"assetTransferMethod {method!r}: only EIP-3009 is signed (no Permit2, no approvals)"))
    known = lookup_asset(acc.network_caip2, acc.asset)
    if known is None or (not solana and not known.eip712_name):
        problems.append(("asset_not_allowed", f"asset {acc.asset} on {acc.network_caip2} is not in our allowlist (data/assets.json)"))
    elif solana:
        fee_payer = extra.get("feePayer")
        if not is_address("solana", fee_payer):
            problems.append(("fee_payer_invalid", f"extra.feePayer {str(fee_payer)[:60]!r} is not a Solana address: "
                                                  "no facilitator would pay the fee"))
        elif fee_payer == acc.pay_to:
            problems.append(("fee_payer_invalid", "extra.feePayer is the payTo: the seller would sign for our transfer"))
    else:
        name, version = extra.get("name"), extra.get("version")
        if (name is not None or version is not None) and (name, version) != (known.eip712_name, known.eip712_version):
            problems.append(("eip712_domain_mismatch",
                             f"the server names the token's EIP-712 domain {str(name)[:40]!r}/{str(version)[:10]!r}; "
                             f"our registry says {known.eip712_name!r}/{known.eip712_version!r} for {known.address}"))
    if not is_address(namespace_of(acc.network_caip2), acc.pay_to):
        problems.append(("pay_to_invalid", f"payTo {str(acc.pay_to)[:80]!r} is not an address"))
    elif is_burn_address(acc.pay_to):
        problems.append(("pay_to_zero", f"payTo {acc.pay_to} is a zero or burn address: the money would be lost"))
    timeout = acc.max_timeout_seconds
    if timeout is None or timeout <= 0:
        problems.append(("timeout_missing", "no usable maxTimeoutSeconds"))
    elif timeout > MAX_VALIDITY_SECONDS:
        problems.append(("timeout_too_long", f"maxTimeoutSeconds {timeout} would make the signature valid past now + "
                                             f"{MAX_VALIDITY_SECONDS} s"))
    if acc.amount_atomic is None:
        problems.append(("amount_invalid", f"amount {acc.amount_raw!r} is not an atomic digit string"))
    elif int(acc.amount_atomic) == 0:
        problems.append(("amount_zero", "amount is zero: nothing to prove"))
    elif known is not None:
        usd = usd_of(int(acc.amount_atomic), known)
        if usd is None:
            problems.append(("asset_not_allowed", f"{known.symbol} is not priced in USD"))
        elif usd > limits.max_usd:
            problems.append(("over_cap", f"asks {format_decimal(atomic_to_decimal(int(acc.amount_atomic), known.decimals))} "
                                         f"{known.symbol} (${format_decimal(usd)}), over the cap of ${format_decimal(limits.max_usd)} "
                                         "(--max-amount)"))
    return problems


def usd_of(atomic: int, asset: Asset) -> Decimal | None:
    return atomic_to_decimal(atomic, asset.decimals) if asset.usd_pegged else None


def select_accept(accepts: list[Accept], raw_accepts: list[dict[str, Any]], version: int | None, limits: Limits) -> Selection:
    """The first accept on the chosen network that every rule allows; Refusal otherwise.

    `raw_accepts[i]` is the server's object for `accepts[i]`. Accepts on other networks are never
    considered, however cheap: the cap is checked on the accept that would really be signed."""
    caip2 = check_network_choice(limits.network, limits.mainnet)
    if version not in (1, 2):
        raise Refusal("version_unsupported", f"x402Version {version!r}: only 1 and 2 are paid")
    candidates = [(i, a) for i, a in enumerate(accepts) if a.network_caip2 == caip2]
    if not candidates:
        offered = ", ".join(sorted({network_label(a.network_caip2) for a in accepts if a.network_caip2})) or "none"
        raise Refusal("no_accept_on_network", f"no accept on {network_label(caip2)}; offered: {offered} (--network)")
    refusals = []
    for i, acc in candidates:
        raw = raw_accepts[i] if i < len(raw_accepts) and isinstance(raw_accepts[i], dict) else {}
        problems = accept_problems(acc, raw, limits)
        if not problems:
            return _selection(i, acc, raw, version)
        refusals.append((i, problems))
    first_code, first_message = refusals[0][1][0]
    lines = [f"accepts[{i}]: {message} [{code}]" for i, problems in refusals for code, message in problems]
    raise Refusal(first_code, f"accepts[{refusals[0][0]}]: {first_message}", "\n".join(lines) if len(lines) > 1 else None)


def _selection(i: int, acc: Accept, raw: dict[str, Any], version: int) -> Selection:
    asset = lookup_asset(acc.network_caip2, acc.asset)
    net = lookup_network(acc.network_caip2)
    assert asset is not None and net is not None
    assert acc.amount_atomic is not None and acc.max_timeout_seconds is not None and acc.pay_to and acc.scheme
    atomic = int(acc.amount_atomic)
    usd = usd_of(atomic, asset)
    assert usd is not None
    if family_of(net.caip2) == "solana":  # the mint and decimals of our registry; the fee payer the server named
        return Selection(
            position=i, version=version, scheme=acc.scheme, network=acc.network or acc.network_caip2 or "",
            caip2=net.caip2, chain_id=0, asset=asset.address, symbol=asset.symbol, decimals=asset.decimals,
            amount_atomic=atomic, amount=atomic_to_decimal(atomic, asset.decimals), usd=usd, pay_to=acc.pay_to,
            max_timeout_seconds=acc.max_timeout_seconds, eip712_name="", eip712_version="", raw=dict(raw),
            family="solana", fee_payer=str((raw.get("extra") or {}).get("feePayer")),
        )
    assert asset.eip712_name and asset.eip712_version
    # Sign with our registry's domain, never the server's (they are equal here, or absent).
    signed_raw = {**raw, "extra": {**(raw.get("extra") or {}), "name": asset.eip712_name, "version": asset.eip712_version}}
    return Selection(
        position=i, version=version, scheme=acc.scheme, network=acc.network or acc.network_caip2 or "",
        caip2=net.caip2, chain_id=int(net.chain_id), asset=acc.asset or asset.address, symbol=asset.symbol,
        decimals=asset.decimals, amount_atomic=atomic, amount=atomic_to_decimal(atomic, asset.decimals), usd=usd,
        pay_to=acc.pay_to, max_timeout_seconds=acc.max_timeout_seconds, eip712_name=asset.eip712_name,
        eip712_version=asset.eip712_version, raw=signed_raw,
    )


# ---------------------------------------------------------------------------------------------
# budget, plan, and the signed result


def budget_refusal(spent_usd: Decimal, sel: Selection, budget: Decimal) -> Refusal | None:
    """A Refusal when paying `sel` would take the last BUDGET_WINDOW_HOURS past the budget."""
    if spent_usd + sel.usd > budget:
        return Refusal("budget_exceeded", f"${format_decimal(sel.usd)} more would exceed the daily budget: "
                                          f"${format_decimal(spent_usd)} already spent of ${format_decimal(budget)} "
                                          f"in the last {BUDGET_WINDOW_HOURS} h (--daily-budget)")
    return None


def signing_plan(sel: Selection, now: int, payer: str | None) -> dict[str, Any]:
    """Exactly what --pay would sign: the EIP-712 domain and the TransferWithAuthorization message,
    with the validity window the official client computes (v1: validAfter now - 600; v2: 0); on
    Solana, the SPL TransferChecked between the two associated token accounts."""
    if sel.family == "solana":
        from index.testbuy.svm_policy import svm_signing_plan

        return svm_signing_plan(sel, payer)
    return {
        "primary_type": "TransferWithAuthorization",
        "domain": {"name": sel.eip712_name, "version": sel.eip712_version, "chainId": sel.chain_id,
                   "verifyingContract": sel.asset},
        "message": {
            "from": payer, "to": sel.pay_to, "value": str(sel.amount_atomic),
            "validAfter": str(now - V1_VALID_AFTER_SLACK if sel.version == 1 else 0),
            "validBefore": str(now + sel.max_timeout_seconds),
            "nonce": "32 random bytes, fresh for this payment",
        },
        "network": sel.caip2, "x402_version": sel.version, "accept_index": sel.position,
        "amount": format_decimal(sel.amount), "symbol": sel.symbol, "usd": format_decimal(sel.usd),
    }
