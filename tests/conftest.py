"""Shared fixtures: the demo fleet (real servers on 127.0.0.1, official x402 SDK) and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.demo.server import DemoFleet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fleet() -> Iterator[dict[str, Any]]:
    """The demo fleet's manifest; the fleet runs in a subprocess for the whole session."""
    with DemoFleet() as running:
        yield running.manifest


def run_cli(*args: str, cwd: Path | None = None, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `x402-index` in a subprocess (a crawl needs a fresh Twisted reactor each time). The tests
    package is importable there (for stub components named in settings)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("X402_INDEX_DB", None)
    proc = subprocess.run([sys.executable, "-m", "index.cli", *args], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"x402-index {' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc
