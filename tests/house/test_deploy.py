"""deploy/: the cron line, the systemd service and timer, and the CI workflow example parse and say
what the README says they do."""

from __future__ import annotations

from tests.support import ROOT
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = ROOT / "deploy"
_CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _cron_ok(line: str) -> bool:
    fields = line.split(None, 5)
    if len(fields) < 6:
        return False
    for field, (low, high) in zip(fields[:5], _RANGES, strict=True):
        if not _CRON_FIELD.match(field):
            return False
        for number in re.findall(r"\d+", field.split("/")[0]):
            if not low <= int(number) <= high:
                return False
    return True


def test_cron_line() -> None:
    lines = [ln for ln in (DEPLOY / "crontab").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 1 and _cron_ok(lines[0]), lines
    assert "x402-index crawl" in lines[0] and "x402-index build" in lines[0] and "flock" in lines[0]
    assert not _cron_ok("61 * * * * x") and not _cron_ok("* * * *")


def _unit(name: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None and "=" in line, line
        key, value = line.split("=", 1)
        current.setdefault(key, []).append(value)
    return sections


def test_systemd_units() -> None:
    service, timer = _unit("x402-index.service"), _unit("x402-index.timer")
    assert service["Service"]["Type"] == ["oneshot"]
    assert [v.split()[1] for v in service["Service"]["ExecStart"]] == ["crawl", "build"]
    assert service["Service"]["KillSignal"] == ["SIGTERM"]
    assert timer["Timer"]["Persistent"] == ["true"] and timer["Install"]["WantedBy"] == ["timers.target"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_timer_calendar_is_valid_for_systemd() -> None:
    [calendar] = _unit("x402-index.timer")["Timer"]["OnCalendar"]
    proc = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert "Next elapse" in proc.stdout


def test_ci_workflow() -> None:
    doc = yaml.safe_load((DEPLOY / "github-workflow.yml").read_text())
    triggers = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert _cron_ok(triggers["schedule"][0]["cron"] + " x")
    steps = doc["jobs"]["crawl"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "x402-index crawl" in runs and "x402-index build --out public" in runs
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") for s in steps)
    assert doc["jobs"]["deploy"]["needs"] == "crawl"
