"""A newcomer's first hour, typed in a terminal (tests/support/pty_harness.py): every command's --help, the
demo until its home page answers and Ctrl-C, a crawl with the live display, then build, query,
show, runs, a test-buy dry run and `wallet new` on what it stored. Each asserts the exit code and
what the screen says."""

from __future__ import annotations

import json
import re
import shlex
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.pty_harness import Terminal, cli_argv, plain, run_in_terminal

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

COMMANDS = ["crawl", "runs", "run", "build", "query", "show", "test-buy", "wallet", "wallet new", "mcp", "serve",
            "demo", "db", "db upgrade"]
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_help_of_every_command_in_a_terminal() -> None:
    code, screen = run_in_terminal("--help")
    assert code == 0, screen
    for name in {c.split()[0] for c in COMMANDS}:
        assert re.search(rf"\b{re.escape(name)}\b", screen), (name, screen)
    for command in COMMANDS:
        code, screen = run_in_terminal(*command.split(), "--help")
        assert code == 0, (command, screen)
        assert "Usage:" in screen and "Traceback" not in screen, (command, screen)
        if command not in ("wallet", "db"):
            assert "Example:" in screen, (command, screen)


def test_demo_serves_until_ctrl_c(tmp_path: Path) -> None:
    """`x402-index demo` in a terminal: crawls the well-behaved fleet with the live display, builds,
    serves; the home page answers; the commands it prints run as printed, on its data; Ctrl-C stops
    the site and the fleet and exits 0."""
    port = free_port()
    with Terminal(cli_argv("demo", "--port", str(port), "--out", str(tmp_path / "public"),
                           "--db", f"sqlite:///{tmp_path / 'demo' / 'catalog.db'}"), cwd=tmp_path) as term:
        live = term.expect(r"demo is live at (http://127\.0\.0\.1:\d+/)", timeout=120)
        home = httpx.get(live.group(1), timeout=10)
        assert home.status_code == 200 and "x402" in home.text
        index = httpx.get(live.group(1) + "index.json", timeout=10).json()
        screen = term.screen
        printed = [shlex.split(line, comments=True) for line in screen.splitlines()
                   if line.startswith("  ") and " --db sqlite:///" in line and "--pay" not in line and " build " not in line]
        for argv in printed:  # show, runs, test-buy (dry run), as a person would paste them
            code, out = run_in_terminal(*argv[1:], cwd=tmp_path, cols=160)
            assert code == 0, (argv, out)
        pay = next(shlex.split(line) for line in screen.splitlines() if line.startswith("  ") and " --pay " in line)
        code, out = run_in_terminal(*pay[1:], cwd=tmp_path, cols=160)
        assert code == 0 and "success" in out.lower(), (pay, out)
        term.ctrl_c()
        code = term.wait(20)
        screen = term.screen
    assert code == 0, screen
    assert "stopped" in screen, screen
    assert "internal error" not in screen and "Traceback" not in screen, screen
    assert sorted(argv[1] for argv in printed) == ["runs", "show", "test-buy"], printed
    # the well-behaved fleet only, on its fixed ports (stable slugs) unless they were taken
    assert index["resources"] and not any("Hostile" in e["title"] or "Vault" in e["title"] for e in index["resources"])
    if "a port from 8410 is taken" not in screen:
        assert all(e["url"].startswith(("http://127.0.0.1:841",)) for e in index["resources"]), index["resources"]
    # a healthy demo does not read as failure: the 404 is an answer, nothing went unanswered
    assert re.search(r"answered without an offer [1-9]\d* · no answer 0 ·", screen), screen


