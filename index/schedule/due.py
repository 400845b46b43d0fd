"""The due-queue: which known resources to probe now, as crawl candidates, and which to leave alone.

A resource is due when its `next_probe_at` (index.schedule.rules) has passed or was never set. Its
candidate carries what the last probe learned (method, input hints, the example body a source
declared), so a POST endpoint is asked the way that worked. Discovery sources are re-read when the
last run that read them is older than SOURCE_REFRESH.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from index.store.models import CrawlRun, Resource
from index.schedule.rules import SOURCE_REFRESH


def _candidate(res: Resource) -> dict[str, Any]:
    cand: dict[str, Any] = {"url": res.url, "method": res.method}
    hints = res.hints or {}
    declared = [s.get("declared") for s in res.sources or [] if isinstance(s, dict) and isinstance(s.get("declared"), dict)]
    if not hints:
        hints = next((d["hints"] for d in declared if isinstance(d.get("hints"), dict)), {})
    if hints:
        cand["hints"] = hints
    body = next((d["example_body"] for d in declared if d.get("example_body") is not None), None)
    if body is not None:
        cand["body"] = body
    return cand


def plan(engine: Engine, now: datetime, *, limit: int | None = None, everything: bool = False,
         done: set[tuple[str, str]] | None = None) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """(due candidates, keys of every other known resource). `everything` makes every resource due;
    `done` are resources already probed in the run being resumed; `limit` keeps the most overdue."""
    done = done or set()
    with Session(engine) as session:
        query = select(Resource)
        if not everything:
            query = query.where(or_(Resource.next_probe_at.is_(None), Resource.next_probe_at <= now))  # type: ignore[union-attr]
        due = [r for r in session.exec(query.order_by(Resource.next_probe_at, Resource.id)).all()
               if (r.url, r.method) not in done]
        if limit is not None:
            due = due[:limit]
        due_keys = {(r.url, r.method) for r in due}
        known = [(u, m) for u, m in session.exec(select(Resource.url, Resource.method)).all() if (u, m) not in due_keys]
    return [_candidate(r) for r in due], sorted(known)


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
