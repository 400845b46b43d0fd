"""The forked runner of the builds (index.forked.Forked): results in task order, a task's
error raised in the parent, a worker that dies ends the build instead of hanging it."""

from __future__ import annotations

import os
import signal

import pytest

from index.forked import Forked
from index.site.parallel import ranges


class Work:
    """Held by the workers as a bound method's object: inherited through fork, never pickled."""

    def __init__(self) -> None:
        self.unpicklable = lambda: None  # pickling this object would fail
        self.parent = os.getpid()

    def square(self, k: int) -> tuple[int, int, bool]:
        return k, k * k, os.getpid() != self.parent

    def fail_on_5(self, k: int) -> int:
        if k == 5:
            raise ValueError("bad task 5")
        return k

    def die_on_3(self, k: int) -> int:
        if k == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return k


def test_results_come_back_in_task_order_from_other_processes() -> None:
    work = Work()
    with Forked(work.square, list(range(40)), 3) as results:
        got = list(results)
    assert [(k, sq) for k, sq, _ in got] == [(k, k * k) for k in range(40)]
    assert all(forked for _, _, forked in got)


def test_a_task_error_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="bad task 5"), Forked(Work().fail_on_5, list(range(12)), 2) as results:
        list(results)


def test_a_worker_that_dies_ends_the_iteration_with_an_error() -> None:
    with pytest.raises(RuntimeError, match="died"), Forked(Work().die_on_3, list(range(8)), 2) as results:
        list(results)


def test_more_workers_than_tasks_and_no_tasks() -> None:
    with Forked(Work().square, [7], 4) as results:
        assert [sq for _, sq, _ in results] == [49]
    with Forked(Work().square, [], 4) as results:
        assert list(results) == []


def test_ranges_cover_every_record_once() -> None:
    for n, chunks in [(0, 4), (1, 4), (10, 3), (4001, 16), (7, 7)]:
        spans = ranges(n, chunks)
        assert [k for k, (_, _, part) in enumerate(spans)] == [part for _, _, part in spans]
        assert [i for lo, hi, _ in spans for i in range(lo, hi)] == list(range(n))
