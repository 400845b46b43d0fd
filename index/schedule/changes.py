"""What a crawl run changed: resource states before and after, compared (pure `diff`), and the
run's finish: schedule the next probes, write the changes, count them.

A state is the little that a change report needs: latest status, whether the resource ever answered
a usable 402, its price terms (`network asset amount` per accept), its payTo set, retired or not.
The state at a run's start is kept on the run row, so a run resumed after a crash still reports what
changed since it began.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlmodel import Session, or_, select

from index.store.engine import chunks
from index.store.models import CrawlRun, Observation, PaymentOption, Resource, ResourceChange
from index.schedule.rules import DEFAULT_INTERVAL, after_probe

KINDS = ("added", "price_changed", "pay_to_changed", "went_down", "recovered", "removed", "retired")
REMOVED_STATUSES = frozenset({"not_found"})
# Resources read, compared and written at a time when a run finishes: memory flat in the catalog.
CHUNK = 2000


@dataclass(frozen=True)
class State:
    status: str | None
    ever_paid: bool
    prices: tuple[str, ...]
    pay_tos: tuple[str, ...]
    retired: bool

    @property
    def paid(self) -> bool:
        return self.status == "paid"


def diff(before: Mapping[int, State], after: Mapping[int, State]) -> list[tuple[int, str, Any, Any]]:
    """(resource id, kind, before, after) for every change, in resource id then KINDS order.
    Only catalog resources (ever answered a usable 402) have changes."""
    out: list[tuple[int, str, Any, Any]] = []
    for rid in sorted(after):
        new, old = after[rid], before.get(rid)
        if not new.ever_paid:
            continue
        if old is None or not old.ever_paid:
            out.append((rid, "added", None, list(new.prices)))
            continue
        if new.prices and old.prices and new.prices != old.prices:
            out.append((rid, "price_changed", list(old.prices), list(new.prices)))
        if new.pay_tos and old.pay_tos and new.pay_tos != old.pay_tos:
            out.append((rid, "pay_to_changed", list(old.pay_tos), list(new.pay_tos)))
        if old.paid and not new.paid:
            kind = "removed" if new.status in REMOVED_STATUSES else "went_down"
            out.append((rid, kind, old.status, new.status))
        elif not old.paid and new.paid:
            out.append((rid, "recovered", old.status, new.status))
        if new.retired and not old.retired:
            out.append((rid, "retired", None, new.status))
    return out


def snapshot(session: Session, first: int | None = None, last: int | None = None) -> dict[int, State]:
    """Every resource's state (or those with ids `first`…`last`), read column by column (no ORM
    objects: at 100k resources full rows with their JSON columns cost gigabytes)."""
    options = select(PaymentOption.resource_id, PaymentOption.network_caip2, PaymentOption.network,  # type: ignore[call-overload]
                     PaymentOption.asset, PaymentOption.amount_atomic, PaymentOption.pay_to)
    resources = select(Resource.id, Resource.status, Resource.last_paid_at, Resource.retired_at)  # type: ignore[call-overload]
    if first is not None and last is not None:
        options = options.where(PaymentOption.resource_id.between(first, last))  # type: ignore[attr-defined]
        resources = resources.where(Resource.id.between(first, last))  # type: ignore[union-attr]
    prices: dict[int, list[str]] = {}
    pay_tos: dict[int, set[str]] = {}
    for rid, net_caip2, net, asset, amount, pay_to in session.exec(options).all():
        prices.setdefault(rid, []).append(f"{net_caip2 or net} {asset} {amount}")
        if pay_to:
            pay_tos.setdefault(rid, set()).add(pay_to)
    out = {}
    for rid, status, last_paid_at, retired_at in session.exec(resources).all():
        out[rid] = State(
            status=status, ever_paid=last_paid_at is not None, prices=tuple(sorted(prices.get(rid, ()))),
            pay_tos=tuple(sorted(pay_tos.get(rid, ()))), retired=retired_at is not None,
        )
    return out


def snapshots(session: Session, size: int | None = None) -> Iterator[dict[int, State]]:
    """Every resource's state, `size` (CHUNK) resources at a time in id order (memory flat in the catalog)."""
    size, after = size or CHUNK, 0
    while True:
        ids = session.exec(select(Resource.id).where(Resource.id > after)  # type: ignore[call-overload]
                           .order_by(Resource.id).limit(size)).all()
        if not ids:
            return
        yield snapshot(session, ids[0], ids[-1])
        after = ids[-1]


def dump_states(states: Mapping[int, State]) -> dict[str, Any]:
    return {str(k): asdict(v) for k, v in states.items()}


def load_states(data: Mapping[str, Any]) -> dict[int, State]:
    return {int(k): _state(v) for k, v in (data or {}).items()}


def _state(v: Mapping[str, Any]) -> State:
    return State(v["status"], v["ever_paid"], tuple(v["prices"]), tuple(v["pay_tos"]), v["retired"])


def states_at_start(session: Session, run_id: int) -> Iterator[tuple[int, State]]:
    """The states kept on the run row at its start, in resource id order, one at a time: the database
    walks the JSON object (json_each on SQLite, jsonb_each on PostgreSQL), so it is never decoded whole."""
    walk = "jsonb_each" if session.get_bind().dialect.name == "postgresql" else "json_each"
    rows = session.execute(text(
        f"SELECT CAST(j.key AS INTEGER) AS rid, j.value FROM crawl_runs, {walk}(crawl_runs.before) AS j "
        "WHERE crawl_runs.id = :run_id ORDER BY rid").execution_options(stream_results=True, yield_per=CHUNK),
        {"run_id": run_id})
    for rid, value in rows:
        yield int(rid), _state(json.loads(value) if isinstance(value, str | bytes) else value)


