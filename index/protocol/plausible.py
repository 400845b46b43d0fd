"""The most one x402 payment may plausibly ask, per asset class: the one home of those bounds. Pure.

An x402 payment pays for one HTTP request. We do not judge prices (pricing sanity compares them with
their peers); these bounds only catch amounts no buyer could mean to pay, which come from a units
mistake (an amount in wei for a 6-decimal token), an overflow (2^256 − 1, the "infinite approval"
value) or a trap. Such an amount is the `amount_implausible` finding (error), which keeps the
resource out of `conformant` (index.catalog.trust).

Classes, by what our asset registry (data/assets.json) knows of the asset:

- a USD-pegged stablecoin: at most MAX_STABLE_UNITS whole tokens, $1,000,000 a call: far above what
  one API call, data set or report sells for, and more than an agent's hot wallet holds; an amount
  above it is a mistake or a trap, never a price a buyer would pay.
- another asset we know (decimals known, no peg): at most MAX_KNOWN_UNITS whole tokens, so a token
  worth a millionth of a dollar still reaches the stablecoin bound.
- an asset we do not know (decimals unknown): at most MAX_UNKNOWN_ATOMIC atomic units, a thousand
  times the whole supply, in atomic units, of the largest-supply tokens in circulation (about 10^33:
  10^15 tokens of 18 decimals). 2^256 − 1 is about 1.2 × 10^77.
"""

from __future__ import annotations

from index.protocol.networks import lookup_asset

MAX_STABLE_UNITS = 10**6
MAX_KNOWN_UNITS = 10**12
MAX_UNKNOWN_ATOMIC = 10**36


def max_atomic(caip2: str | None, asset: str | None) -> tuple[int, str]:
    """(the largest plausible amount in atomic units, the rule's words) for an asset on a network."""
    known = lookup_asset(caip2, asset)
    if known is None:
        return MAX_UNKNOWN_ATOMIC, "10^36 atomic units of an asset we do not know"
    if known.usd_pegged:
        return MAX_STABLE_UNITS * 10**known.decimals, f"{MAX_STABLE_UNITS:,} {known.symbol} ($1,000,000)"
    return MAX_KNOWN_UNITS * 10**known.decimals, f"{MAX_KNOWN_UNITS:,} {known.symbol}"


def implausible(atomic: str | None, caip2: str | None, asset: str | None) -> str | None:
    """Why an atomic amount (digits) cannot be a real price of one call, or None when it can."""
    if not atomic:
        return None
    bound, words = max_atomic(caip2, asset)
    if int(atomic) <= bound:  # digits only, at most 78 of them (index.protocol.normalize)
        return None
    return f"{atomic[:20]}{'…' if len(atomic) > 20 else ''} ({len(atomic)} digits) is above {words}"
