"""The scheduled crawl: one incremental run (resume, due-queue, discovery when due, finish with a
change report), the crawl-runs listing, and the `run --every` loop.

A run killed at any point resumes on the next `crawl`: its row has no `finished_at`, the resources
it already probed are left alone, and the change report still compares with the state at its start.
Observations are written in transactions by the store, so a kill leaves whole probes or nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, func, select

from index.schedule.changes import KINDS, begin_run, finish_run, probed_in_run, unfinished_run
from index.schedule.due import Candidates, discovery_due, due_ids
from index.store.models import CrawlRun, Resource, ResourceChange
from index.schedule.rules import DEFAULT_INTERVAL
from index.urls import resource_key


@dataclass
class CrawlPlan:
    run_id: int
    resumed: bool
    already_probed: int
    candidates: Candidates  # sized and iterable; the due resources read from the store as it is iterated
    facilitators: list[str]
    origins: list[str]
    known: list[tuple[str, str]]
    discovery: bool
    due: int = 0
    notes: list[str] = field(default_factory=list)


def prepare(engine: Engine, *, seeds: list[dict[str, Any]], facilitators: list[str], origins: list[str],
            explicit: bool, everything: bool, limit: int | None, now: datetime | None = None) -> CrawlPlan:
    """What this run probes. `explicit`: the operator named sources on the command line (always
    read); otherwise discovery sources are read when due. `everything` (`--all`) makes every known
    resource due and reads every source.

    A run that did not finish (Ctrl-C, a kill) is resumed first, with the rest of its own frontier:
    what it set out to probe and has not (not the default seeds instead). Sources named on the
    command line of the resuming crawl are added to it."""
    now = now or datetime.now(UTC)
    resume = unfinished_run(engine)
    if resume is not None and resume.frontier:
        return _resume(engine, resume, seeds if explicit else [], facilitators if explicit else [],
                       origins if explicit else [])
    done: set[tuple[str, str]] = set()
    if resume is not None:  # a run begun before frontiers were kept: its done set, today's plan
        run_id = int(resume.id)  # type: ignore[arg-type]
        done = probed_in_run(engine, run_id)
    else:
        run_id = begin_run(engine, "full" if everything else "incremental")
    ids, due_keys, known = due_ids(engine, now, limit=limit, everything=everything, done=done)
    discover = everything or explicit or discovery_due(engine, now)
    if not discover:
        seeds, facilitators, origins = [], [], []
    # what the run being resumed already probed stays done, whoever names it again
    seeds = [c for c in seeds if resource_key(c) not in done]
    wanted = {k for k in map(resource_key, seeds) if k is not None}
    known = [k for k in known if k not in wanted]
    if resume is None:
        due_set = set(due_keys)
        _save_frontier(engine, run_id, {
            "due": sorted([u, m] for u, m in due_set),
            "seeds": [c for c in seeds if (c["url"], c.get("method")) not in due_set],
            "facilitators": list(facilitators), "origins": list(origins), "discovery": discover})
        del due_set
    return CrawlPlan(run_id, resume is not None, len(done), Candidates(engine, ids, seeds), list(facilitators),
                     list(origins), known, discover, due=len(ids))


def _save_frontier(engine: Engine, run_id: int, frontier: dict[str, Any]) -> None:
    """Keep what run `run_id` sets out to probe: due resources by key (their candidates are rebuilt
    from the store: hints can be large), the other candidates whole, and the discovery sources."""
    with Session(engine) as session:
        run = session.get(CrawlRun, run_id, options=[defer(CrawlRun.before)])  # type: ignore[arg-type]
        assert run is not None
        run.frontier = frontier
        session.add(run)
        session.commit()


def _resume(engine: Engine, run: CrawlRun, seeds: list[dict[str, Any]], facilitators: list[str],
            origins: list[str]) -> CrawlPlan:
    """The rest of an unfinished run's frontier, plus what the resuming command named."""
    run_id = int(run.id)  # type: ignore[arg-type]
    frontier = run.frontier or {}
    done = probed_in_run(engine, run_id)
    due_keys = {(u, m) for u, m in frontier.get("due") or []} - done
    with Session(engine) as session:
        keys = session.exec(select(Resource.id, Resource.url, Resource.method)).all()  # type: ignore[call-overload]
    ids = sorted(rid for rid, u, m in keys if (u, m) in due_keys)
    extra, wanted = [], {(u, m) for _, u, m in keys if (u, m) in due_keys}
    for cand in [*(frontier.get("seeds") or []), *seeds]:
        key = resource_key(cand)
        if key not in done and key not in wanted:
            extra.append(cand)
            if key is not None:
                wanted.add(key)
    known = sorted((u, m) for _, u, m in keys if (u, m) not in wanted)
    facilitators = list(dict.fromkeys([*(frontier.get("facilitators") or []), *facilitators]))
    origins = list(dict.fromkeys([*(frontier.get("origins") or []), *origins]))
    return CrawlPlan(run_id, True, len(done), Candidates(engine, ids, extra), facilitators, origins, known,
                     bool(frontier.get("discovery")), due=len(ids))


