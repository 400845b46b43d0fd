"""The set-based store on PostgreSQL: the same rows as the per-probe ORM version there too, on the
throwaway cluster `make test` starts (tests/conftest.py `pg_url`: a fresh database per run)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from index.store import write as store
from tests.support import reference_store
from tests.store.test_store_equivalence import BATCHES, _probe

def _run(url: str, writer: Any, batches: list[list[dict[str, Any]]]) -> tuple[list[Any], dict[str, list[tuple[Any, ...]]]]:
    engine = create_engine(url)
    try:
        SQLModel.metadata.drop_all(engine)
        SQLModel.metadata.create_all(engine)
        results: list[Any] = []
        for i, batch in enumerate(batches):
            if i:
                with engine.begin() as conn:
                    conn.execute(text("UPDATE payment_options SET verified = true,"
                                      " verified_at = '2026-01-01 00:30:00' WHERE position = 0"))
            try:
                results.append(writer(engine, [dict(p) for p in batch], None))
            except (ValueError, KeyError, RuntimeError) as exc:
                results.append(type(exc).__name__)
        with engine.connect() as conn:
            dump = {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]  # noqa: S608
                    for t in ("origins", "resources", "observations")}
            columns = [c.name for c in SQLModel.metadata.tables["payment_options"].columns if c.name != "id"]
            dump["payment_options"] = [tuple(r) for r in conn.execute(text(
                f"SELECT {', '.join(columns)} FROM payment_options ORDER BY resource_id, position"))]  # noqa: S608
        return results, dump
    finally:
        engine.dispose()


def test_same_rows_on_postgresql(pg_url: str) -> None:
    batch = [_probe(f"https://h{i % 4}.example/r/{i % 9}", "paid" if i % 3 else "timeout", i) for i in range(20)]
    batches = [*BATCHES, batch, batch[::-1], [{"url": "https://a.example/y", "method": "GET", "outcome": "bad"}]]
    ours = _run(pg_url, store.record_probes, batches)
    reference = _run(pg_url, reference_store.record_probes, batches)
    assert ours[0] == reference[0]
    for table, rows in reference[1].items():
        assert ours[1][table] == rows, table