@pytest.fixture(scope="module")
def terminal_crawl(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A crawl of the fleet's well-behaved origins typed in a terminal (the live display is on)."""
    work = tmp_path_factory.mktemp("terminal")
    db = f"sqlite:///{work / 'catalog.db'}"
    with Terminal(cli_argv("crawl", "--db", db, "--allow-host", "127.0.0.1", "--facilitator", fleet["facilitator"],
                           *FAST), cwd=work) as term:
        code = term.wait(120)
        screen = term.screen
    return {"work": work, "db": db, "code": code, "screen": screen}


def test_crawl_in_a_terminal(terminal_crawl: dict[str, Any]) -> None:
    screen = terminal_crawl["screen"]
    assert terminal_crawl["code"] == 0, screen
    assert re.search(r"probed \d+ · paid [1-9]\d* · free", screen), screen
    assert "changes: added" in screen, screen
    assert "internal error" not in screen and "Traceback" not in screen, screen


@pytest.fixture(scope="module")
def terminal_build(terminal_crawl: dict[str, Any]) -> Path:
    out = terminal_crawl["work"] / "public"
    code, screen = run_in_terminal("build", "--db", terminal_crawl["db"], "--out", str(out), "--no-search",
                                   cwd=terminal_crawl["work"])
    assert code == 0, screen
    assert re.search(r"built \d+ resources into ", screen), screen
    return out


def test_build_query_show_in_a_terminal(terminal_crawl: dict[str, Any], terminal_build: Path) -> None:
    entries = json.loads((terminal_build / "index.json").read_text())["resources"]
    paid = [e for e in entries if e.get("status") == "paid"]
    code, screen = run_in_terminal("query", "--index", str(terminal_build), "--status", "paid", cwd=terminal_crawl["work"],
                                   cols=160)
    assert code == 0, screen
    assert screen.rstrip().endswith(f"\n{len(paid)} resources"), screen
    assert "┃ slug " in screen and "…" not in screen, screen  # the slug, and nothing cut
    for e in paid:
        assert e["slug"] in screen and e["url"] in screen, (e, screen)
    code, screen = run_in_terminal("query", "--index", str(terminal_build), "--limit", "1", cwd=terminal_crawl["work"])
    assert code == 0 and screen.rstrip().endswith("\n1 resource"), screen
    slug = entries[0]["slug"]
    code, screen = run_in_terminal("show", slug, "--db", terminal_crawl["db"], cwd=terminal_crawl["work"])
    assert code == 0, screen
    assert f'"slug": "{slug}"' in screen, screen


def test_runs_in_a_terminal(terminal_crawl: dict[str, Any]) -> None:
    code, screen = run_in_terminal("runs", "--db", terminal_crawl["db"], cwd=terminal_crawl["work"], cols=160)
    assert code == 0, screen
    assert re.search(r"│ 1\s+│ (incremental|full)", screen), screen


def test_test_buy_dry_run_in_a_terminal(terminal_crawl: dict[str, Any], terminal_build: Path) -> None:
    entries = json.loads((terminal_build / "index.json").read_text())["resources"]
    slug = next(e["slug"] for e in entries if e.get("status") == "paid" and "eip155:84532" in e["networks"])
    code, screen = run_in_terminal("test-buy", slug, "--db", terminal_crawl["db"], "--allow-host", "127.0.0.1",
                                   cwd=terminal_crawl["work"])
    assert code == 0, screen
    assert "dry run" in screen.lower(), screen


def test_wallet_new_in_a_terminal(tmp_path: Path) -> None:
    key_file = tmp_path / "k" / "wallet.key"
    code, screen = run_in_terminal("wallet", "new", "--out", str(key_file), cwd=tmp_path)
    assert code == 0, screen
    address = re.search(r"0x[0-9a-fA-F]{40}", screen)
    assert address, screen
    key = key_file.read_text().strip()
    assert key[-40:] not in screen  # the key itself is never shown
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    code, screen = run_in_terminal("wallet", "new", "--out", str(key_file), cwd=tmp_path)
    assert code == 1 and "not overwritten" in screen, screen


def test_server_text_is_never_markup(tmp_path: Path) -> None:
    """Titles and URLs come from servers: `[/]` once crashed `query` (issue 20), `[link=…]` would
    render a hyperlink. In a terminal they are printed as the text they are."""
    from tests.cli.test_first_contact_markup import hostile_build

    build = hostile_build(tmp_path)
    code, raw = run_in_terminal("query", "--index", str(build), cwd=tmp_path, cols=200, raw=True)
    screen = plain(raw)
    assert code == 0, screen
    assert "Evil [/] title" in screen and "[link=https://evil.example/]click[/link]" in screen, screen
    assert "[bold red]loud[/bold red]" in screen, screen
    assert "\x1b]8;" not in raw  # no hyperlink escape