def finish(engine: Engine, crawl_plan: CrawlPlan, summary: dict[str, Any],
           interval: timedelta = DEFAULT_INTERVAL) -> dict[str, int]:
    return finish_run(engine, crawl_plan.run_id, {**summary, "discovery": crawl_plan.discovery,
                                                  "resumed": crawl_plan.resumed}, interval)


def change_lines(engine: Engine, run_id: int, limit: int = 50) -> list[str]:
    """One line per change of a run: `kind  METHOD url  before → after`, the first `limit` of them and
    a count of the rest (read as `limit` rows and a count: a first crawl adds every resource)."""
    where = ResourceChange.crawl_run_id == run_id
    with Session(engine) as session:
        rows = session.exec(select(  # type: ignore[call-overload]
            ResourceChange.kind, ResourceChange.before, ResourceChange.after, Resource.method, Resource.url)
            .join(Resource, Resource.id == ResourceChange.resource_id)
            .where(where).order_by(ResourceChange.id).limit(limit)).all()
        total = len(rows) if len(rows) < limit else session.exec(  # type: ignore[call-overload]
            select(func.count()).select_from(ResourceChange).join(Resource, Resource.id == ResourceChange.resource_id)
            .where(where)).one()
    lines = []
    for kind, before, after, method, url in rows:
        detail = ""
        if kind in ("price_changed", "pay_to_changed"):
            detail = f"  {'; '.join(before or [])} → {'; '.join(after or [])}"
        elif kind in ("went_down", "removed", "recovered"):
            detail = f"  {before} → {after}"
        lines.append(f"{kind:<15} {method} {url}{detail}")
    if total > limit:
        lines.append(f"… and {total - limit} more (x402-index runs --format json)")
    return lines


def runs(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The newest crawl runs, newest first, as plain rows."""
    with Session(engine) as session:
        rows = session.exec(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(limit)).all()  # type: ignore[union-attr]
    out = []
    for run in rows:
        stats = run.stats or {}
        out.append({
            "id": run.id, "kind": run.kind,
            "started_at": run.started_at.isoformat(), "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "probed": stats.get("probed"), "paid": stats.get("paid"), "failed": stats.get("failed"),
            "new": stats.get("new"), "discovery": stats.get("discovery"), "resumed": stats.get("resumed"),
            "changes": {k: (run.changes or {}).get(k, 0) for k in KINDS},
        })
    return out


class StopFlag:
    """Set by SIGTERM or SIGINT; the loop checks it between steps and sleeps on it."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._set)

    def _set(self, _signum: int, _frame: Any) -> None:
        self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()


Step = tuple[str, Callable[[], int]]  # (name, run it and return its exit code)


def run_loop(steps: Sequence[Step], every: timedelta, stop: StopFlag, iterations: int | None = None,
             say: Callable[[str], None] = print) -> tuple[int, list[str]]:
    """Run `steps` in order (e.g. crawl then build), every `every`, until stopped (checked between
    steps) or `iterations` cycles are done. The caller decides what a step is (the CLI runs each in a
    child process: a crawl needs a fresh reactor). Returns (full cycles, one line per failed step)."""
    cycles = 0
    failed: list[str] = []
    while not stop.stopped and (iterations is None or cycles < iterations):
        started = datetime.now(UTC)
        for name, step in steps:
            if stop.stopped:
                say(f"stopping before {name}")
                return cycles, failed
            code = step()
            say(f"{name} finished with exit code {code}")
            if code != 0:
                failed.append(f"{name} of cycle {cycles + 1} exited {code}")
        cycles += 1
        if iterations is not None and cycles >= iterations:
            break
        wait = every - (datetime.now(UTC) - started)
        if wait.total_seconds() > 0:
            say(f"next run at {(datetime.now(UTC) + wait).isoformat(timespec='seconds')}")
            stop.event.wait(wait.total_seconds())
    return cycles, failed
