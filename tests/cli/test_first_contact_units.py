"""The pure pieces behind first contact: seed checks and source assembly, the no-network verdict,
the crawl report's wording, the `run` loop with its steps passed in, the database a command opens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crawler.discovery.seeds import SeedError, assemble, seed_problem
from crawler.run import no_network
from index.cli.crawl import summary_lines
from index.cli.options import CliError, database
from index.paths import db_url, sqlite_file
from index.schedule.runs import StopFlag, run_loop


@pytest.mark.parametrize("seed", ["https://api.example.com/x", "POST https://api.example.com/x", "get http://h:8080/",
                                  "http://[::1]:9/x", "https://api.example.com"])
def test_good_seeds(seed: str) -> None:
    assert seed_problem(seed) is None


def test_assemble_reads_the_default_file_only_when_nothing_is_named(tmp_path: Path) -> None:
    default = tmp_path / "seeds.yaml"
    default.write_text("resources: ['GET https://a.example/x']\nfacilitators: ['https://f.example']\n")
    named = assemble(["https://b.example/y", "https://origin.example/"], ["https://g.example"], None, default)
    assert named.explicit and [c["url"] for c in named.candidates] == ["https://b.example/y"]
    assert named.origins == ["https://origin.example/"] and named.facilitators == ["https://g.example"]
    plain = assemble(None, None, None, default)
    assert not plain.explicit and [c["url"] for c in plain.candidates] == ["https://a.example/x"]
    assert plain.facilitators == ["https://f.example"]
    with pytest.raises(SeedError, match="--facilitator 'ftp://x'"):
        assemble(None, ["ftp://x"], None, default)


def test_no_network_only_when_every_download_failed_on_a_lookup() -> None:
    dns = "downloader/exception_type_count/twisted.internet.error.DNSLookupError"
    assert no_network({dns: 3, "downloader/exception_count": 3})
    assert not no_network({dns: 3, "downloader/response_count": 1})  # something answered
    assert not no_network({dns: 2, "downloader/exception_type_count/twisted.internet.error.ConnectionRefusedError": 1})
    assert not no_network({})  # nothing was downloaded at all


def test_the_crawl_report_keeps_answers_apart_from_silence() -> None:
    summary = {"probed": 6, "paid": 2, "free": 1, "new": 6,
               "outcomes": {"paid": 2, "free": 1, "not_found": 1, "auth_required": 1, "timeout": 1}}
    line, outcomes = summary_lines(summary)
    assert line == "probed 6 · paid 2 · free 1 · answered without an offer 2 · no answer 1 · new 6"
    assert outcomes == "  outcomes: paid 2, free 1, not_found 1, auth_required 1, timeout 1"


def test_run_loop_runs_the_steps_it_is_given_and_reports_failures() -> None:
    calls: list[str] = []
    stop = StopFlag()

    def step(name: str, code: int) -> tuple[str, object]:
        def run() -> int:
            calls.append(name)
            return code
        return name, run

    cycles, failed = run_loop([step("crawl", 0), step("build", 2)], timedelta(seconds=0), stop, iterations=2,
                              say=lambda _: None)
    assert cycles == 2 and calls == ["crawl", "build", "crawl", "build"]
    assert failed == ["build of cycle 1 exited 2", "build of cycle 2 exited 2"]

    def stopping() -> int:
        stop.event.set()
        return 0

    calls.clear()
    cycles, failed = run_loop([("crawl", stopping), step("build", 0)], timedelta(hours=1), stop, say=lambda _: None)
    assert cycles == 0 and calls == [] and failed == []  # stopped between steps: build never ran


def test_the_database_a_command_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X402_INDEX_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    assert sqlite_file("sqlite:///data/x.db") == Path("data/x.db")
    assert sqlite_file("sqlite:////abs/x.db") == Path("/abs/x.db")
    assert sqlite_file("sqlite://") is None and sqlite_file("postgresql+psycopg://u@h/db") is None
    with pytest.raises(ValueError, match="sqlite:///data/x.db"):
        db_url("data/x.db")
    with pytest.raises(CliError, match="no database at data/catalog.db") as missing:
        database(None)
    assert missing.value.code == 1
    assert database(None, create=True) == "sqlite:///data/catalog.db"
    assert database("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"  # the server says
    monkeypatch.setenv("X402_INDEX_DB", "catalog.db")
    with pytest.raises(CliError, match="sqlite:///catalog.db") as bad:
        database(None)
    assert bad.value.code == 2
    assert not (tmp_path / "data").exists()
