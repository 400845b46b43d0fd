"""The due-queue: which known resources to probe now, as crawl candidates, and which to leave alone.

A resource is due when its `next_probe_at` (index.schedule.rules) has passed or was never set. Its
candidate carries what the last probe learned (method, input hints, the example body a source
declared), so a POST endpoint is asked the way that worked. Discovery sources are re-read when the
last run that read them is older than SOURCE_REFRESH.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from index.store.models import CrawlRun, Resource
from index.schedule.rules import SOURCE_REFRESH


# Due resources read from the store at a time while a crawl iterates its candidates.
READ_CHUNK = 500


def _candidate(res: Resource) -> dict[str, Any]:
    return candidate_of(res.url, res.method, res.hints, res.sources)


def candidate_of(url: str, method: str, hints: dict[str, Any] | None, sources: list[Any] | None) -> dict[str, Any]:
    """A known resource as a crawl candidate: its method, its input hints (the last probe's, else a
    source's), the example body a source declared."""
    cand: dict[str, Any] = {"url": url, "method": method}
    hints = hints or {}
    declared = [s.get("declared") for s in sources or [] if isinstance(s, dict) and isinstance(s.get("declared"), dict)]
    if not hints:
        hints = next((d["hints"] for d in declared if isinstance(d.get("hints"), dict)), {})
    if hints:
        cand["hints"] = hints
    body = next((d["example_body"] for d in declared if d.get("example_body") is not None), None)
    if body is not None:
        cand["body"] = body
    return cand


class Candidates:
    """A crawl's candidates: the due resources (by id, in the order given), read from the store
    READ_CHUNK at a time as they are iterated, then `extra` candidates (seeds). Only the ids are held:
    a candidate carries the resource's hints, which at 100k due resources cost hundreds of MB at once.
    Sized and iterable any number of times, like the list it replaces."""

    def __init__(self, engine: Engine | None = None, due_ids: list[int] | None = None,
                 extra: list[dict[str, Any]] | None = None) -> None:
        self.engine = engine
        self.due_ids = list(due_ids or [])
        self.extra = list(extra or [])

    def __len__(self) -> int:
        return len(self.due_ids) + len(self.extra)

    def __bool__(self) -> bool:
        return bool(self.due_ids or self.extra)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self.due()
        yield from self.extra

    def due(self) -> Iterator[dict[str, Any]]:
        for start in range(0, len(self.due_ids), READ_CHUNK):
            chunk = self.due_ids[start:start + READ_CHUNK]
            assert self.engine is not None
            with Session(self.engine) as session:  # one short read per chunk: never a long-lived read transaction
                rows = {rid: (url, method, hints, sources) for rid, url, method, hints, sources in session.exec(
                    select(Resource.id, Resource.url, Resource.method, Resource.hints, Resource.sources)  # type: ignore[call-overload]
                    .where(Resource.id.in_(chunk))).all()}  # type: ignore[union-attr]
            for rid in chunk:
                if rid in rows:  # a resource deleted meanwhile has nothing left to probe
                    yield candidate_of(*rows[rid])


def due_ids(engine: Engine, now: datetime, *, limit: int | None = None, everything: bool = False,
            done: set[tuple[str, str]] | None = None) -> tuple[list[int], list[tuple[str, str]], list[tuple[str, str]]]:
    """(ids of the due resources, most overdue first; their keys (url, method); keys of every other
    known resource, sorted). `everything` makes every resource due; `done` are resources already
    probed in the run being resumed; `limit` keeps the most overdue. Read column by column."""
    done = done or set()
    with Session(engine) as session:
        query = select(Resource.id, Resource.url, Resource.method)  # type: ignore[call-overload]
        if not everything:
            query = query.where(or_(Resource.next_probe_at.is_(None), Resource.next_probe_at <= now))  # type: ignore[union-attr]
        ids: list[int] = []
        keys: list[tuple[str, str]] = []
        for rid, url, method in session.exec(query.order_by(Resource.next_probe_at, Resource.id)).all():
            if (url, method) in done:
                continue
            if limit is not None and len(ids) >= limit:
                break
            ids.append(rid)
            keys.append((url, method))
        due_set = set(ids)
        known = [(u, m) for rid, u, m in session.exec(select(Resource.id, Resource.url, Resource.method)).all()  # type: ignore[call-overload]
                 if rid not in due_set]
    return ids, keys, sorted(known)


def plan(engine: Engine, now: datetime, *, limit: int | None = None, everything: bool = False,
         done: set[tuple[str, str]] | None = None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(due candidates, keys of every other known resource): `due_ids` with the candidates read."""
    ids, _, known = due_ids(engine, now, limit=limit, everything=everything, done=done)
    return list(Candidates(engine, ids)), known


def discovery_due(engine: Engine, now: datetime) -> bool:
    """True when no finished run read the discovery sources within SOURCE_REFRESH."""
    with Session(engine) as session:
        runs = session.exec(select(CrawlRun).where(CrawlRun.finished_at.is_not(None))  # type: ignore[union-attr]
                            .order_by(CrawlRun.id.desc()).limit(50)).all()
    for run in runs:
        if (run.stats or {}).get("discovery"):
            finished = run.finished_at if run.finished_at.tzinfo else run.finished_at.replace(tzinfo=UTC)  # type: ignore[union-attr]
            return now - finished >= SOURCE_REFRESH
    return True
