"""The due-queue rules: re-probe intervals, exponential backoff, retirement and return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from index.schedule.rules import DEFAULT_INTERVAL, MAX_BACKOFF, RETIRE_AFTER_FAILURES, after_probe, parse_every

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_live_resources_are_due_after_the_interval() -> None:
    due = after_probe(T0, True, 3, T0 - timedelta(days=1))
    assert (due.next_probe_at, due.consecutive_failures, due.failing_since, due.retired) == (T0 + DEFAULT_INTERVAL, 0, None, False)
    assert after_probe(T0, True, 0, None, interval=timedelta(hours=1)).next_probe_at == T0 + timedelta(hours=1)


def test_failures_back_off_exponentially_up_to_a_cap() -> None:
    failures, since, at = 0, None, T0
    delays = []
    for _ in range(12):
        due = after_probe(at, False, failures, since)
        delays.append(due.next_probe_at - at)
        failures, since, at = due.consecutive_failures, due.failing_since, due.next_probe_at
    assert delays[:3] == [DEFAULT_INTERVAL, DEFAULT_INTERVAL * 2, DEFAULT_INTERVAL * 4]
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False)) and max(delays) == MAX_BACKOFF
    assert since == T0


def test_retired_only_after_enough_failures_over_enough_days() -> None:
    quick = after_probe(T0 + timedelta(hours=1), False, RETIRE_AFTER_FAILURES - 1, T0)
    assert quick.consecutive_failures == RETIRE_AFTER_FAILURES and not quick.retired  # many, but within an hour
    slow = after_probe(T0 + timedelta(days=8), False, RETIRE_AFTER_FAILURES - 1, T0)
    assert slow.retired
    assert not after_probe(T0 + timedelta(days=30), False, 1, T0).retired  # long, but few
    back = after_probe(T0 + timedelta(days=40), True, 20, T0)
    assert not back.retired and back.consecutive_failures == 0


def test_parse_every() -> None:
    assert parse_every("6h") == timedelta(hours=6)
    assert parse_every("30m") == timedelta(minutes=30)
    assert parse_every("1d") == timedelta(days=1)
    for bad in ("", "6", "h", "-1h", "1.5h", "0s", "6w"):
        with pytest.raises(ValueError):
            parse_every(bad)
