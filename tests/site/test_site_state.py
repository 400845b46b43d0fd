"""index.site.state: what a build remembers, and what it refuses to trust."""

from __future__ import annotations

import marshal
from pathlib import Path

from index.site import state
from index.site.render import BUILD_VERSION


def test_state_round_trip_and_marks_cleared(tmp_path: Path) -> None:
    (tmp_path / state.RUNNING_FILE).touch()
    (tmp_path / ".build-state.json").write_text("{}")  # an older builder's file
    state.save_state(tmp_path, {"fingerprint": "f", "build": "b1", "files": {"index.html": "h"}, "records": {"a": b"x"}})
    assert state.load_state(tmp_path) == {"version": BUILD_VERSION, "fingerprint": "f", "build": "b1",
                                          "files": {"index.html": "h"}, "records": {"a": b"x"}}
    assert not (tmp_path / state.RUNNING_FILE).exists() and not (tmp_path / ".build-state.json").exists()


def test_a_state_of_another_version_or_damaged_is_no_state(tmp_path: Path) -> None:
    assert state.load_state(tmp_path) == {}
    (tmp_path / state.STATE_FILE).write_bytes(marshal.dumps({"version": "site-0", "records": {"a": b"x"}}))
    assert state.load_state(tmp_path) == {}
    (tmp_path / state.STATE_FILE).write_bytes(b"\x00not marshal")
    assert state.load_state(tmp_path) == {}


def test_summaries_belong_to_one_build(tmp_path: Path) -> None:
    state.save_summaries(tmp_path, "b1", {"a": {"row": "<tr>"}})
    assert state.load_summaries(tmp_path, "b1") == {"a": {"row": "<tr>"}}
    assert state.load_summaries(tmp_path, "b2") == {}  # the state read is another build's
    (tmp_path / state.SUMMARIES_FILE).write_bytes(b"")
    assert state.load_summaries(tmp_path, "b1") == {}
