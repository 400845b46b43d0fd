"""Health and terms history from a resource's probes (pure).

A *sample* is the final attempt of one probe (earlier attempts of a probe that went on to another
method are not samples). Our own SSRF refusals (`blocked`) are not samples: they say nothing about the
server. A sample is *up* when it got a usable 402 (`paid`). Latency percentiles are over up samples,
nearest-rank. Every window ends at the build's newest probe time, so a rebuild from the same
database gives the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from index.untrusted import iso_z

WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("30d", timedelta(days=30)),
)
HISTORY_SPAN = WINDOWS[-1][1]
NOT_SAMPLES = frozenset({"blocked", "unprobeable"})  # our own refusals; 400/422 to the bodies we had
UP = "paid"


@dataclass(frozen=True)
class Sample:
    at: datetime
    outcome: str
    latency_ms: float | None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of `values` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def window_figures(samples: Iterable[Sample], end: datetime) -> list[dict[str, Any]]:
    """One dict per window: samples, up, uptime_pct, p50/p95 latency, reason when null."""
    counted = [s for s in samples if s.outcome not in NOT_SAMPLES and s.at <= end]
    out = []
    for name, span in WINDOWS:
        inside = [s for s in counted if s.at > end - span]
        up = [s for s in inside if s.outcome == UP]
        latencies = [s.latency_ms for s in up if s.latency_ms is not None]
        row: dict[str, Any] = {
            "window": name, "samples": len(inside), "up": len(up),
            "uptime_pct": round(100 * len(up) / len(inside), 2) if inside else None,
            "p50_latency_ms": _ms(percentile(latencies, 50)), "p95_latency_ms": _ms(percentile(latencies, 95)),
            "reason": None,
        }
        if not inside:
            row["reason"] = "no probe in this window"
        elif not latencies:
            row["reason"] = "no usable 402 in this window, so no latency"
        out.append(row)
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def terms_changes(history: Iterable[tuple[datetime, Sequence[dict[str, Any]]]]) -> list[dict[str, Any]]:
    """Price and payTo changes between consecutive usable challenges, oldest first.

    `history` holds (time, accepts) of each usable 402 in time order; accepts are the parser's
    normalized dicts. Prices compare as the sorted list of `network asset amount` strings; payTo as
    the sorted set of addresses.
    """
    out: list[dict[str, Any]] = []
    prev_price: list[str] | None = None
    prev_pay: list[str] | None = None
    for at, accepts in history:
        price = sorted({f"{a.get('network_caip2') or a.get('network')} {a.get('asset')} {a.get('amount_atomic')}"
                        for a in accepts if isinstance(a, dict)})
        pay = sorted({str(a.get("pay_to")) for a in accepts if isinstance(a, dict) and a.get("pay_to")})
        stamp = iso_z(at)
        if prev_price is not None and price != prev_price:
            out.append({"at": stamp, "field": "price", "before": prev_price, "after": price})
        if prev_pay is not None and pay != prev_pay:
            out.append({"at": stamp, "field": "pay_to", "before": prev_pay, "after": pay})
        prev_price, prev_pay = price, pay
    return out
