"""When to probe a resource again, and when to retire it (pure).

- A resource that answered its probe with a usable 402 is due again `interval` later (default 6 h).
- A failing one backs off: after its n-th consecutive failure it is due `interval × 2^(n-1)` later,
  never more than MAX_BACKOFF.
- After RETIRE_AFTER_FAILURES consecutive failures spanning at least RETIRE_AFTER_DAYS, it is
  `retired`: still probed (at MAX_BACKOFF) so it can come back, its page stays with a notice, and it
  leaves the default index view. One usable 402 brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_INTERVAL = timedelta(hours=6)
MAX_BACKOFF = timedelta(days=7)
RETIRE_AFTER_FAILURES = 8
RETIRE_AFTER_DAYS = 7
SOURCE_REFRESH = timedelta(hours=24)  # discovery sources (facilitators, origin files) are re-read this often


@dataclass(frozen=True)
class Due:
    next_probe_at: datetime
    consecutive_failures: int
    failing_since: datetime | None
    retired: bool


def after_probe(at: datetime, ok: bool, consecutive_failures: int, failing_since: datetime | None,
                interval: timedelta = DEFAULT_INTERVAL) -> Due:
    """The schedule after a probe at `at` that succeeded (`ok`: a usable 402) or failed."""
    if ok:
        return Due(at + interval, 0, None, False)
    failures = consecutive_failures + 1
    since = failing_since or at
    delay = min(interval * (2 ** min(failures - 1, 32)), MAX_BACKOFF)
    retired = failures >= RETIRE_AFTER_FAILURES and at - since >= timedelta(days=RETIRE_AFTER_DAYS)
    return Due(at + delay, failures, since, retired)


def parse_every(text: str) -> timedelta:
    """'6h', '30m', '1d', '90s' → a timedelta (at least one second)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    if len(value) < 2 or value[-1] not in units or not value[:-1].isdigit():
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 6h, 1d)")
    seconds = int(value[:-1]) * units[value[-1]]
    if seconds < 1:
        raise ValueError(f"duration must be positive: {text!r}")
    return timedelta(seconds=seconds)
