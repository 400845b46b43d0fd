"""The database writer process and the pipeline's end of it: batches written in order, failures
reported and counted, never lost silently, nothing left hanging when the writer dies."""

from __future__ import annotations

from tests.support import ROOT
import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.storewriter import encode_frame, read_frames, serve
from index.store.engine import init_db
from tests.support.writer_harness import probe

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)



def _observations(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [url for (url,) in conn.execute(
            "SELECT resources.url FROM observations JOIN resources ON resources.id = resource_id ORDER BY observations.id")]


def test_serve_writes_each_batch_and_answers_one_line_each(tmp_path: Path) -> None:
    engine = init_db(f"sqlite:///{tmp_path / 'c.db'}")
    frames = io.BytesIO(encode_frame([probe(0), probe(1)]) + encode_frame([probe(2, "bad")]) + encode_frame([probe(3)]))
    replies = io.BytesIO()
    serve(engine, None, frames, replies)
    lines = [json.loads(line) for line in replies.getvalue().splitlines()]
    assert lines[0] == {"observations": 2, "new_resources": 2}
    assert lines[1]["error"].startswith("ValueError") and "Traceback" in lines[1]["traceback"]
    assert lines[2] == {"observations": 1, "new_resources": 1}
    assert _observations(tmp_path / "c.db") == [f"https://h.example/r/{i}" for i in (0, 1, 3)]


def test_a_frame_cut_short_is_an_error() -> None:
    frame = encode_frame([probe(0)])
    assert list(read_frames(io.BytesIO(frame))) == [[probe(0)]]
    for cut in (3, len(frame) - 1):
        with pytest.raises(EOFError):
            list(read_frames(io.BytesIO(frame[:cut])))


def _harness(scenario: str, db: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    init_db(f"sqlite:///{db}")
    proc = subprocess.run([sys.executable, "-m", "tests.support.writer_harness", scenario, f"sqlite:///{db}"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "stderr": proc.stderr}


def test_the_writer_process_writes_in_order_and_reports_a_bad_batch(tmp_path: Path) -> None:
    out = _harness("batches", tmp_path / "c.db")
    ok1, bad, ok2 = out["results"]
    assert ok1 == {"observations": 2, "new_resources": 2} and ok2 == {"observations": 1, "new_resources": 1}
    assert bad["failed"].startswith("ValueError")
    assert out["exit"] is not None and "exit code 0" in out["exit"]
    assert _observations(tmp_path / "c.db") == [f"https://h.example/r/{i}" for i in (0, 1, 3)]


def test_the_pipeline_counts_what_was_stored_and_what_failed(tmp_path: Path) -> None:
    out = _harness("pipeline", tmp_path / "c.db")
    # batches of 3: [0 1 2] [3 5 6] [7]; 4 dropped by the item check, the second batch refused by the writer
    assert out["stats"] == {"x402/store/observations": 4, "x402/store/new_resources": 4, "x402/store/batches": 2,
                            "x402/store/failed": 3, "x402/validation/outcome": 1}
    assert "a batch of 3 items was not stored: ValueError" in out["stderr"]
    assert "dropped an invalid probe item (outcome)" in out["stderr"]
    assert _observations(tmp_path / "c.db") == [f"https://h.example/r/{i}" for i in (0, 1, 2, 7)]


def test_a_dead_writer_fails_the_batches_instead_of_hanging(tmp_path: Path) -> None:
    out = _harness("writer_killed", tmp_path / "c.db")
    assert out["exited"]
    stats = out["stats"]
    assert stats.get("x402/store/observations", 0) + stats["x402/store/failed"] == 5
    assert stats["x402/store/failed"] >= 3
    assert "ended abnormally" in out["stderr"]
