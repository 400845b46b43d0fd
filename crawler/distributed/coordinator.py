"""The coordinator: open a run on the shared frontier, keep it whole while workers crawl it, close it.

It pushes what is due (index.schedule.runs.prepare) as tasks, then watches until no task, no queued
request and no lease is left: a dead worker's leases go back into the frontier (the probes the
database already holds left out); a Redis that lost the run gets it pushed again, from the database's
record of what the run has probed. Then it stores the late sources, finishes the run (the change
report) and deletes the run's keys. The database is the record throughout; Redis only shares work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import redis
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from crawler.distributed import codec
from crawler.distributed.frontier import PREFIX, TASK, Frontier, key_of, key_text
from index.schedule.changes import probed_in_run
from index.schedule.runs import CrawlPlan
from index.store.models import CrawlRun, Observation, Resource
from index.store.write import record_sources
from index.urls import resource_key

# Quiet checks in a row before the run counts as drained (each `poll` apart).
QUIET_CHECKS = 2
# Rounds of pushing claimed-but-unstored resources again before the run gives up on them.
MAX_REPUSH = 3
# Seconds between progress lines.
PROGRESS_EVERY = 15.0


def open_run(frontier: Frontier, job: CrawlPlan, settings: dict[str, Any], done: set[tuple[str, str]]) -> int:
    """Everything the run starts with, in Redis: its settings, what it must leave alone (known and not
    due, or already probed by this run) and its tasks. Returns the number of tasks."""
    server = frontier.server
    leave_alone = sorted({key_text(k) for k in [*job.known, *done]})
    for i in range(0, len(leave_alone), 1000):
        chunk = leave_alone[i:i + 1000]
        server.sadd(frontier.claimed, *chunk)
        server.sadd(frontier.finished, *chunk)
    tasks: list[dict[str, Any]] = [{"kind": "facilitator", "url": f} for f in job.facilitators]
    tasks += [{"kind": "origin", "url": o} for o in job.origins]
    tasks += [{"kind": "candidate", "cand": c} for c in job.candidates if resource_key(c) not in done]
    pushed = frontier.push_tasks(tasks)
    server.set(frontier.meta_key, json.dumps({"run_id": job.run_id, "settings": settings, "opened": time.time()}))
    server.set(frontier.state_key, "open")
    server.set(f"{PREFIX}:current", job.run_id)
    return pushed


def release_dead(frontier: Frontier, engine: Engine, say: Callable[[str], None]) -> int:
    """Put the leases of workers whose heartbeat stopped back into the frontier; a probe the
    database already holds for this run is not asked again. Returns the number put back."""
    back = 0
    for worker in frontier.dead_workers():
        entries = frontier.leased(worker)
        done = probed_in_run(engine, frontier.run_id) if entries else set()
        tasks, requests = [], []
        for entry in entries:
            if entry.startswith(TASK):
                tasks.append(entry)
                continue
            try:
                meta = codec.loads(entry).get("meta") or {}
            except ValueError:
                continue
            key = meta.get("queue_key")
            if key is not None and tuple(key) in done:
                continue  # stored before the worker died: its lease was just never acked
            requests.append(entry)
        frontier.release_worker(worker, requests, tasks)
        frontier.free_slots_of(worker)
        if entries:
            say(f"worker {worker} stopped answering: {len(requests) + len(tasks)} of its {len(entries)} leases back in the frontier")
        back += len(requests) + len(tasks)
    return back


def settle(frontier: Frontier, poll: float, limit: float) -> None:
    """After Redis lost the run: wait (at most `limit` s) until every worker that answers has stored
    what it was fetching (its heartbeat reports the leases it holds), so that pushing the run again
    from the database asks as little as possible twice."""
    started = time.monotonic()
    time.sleep(2.0)  # a heartbeat or two: the workers register again
    while time.monotonic() - started < limit:
        stats = frontier.worker_stats()
        if all(stats.get(w, {}).get("leases_held", 1) == 0 for w in frontier.live_workers()):
            return
        time.sleep(poll)


def lost_claims(frontier: Frontier, engine: Engine, known: set[str]) -> list[str]:
    """Resources some worker claimed whose probe is not in the database (the last line of defence:
    leases should already have brought every one of them back)."""
    done = {key_text(k) for k in probed_in_run(engine, frontier.run_id)}
    return sorted(frontier.claimed_keys() - known - done)


def coordinate(engine: Engine, server: redis.Redis, job: CrawlPlan, settings: dict[str, Any], *,
               poll: float = 0.5, worker_wait: float = 60.0, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run `job` on the fleet; returns the run's summary (as crawler.run.summarize, read from the
    database) once every worker has left it. The caller finishes the run."""
    frontier = Frontier(server, job.run_id)
    done = probed_in_run(engine, job.run_id)
    known = {key_text(k) for k in [*job.known, *done]}
    if frontier.meta() is None:
        frontier.drop()  # leftovers of a run Redis only partly kept
        say(f"run {job.run_id}: {open_run(frontier, job, settings, done)} tasks in the frontier")
    else:  # a coordinator restarted while its workers kept going: the frontier is still whole
        server.set(f"{PREFIX}:current", job.run_id)
        say(f"run {job.run_id}: continuing with the frontier as Redis has it ({len(done)} resources probed)")
    quiet = repushes = lost_rounds = 0
    lost: list[str] = []
    next_progress = time.monotonic() + PROGRESS_EVERY
    while True:
        time.sleep(poll)
        if time.monotonic() >= next_progress:
            next_progress = time.monotonic() + PROGRESS_EVERY
            say(f"run {job.run_id}: {_stored(engine, job.run_id)} probes stored, {frontier.outstanding()} tasks and requests "
                f"left, {len(frontier.live_workers())} workers")
        if frontier.meta() is None:  # Redis came back empty: push the run again
            say(f"redis lost run {job.run_id}; waiting for the workers' requests in flight")
            settle(frontier, poll, worker_wait)
            done = probed_in_run(engine, job.run_id)
            known = {key_text(k) for k in [*job.known, *done]}
            say(f"pushing run {job.run_id} again ({len(done)} resources already probed)")
            open_run(frontier, job, settings, done)
            repushes += 1
            quiet = 0
            continue
        release_dead(frontier, engine, say)
        if frontier.outstanding():
            quiet = 0
            continue
        quiet += 1
        if quiet < QUIET_CHECKS:
            continue
        lost = lost_claims(frontier, engine, known)
        if not lost:
            break
        if lost_rounds >= MAX_REPUSH:
            say(f"{len(lost)} claimed resources still have no probe stored after {MAX_REPUSH} pushes; giving up on them")
            break
        lost_rounds += 1
        say(f"{len(lost)} claimed resources have no probe stored; pushing them again")
        cands = [frontier.candidate_of(k) or {"url": key_of(k)[0], "method": key_of(k)[1]} for k in lost]
        frontier.reclaimable(lost)
        frontier.push_tasks({"kind": "candidate", "cand": c} for c in cands)
        repushes += 1
        quiet = 0
    server.set(frontier.state_key, "done")
    deadline = time.monotonic() + worker_wait
    while frontier.live_workers() and time.monotonic() < deadline:
        time.sleep(poll)
    sightings = list(frontier.pop_sightings())
    if sightings:
        record_sources(engine, sightings)
    summary = run_summary(engine, job.run_id, frontier.worker_stats())
    summary["repushes"] = repushes
    summary["lost"] = len(lost)
    summary["sightings"] = len(sightings)
    if server.get(f"{PREFIX}:current") == str(job.run_id).encode():
        server.delete(f"{PREFIX}:current")
    frontier.drop()
    return summary


