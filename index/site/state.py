"""A build's memory between builds, in the output folder: `.build-state` (the build fingerprint,
each resource's record hash, each file's content hash, the removed-resources log) and
`.build-summaries` (each resource's summary, see `layout.summary_of`), both marshal: read fast,
written once per build. `.build-running` exists while a build runs: found at the start, the last
build was cut off and its state describes files that may no longer be there."""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import Any

from index.site.render import BUILD_VERSION
from index.site.writer import atomic_write

STATE_FILE = ".build-state"  # marshal: fingerprint, file hashes, record hashes (16-byte digests)
SUMMARIES_FILE = ".build-summaries"  # marshal: slug -> summary, read while the workers render
RUNNING_FILE = ".build-running"
OLD_STATE_FILES = (".build-state.json",)


def _load_marshal(path: Path) -> Any:
    try:  # marshal.loads of the bytes: marshal.load on a file object reads it in tiny pieces
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def load_state(root: Path) -> dict[str, Any]:
    """The last build's state, or {} when there is none or it is of another builder version."""
    state = _load_marshal(root / STATE_FILE)
    return state if isinstance(state, dict) and state.get("version") == BUILD_VERSION else {}


def owned(root: Path) -> set[str]:
    """Every file the last build's state (of any version) says that build wrote: the only ones a
    build deletes."""
    state = _load_marshal(root / STATE_FILE)
    if not isinstance(state, dict):
        return set()
    files = state.get("files") if isinstance(state.get("files"), dict) else {}
    records = state.get("records") if isinstance(state.get("records"), dict) else {}
    return {*files, *(f"r/{slug}.{ext}" for slug in records for ext in ("html", "json"))}


def load_summaries(root: Path, build_id: Any) -> dict[str, dict[str, Any]]:
    """The last build's summaries, if they belong to the state that was read (same build id)."""
    data = _load_marshal(root / SUMMARIES_FILE)
    if isinstance(data, dict) and data.get("build") == build_id and isinstance(data.get("summaries"), dict):
        return data["summaries"]
    return {}


def save_summaries(root: Path, build_id: str, summaries: dict[str, dict[str, Any]]) -> None:
    atomic_write(root / SUMMARIES_FILE, marshal.dumps({"build": build_id, "summaries": summaries}))


def save_state(root: Path, state: dict[str, Any]) -> None:
    """The new state (`version` set here), then the marks of a running build and older state files gone."""
    atomic_write(root / STATE_FILE, marshal.dumps({"version": BUILD_VERSION, **state}))
    (root / RUNNING_FILE).unlink()
    for name in OLD_STATE_FILES:
        (root / name).unlink(missing_ok=True)
