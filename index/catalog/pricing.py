"""Pricing sanity: is a price plausible for its category, and does it look like a units mistake?

Pure functions over atomic amounts (ints) and asset decimals; the thresholds below are published in
docs/methodology.md (a test keeps the two in step).

- `sanity(price, decimals, peers)`: peers are the atomic prices of the category's *other* resources
  on assets with the same decimals. With fewer than MIN_PEERS of them the flag is `unknown`.
  `group_sanity(prices, decimals)` gives the same for every member of a group at once, and
  `catalog_sanity(keys)` for every resource of a catalog (one sort per category and decimals).
  ratio = price / median(peers); `cheap_outlier` below CHEAP_RATIO, `expensive_outlier` above
  EXPENSIVE_RATIO, `normal` between.
- `decimal_suspect(...)`: the amount looks like a units mistake (decimal dollars written as an amount,
  ≥ 10^12 atomic on a 6-decimal asset, more than MAX_PLAUSIBLE_USD a call, or a dust amount on an
  18-decimal asset that reads like 6-decimal thinking).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

MIN_PEERS = 3
CHEAP_RATIO = 0.1
EXPENSIVE_RATIO = 10.0
SIX_DECIMAL_SUSPECT_ATOMIC = 10**12  # $1,000,000 a call in a 6-decimal stablecoin
MAX_PLAUSIBLE_USD = Decimal(100)
EIGHTEEN_DECIMAL_DUST_ATOMIC = 10**6  # 10^-12 of a token: someone wrote 6-decimal units
# Parser findings that mean the server wrote the amount in the wrong units.
DECIMAL_FINDINGS = frozenset({"amount_not_atomic"})


@dataclass(frozen=True)
class Sanity:
    flag: str  # normal | cheap_outlier | expensive_outlier | unknown
    ratio: float | None
    median_atomic: int | None
    peers: int


def significant(value: float, digits: int = 4) -> float:
    """`value` rounded to `digits` significant digits (a stable, readable float)."""
    return float(f"{value:.{digits}g}")


def sanity(price_atomic: int | None, decimals: int | None, peers: Sequence[int]) -> Sanity:
    """Flag a price against its category's peers (atomic prices with the same decimals)."""
    ordered = sorted(peers)
    return _judge(price_atomic, decimals, len(ordered), median(ordered) if ordered else None)


def group_sanity(prices: Sequence[int], decimals: int | None) -> list[Sanity]:
    """`sanity(prices[i], decimals, every other price)` for each i, in O(n log n) for the group instead
    of a sort per member: the group is sorted once and each member's median is read with that member
    left out (`median_without`)."""
    order = sorted(range(len(prices)), key=prices.__getitem__)
    ordered = [prices[i] for i in order]
    out: list[Sanity | None] = [None] * len(prices)
    n = len(ordered) - 1
    for k, i in enumerate(order):
        out[i] = _judge(prices[i], decimals, n, median_without(ordered, k) if n else None)
    return out  # type: ignore[return-value]


def catalog_sanity(keys: Sequence[tuple[str, int | None, int | None]]) -> list[Sanity]:
    """The sanity of every resource of a catalog, given as (category, primary atomic price, decimals):
    each price against the others of its category with the same decimals. A resource without a price
    or decimals is `unknown`, its peers the priced members of its category and decimals."""
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (category, atomic, decimals) in enumerate(keys):
        if atomic is not None and decimals is not None:
            groups.setdefault((category, decimals), []).append(i)
    checks: dict[int, Sanity] = {}
    for (_, decimals), members in groups.items():
        checks.update(zip(members, group_sanity([keys[i][1] for i in members], decimals)))  # type: ignore[misc]
    out = []
    for i, (category, _, decimals) in enumerate(keys):
        check = checks.get(i)
        if check is None:
            peers = groups.get((category, decimals), []) if decimals is not None else []
            check = Sanity("unknown", None, None, len(peers))
        out.append(check)
    return out


def median_without(ordered: Sequence[int], k: int) -> float:
    """statistics.median of `ordered` (ascending, at least 2 items) with its k-th item left out, in O(1)."""
    n = len(ordered) - 1  # items left

    def at(j: int) -> int:  # the j-th item of what is left
        return ordered[j] if j < k else ordered[j + 1]

    mid = n // 2
    return at(mid) if n % 2 else (at(mid - 1) + at(mid)) / 2


def _judge(price_atomic: int | None, decimals: int | None, n_peers: int, mid: float | None) -> Sanity:
    if price_atomic is None or decimals is None or n_peers < MIN_PEERS or mid is None:
        return Sanity("unknown", None, None, n_peers)
    median_atomic = int(mid)  # median of ints: .5 dropped for display; ratio uses the exact value
    if mid <= 0:
        return Sanity("unknown", None, median_atomic, n_peers)
    ratio = price_atomic / mid
    if ratio < CHEAP_RATIO:
        flag = "cheap_outlier"
    elif ratio > EXPENSIVE_RATIO:
        flag = "expensive_outlier"
    else:
        flag = "normal"
    return Sanity(flag, significant(ratio), median_atomic, n_peers)


def decimal_suspect(price_atomic: int | None, decimals: int | None, usd: Decimal | None,
                    finding_codes: Sequence[str] = ()) -> list[str]:
    """Why the amount looks like a units mistake (empty when it does not)."""
    reasons: list[str] = []
    if DECIMAL_FINDINGS.intersection(finding_codes):
        reasons.append("the server wrote the amount as a decimal, not atomic units")
    if price_atomic is not None and decimals == 6 and price_atomic >= SIX_DECIMAL_SUSPECT_ATOMIC:
        reasons.append(f"{price_atomic} atomic units on a 6-decimal asset is at least $1,000,000")
    if usd is not None and usd > MAX_PLAUSIBLE_USD:
        reasons.append(f"more than ${MAX_PLAUSIBLE_USD} a call")
    if price_atomic is not None and decimals == 18 and 0 < price_atomic < EIGHTEEN_DECIMAL_DUST_ATOMIC:
        reasons.append("a dust amount on an 18-decimal asset (6-decimal units?)")
    return reasons


def review_required(flag: str, suspect: bool, price_changed_recently: bool) -> bool:
    """A human should look before buying: a units mistake, an expensive outlier, or a recent change.
    A cheap outlier alone costs a buyer nothing, so it is flagged but does not require review."""
    return suspect or flag == "expensive_outlier" or price_changed_recently