def begin_run(engine: Engine, kind: str) -> int:
    """A new run with the catalog's state at its start."""
    with Session(engine) as session:
        run = CrawlRun(kind=kind, before=dump_states(snapshot(session)))
        session.add(run)
        session.flush()
        run_id = int(run.id)  # type: ignore[arg-type]
        session.commit()  # (reading run.id after the commit would load the row again, states and all)
        return run_id


def unfinished_run(engine: Engine) -> CrawlRun | None:
    """The newest run that never finished (killed), if any."""
    with Session(engine) as session:
        return session.exec(select(CrawlRun).where(CrawlRun.finished_at.is_(None))
                            .order_by(CrawlRun.id.desc())).first()  # type: ignore[union-attr]


def probed_in_run(engine: Engine, run_id: int) -> set[tuple[str, str]]:
    """(url, method) of every probe done in this run: the method it was asked with first (the
    candidate's) and the method its resource is stored under (a GET refused with 405 may be paid by
    POST). A probe's attempts are stored in one transaction, so a stored first attempt means done."""
    with Session(engine) as session:
        rows = session.exec(
            select(Resource.url, Resource.method, Observation.method, Observation.attempt, Observation.final)
            .join(Observation, Observation.resource_id == Resource.id)
            .where(Observation.crawl_run_id == run_id,
                   or_(Observation.final.is_(True), Observation.attempt == 0))).all()  # type: ignore[union-attr]
    done: set[tuple[str, str]] = set()
    for url, res_method, obs_method, attempt, final in rows:
        if final:
            done.add((url, res_method))
        if attempt == 0:
            done.add((url, obs_method))
    return done


def finish_run(engine: Engine, run_id: int, stats: dict[str, Any], interval: timedelta = DEFAULT_INTERVAL) -> dict[str, int]:
    """In one transaction: schedule the next probe of every resource probed in the run, record what
    changed since the run began, store the counts and mark the run finished. Returns the counts.

    A chunk of resources at a time (by id), so memory stays flat whatever the catalog's size: the
    states at the run's start are streamed from the run row, the states now read a chunk at a time."""
    with Session(engine) as session:
        # the run row without its two large JSON columns (written below, never read here)
        run = session.get(CrawlRun, run_id, options=[defer(CrawlRun.before), defer(CrawlRun.frontier)])  # type: ignore[arg-type]
        if run is None:
            raise ValueError(f"no crawl run {run_id}")
        _schedule(session, run_id, interval)
        session.flush()
        now = datetime.now(UTC)
        counts = {k: 0 for k in KINDS}
        before = states_at_start(session, run_id)
        pending = next(before, None)
        for after in snapshots(session):
            last = max(after)
            window: dict[int, State] = {}
            while pending is not None and pending[0] <= last:
                window[pending[0]] = pending[1]
                pending = next(before, None)
            changes = diff(window, after)
            if changes:
                session.execute(insert(ResourceChange), [
                    {"crawl_run_id": run_id, "resource_id": rid, "at": now, "kind": kind, "before": old, "after": new}
                    for rid, kind, old, new in changes])
            for _, kind, _, _ in changes:
                counts[kind] += 1
        before.close()
        run.changes = counts
        run.stats = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in stats.items()}
        run.finished_at = now
        run.before = {}  # no longer needed once the changes are written
        run.frontier = None  # nor what it set out to probe: it is done
        session.add(run)
        session.commit()
    return counts


def _schedule(session: Session, run_id: int, interval: timedelta) -> None:
    """The next probe of every resource probed in the run (from its final attempts, in the order they
    were made), a chunk of resources at a time: column by column and one bulk UPDATE by primary key per
    chunk, no ORM object per resource."""
    probed = session.exec(select(Observation.resource_id).distinct()  # type: ignore[call-overload]
                          .where(Observation.crawl_run_id == run_id, Observation.final.is_(True))
                          .order_by(Observation.resource_id)).all()
    for ids in chunks(probed, CHUNK):
        first, last = ids[0], ids[-1]
        finals = session.exec(select(Observation.resource_id, Observation.observed_at, Observation.outcome)  # type: ignore[call-overload]
                              .where(Observation.crawl_run_id == run_id, Observation.final.is_(True),
                                     Observation.resource_id.between(first, last))  # type: ignore[attr-defined]
                              .order_by(Observation.observed_at, Observation.id)).all()
        state = {rid: [failures, since, retired] for rid, failures, since, retired in session.exec(select(  # type: ignore[call-overload]
            Resource.id, Resource.consecutive_failures, Resource.failing_since, Resource.retired_at)
            .where(Resource.id.between(first, last))).all()}  # type: ignore[union-attr]
        updates: dict[int, dict[str, Any]] = {}
        for rid, at, outcome in finals:
            failures, since, retired_at = state[rid]
            at = at if at.tzinfo else at.replace(tzinfo=UTC)
            since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since
            ok = outcome in ("paid", "other_protocol")  # another protocol's 402 is a steady answer, not a failure
            due = after_probe(at, ok, failures, since, interval)
            if due.retired and retired_at is None:
                retired_at = at
            elif ok:
                retired_at = None
            state[rid] = [due.consecutive_failures, due.failing_since, retired_at]
            updates[rid] = {"id": rid, "next_probe_at": due.next_probe_at, "consecutive_failures": due.consecutive_failures,
                            "failing_since": due.failing_since, "retired_at": retired_at}
        if updates:
            session.execute(update(Resource), list(updates.values()))
