"""Back-off rules for servers that ask us to wait (429 / 503): pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None when absent or
    unreadable. Never negative."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return float(min(int(text[:12]), 10**9))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_seconds(retry_after: float | None, tries: int, base: float = 1.0) -> float:
    """How long to wait before retry number `tries + 1`: the server's Retry-After when it sent one,
    else `base` doubling per try."""
    if retry_after is not None:
        return retry_after
    return base * (2 ** tries)
