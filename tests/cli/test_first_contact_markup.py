"""Text from servers (titles, URLs, categories) reaches the terminal as text, never as Rich markup:
`query`'s table, `runs`, crawl change lines and error messages (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

EVIL_TITLES = ["Evil [/] title", "[link=https://evil.example/]click[/link]", "[bold red]loud[/bold red]"]


def hostile_build(folder: Path) -> Path:
    """A build folder whose index.json holds titles and a URL written as Rich markup."""
    build = folder / "build"
    build.mkdir()
    entries = [{"slug": f"evil-{i}", "title": title, "price_usd": 0.01, "networks": ["eip155:8453"], "category": "other",
                "method": "GET", "status": "paid", "url": f"https://evil.example/[/]{i}?q=[link=x]",
                "tags": [], "verified": False, "last_verified": None} for i, title in enumerate(EVIL_TITLES)]
    (build / "index.json").write_text(json.dumps({"resources": entries}))
    return build


def test_query_prints_markup_as_text(tmp_path: Path) -> None:
    proc = run_cli("query", "--index", str(hostile_build(tmp_path)), "--sort", "name")
    for title in EVIL_TITLES:
        assert title in proc.stdout, proc.stdout
    assert "https://evil.example/[/]0?q=[link=x]" in proc.stdout, proc.stdout
    assert proc.stdout.rstrip().endswith("3 resources")


def test_errors_quote_markup_as_text(tmp_path: Path) -> None:
    proc = run_cli("query", "--index", "http://127.0.0.1:9/[bold]x[/]/", check=False)
    assert proc.returncode == 1 and "http://127.0.0.1:9/[bold]x[/]/index.json" in proc.stderr, proc.stderr
    proc = run_cli("crawl", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--seed", "[red]x[/red]", check=False)
    assert proc.returncode == 2 and "'[red]x[/red]'" in proc.stderr, proc.stderr
