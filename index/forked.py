"""Work over a list of tasks in forked processes, results back in task order.

The builds fork their workers (index.catalog.plan, index.site.build): a worker inherits the work and
its tasks, so nothing is pickled on the way in; only each task's result comes back.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Forked(Generic[T, R]):
    """`work` over `tasks` in `n` processes forked on entering: they inherit `work` and `tasks` (a bound
    method and its object are never pickled), take the next task in turn, and send each result back,
    where a thread receives it at once (a worker never waits for the parent to be free). Iterating
    yields the results in task order. A task's exception is raised here; a worker that dies (killed,
    out of memory) raises RuntimeError instead of a wait forever. Leaving ends the workers."""

    def __init__(self, work: Callable[[T], R], tasks: list[T], n: int) -> None:
        self.work, self.tasks, self.n = work, tasks, max(1, min(n, len(tasks)))
        self.procs: list[Any] = []
        self.conns: dict[Any, Any] = {}
        self.results: queue.SimpleQueue[tuple[int, bool, Any] | None] = queue.SimpleQueue()
        self.receiver: threading.Thread | None = None

    def __enter__(self) -> Forked[T, R]:
        ctx = multiprocessing.get_context("fork")
        taken = ctx.Value("q", 0)  # the next task's index, behind its lock
        for _ in range(self.n):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=self._serve, args=(taken, send), daemon=True)
            proc.start()
            send.close()
            self.procs.append(proc)
            self.conns[recv] = proc
        self.receiver = threading.Thread(target=self._receive, daemon=True)
        self.receiver.start()
        return self

    def _serve(self, taken: Any, send: Any) -> None:  # in a worker
        while True:
            with taken.get_lock():
                k = taken.value
                taken.value = k + 1
            if k >= len(self.tasks):
                break
            try:
                send.send((k, True, self.work(self.tasks[k])))
            except BaseException as exc:  # noqa: BLE001 - every failure goes to the parent, which raises it
                try:
                    send.send((k, False, exc))
                except Exception:  # noqa: BLE001 - an exception that does not pickle
                    send.send((k, False, RuntimeError(f"worker failed: {exc!r}")))
                break
        send.close()

    def _receive(self) -> None:  # a thread of the parent
        conns = dict(self.conns)
        while conns:
            for conn in wait(list(conns)):
                try:
                    self.results.put(conn.recv())
                except (EOFError, OSError):  # the worker is gone: finished, or died
                    proc = conns.pop(conn)
                    proc.join()
                    if proc.exitcode != 0:
                        self.results.put((-1, False, RuntimeError(f"a worker died (exit code {proc.exitcode})")))
        self.results.put(None)

    def __iter__(self) -> Iterator[R]:
        done: dict[int, R] = {}
        for k in range(len(self.tasks)):
            while k not in done:
                item = self.results.get()
                if item is None:
                    raise RuntimeError("the workers ended before every task was done")
                j, ok, value = item
                if not ok:
                    raise value
                done[j] = value
            yield done.pop(k)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            proc.join()
        if self.receiver is not None:
            self.receiver.join()
        for conn in self.conns:
            conn.close()