def _stored(engine: Engine, run_id: int) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Observation).where(
            Observation.crawl_run_id == run_id, Observation.final.is_(True))).one())


def run_summary(engine: Engine, run_id: int, workers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """crawler.run.summarize's shape, the probe counts from the database (the record, whatever
    worker died or probed twice), the rest summed over the workers' reported stats."""
    with Session(engine) as session:
        outcomes = dict(session.exec(select(Observation.outcome, func.count()).where(  # type: ignore[call-overload]
            Observation.crawl_run_id == run_id, Observation.final.is_(True)).group_by(Observation.outcome)).all())
        attempts = session.exec(select(func.count()).select_from(Observation).where(Observation.crawl_run_id == run_id)).one()
        started = session.exec(select(CrawlRun.started_at).where(CrawlRun.id == run_id)).one()
        new = session.exec(select(func.count()).select_from(Resource).where(Resource.first_seen >= started)).one()
    total: dict[str, int] = {}
    for stats in workers.values():
        for k, v in stats.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                total[k] = total.get(k, 0) + v
    probed = sum(outcomes.values())
    paid, free = outcomes.get("paid", 0), outcomes.get("free", 0)
    return {
        "probed": probed, "paid": paid, "free": free, "failed": probed - paid - free, "new": int(new),
        "queued": probed, "attempts": int(attempts), "stored": int(attempts), "outcomes": dict(sorted(outcomes.items())),
        "discovery_pages": total.get("x402/discovery/pages", 0), "discovery_failed": total.get("x402/discovery/failed", 0),
        "finish_reason": "finished", "errors": total.get("log_count/ERROR", 0),
        "spider_exceptions": sum(v for k, v in total.items() if k.startswith("spider_exceptions/")),
        "store_failed": total.get("x402/store/failed", 0), "workers": len(workers),
    }
