"""The site build benchmark still runs end to end (a few hundred records, no timing asserted):
a bench that rots is found here, not on the day someone needs its figures."""

from __future__ import annotations

from tests.support import ROOT
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)



def test_bench_build_runs_and_prints_its_json_line(tmp_path: Path) -> None:
    out = tmp_path / "site"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "build.py"), "--n", "300", "--no-search", "--workers", "2",
                           "--out", str(out)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["records"] == 300 and result["changed"] == 3 and result["search_index_s"] is None
    for key in ("full_s", "incremental_s", "rebuild_s"):
        assert result[key] > 0
    assert result["files"] > 600  # pages and twins of 300 resources, besides the aggregates
    assert not out.exists()  # removed at the end without --keep
