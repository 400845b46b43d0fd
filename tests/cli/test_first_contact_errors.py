"""Errors a person can act on, databases nobody asked for, and the MCP server on what it publishes:
issue 18's "Defaults", "Errors" and "MCP for agents" items, through the CLI as a person runs it."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

BAD_SEEDS = {
    "not a url": "not a URL",
    "htp://api.example.com/x": "scheme 'htp' is not http or https",
    "http://": "no host",
    "http://api.example.com:70000/x": "port is not a number",
    "FOO http://api.example.com/x": "unknown method 'FOO'",
}


@pytest.mark.parametrize("seed", list(BAD_SEEDS))
def test_a_bad_seed_is_one_line_exit_2_and_nothing_is_stored(seed: str, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    proc = run_cli("crawl", "--db", f"sqlite:///{db}", "--seed", seed, cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0] == f"error: --seed {seed!r}: " + lines[0].split(": ", 2)[2] and BAD_SEEDS[seed] in lines[0], lines
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not db.exists()  # no database, so no run left open either


@pytest.mark.parametrize("command", [["show", "some-slug"], ["runs"], ["test-buy", "some-slug"], ["build"]])
def test_reading_a_database_that_does_not_exist_says_so_and_creates_nothing(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "nothing" / "here.db"
    proc = run_cli(*command, "--db", f"sqlite:///{db}", cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc
    assert f"no database at {db}" in proc.stderr, proc.stderr
    assert not db.exists() and not db.parent.exists()
    # without --db: the default file, relative to where the command runs
    proc = run_cli(*command, cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "no database at data/catalog.db" in proc.stderr, proc.stderr
    assert not (tmp_path / "data").exists()


def test_after_a_demo_a_missing_default_database_points_at_the_demo_one(tmp_path: Path) -> None:
    (tmp_path / "data" / "demo").mkdir(parents=True)
    run_cli("db", "upgrade", "--db", "sqlite:///data/demo/catalog.db", cwd=tmp_path)
    proc = run_cli("runs", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "add --db sqlite:///data/demo/catalog.db" in proc.stderr, proc.stderr
    assert not (tmp_path / "data" / "catalog.db").exists()


@pytest.mark.parametrize("command", [["runs"], ["crawl", "--seed", "http://127.0.0.1:9/x"]])
def test_a_db_that_is_not_a_url_gets_the_sqlite_hint(command: list[str], tmp_path: Path) -> None:
    proc = run_cli(*command, "--db", str(tmp_path / "x.db"), cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc
    assert f"sqlite:///{tmp_path / 'x.db'}" in proc.stderr, proc.stderr
    assert not (tmp_path / "x.db").exists()


def test_query_names_the_valid_categories_and_tiers(crawled_fleet: dict[str, Any]) -> None:
    out = str(crawled_fleet["out"])
    proc = run_cli("query", "--index", out, "--category", "weathr", check=False)
    assert proc.returncode == 2 and "unknown category 'weathr'; one of: " in proc.stderr, proc.stderr
    assert "weather" in proc.stderr and "ai" in proc.stderr
    proc = run_cli("query", "--index", out, "--trust-tier", "gold", check=False)
    assert proc.returncode == 2 and "unknown trust tier 'gold'; one of: verified, conformant" in proc.stderr, proc.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_query_of_an_unreachable_index_or_a_file_that_is_not_one(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/"
    proc = run_cli("query", "--index", url, check=False)
    assert proc.returncode == 1, proc
    assert proc.stderr.strip().count("\n") == 0 and f"cannot read {url}index.json" in proc.stderr, proc.stderr
    for name, body in (("notes.txt", "hello"), ("index.json", '{"a": 1}'), ("catalog.jsonl", "[1, 2]\n")):
        (tmp_path / name).write_text(body)
        proc = run_cli("query", "--index", str(tmp_path / name), check=False)
        assert proc.returncode == 1, proc
        assert "is not an x402-index build" in proc.stderr and "internal error" not in proc.stderr, proc.stderr


def test_no_network_is_said_in_one_line(tmp_path: Path) -> None:
    """Every name lookup fails (.invalid never resolves; this machine has no DNS either): the crawl
    says so instead of only per-facilitator warnings."""
    proc = run_cli("crawl", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--quiet", "--seed", "https://api.nothing.invalid/v1/x",
                   "--facilitator", "https://facilitator.nothing.invalid", "-s", "RETRY_ENABLED=False", cwd=tmp_path,
                   check=False)
    assert proc.returncode == 1, proc
    assert "error: no network? every lookup failed" in proc.stderr, proc.stderr


def test_no_network_is_not_claimed_when_something_answered(fleet: dict[str, Any], tmp_path: Path) -> None:
    paid = next(r for r in fleet["resources"] if r["paid"])
    proc = run_cli("crawl", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--quiet", "--allow-host", "127.0.0.1",
                   "--seed", f"{paid['method']} {paid['url']}", "--seed", "https://api.nothing.invalid/v1/x",
                   "-s", "RETRY_ENABLED=False", "-s", "X402_DISCOVER_ORIGINS=False", cwd=tmp_path)
    assert "no network" not in proc.stderr and "paid 1 " in proc.stdout, proc


def test_run_exits_non_zero_when_a_step_failed(tmp_path: Path) -> None:
    (tmp_path / "public").write_text("a file where the build folder should be")
    proc = run_cli("run", "--every", "1h", "--iterations", "1", "--db", f"sqlite:///{tmp_path / 'c.db'}",
                   "--out", str(tmp_path / "public"), "--allow-host", "127.0.0.1",
                   "--seed", f"http://127.0.0.1:{_closed_port()}/x", cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc
    assert "crawl finished with exit code 0" in proc.stdout and "build finished with exit code 1" in proc.stdout, proc.stdout
    assert "build of cycle 1 exited 1" in proc.stderr, proc.stderr


# -- MCP -------------------------------------------------------------------------------------------

def _paid_slug(index: Path) -> str:
    entries = json.loads((index / "index.json").read_text())["resources"]
    return next(e["slug"] for e in entries if e.get("status") == "paid" and "eip155:84532" in e["networks"]
                and "Hostile" not in e["title"])


def test_mcp_test_buy_works_on_a_search_result_the_database_does_not_hold(crawled_fleet: dict[str, Any], tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from index.query.mcp import ServerConfig, Tools

    monkeypatch.chdir(tmp_path)
    tools = Tools(ServerConfig(index=str(crawled_fleet["out"]), db=None, allow_hosts=frozenset({"127.0.0.1"})))
    found = tools.search_resources(status="paid", network="eip155:84532")
    slug = next(r["slug"] for r in found["resources"] if r["slug"] == _paid_slug(crawled_fleet["out"]))
    result = tools.test_buy(slug)
    assert result["outcome"] == "dry_run", (result["diff"], result["message"])
    assert result["slug"] == slug and result["diff"] == [], result  # bound to the published terms, which agree
    assert list(tmp_path.iterdir()) == []  # no database the operator did not name
    refused = tools.test_buy(slug, network="solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp")
    assert refused["outcome"] == "refused", refused
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="no resource with slug"):
        tools.test_buy("no-such-slug")


def test_mcp_refuses_unknown_tool_arguments(crawled_fleet: dict[str, Any]) -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from index.query.mcp import ServerConfig, build_server

    server = build_server(ServerConfig(index=str(crawled_fleet["out"]), db=None))

    async def call(name: str, args: dict[str, Any]) -> Any:
        return await server.call_tool(name, args)

    ok = asyncio.run(call("search_resources", {"status": "paid", "limit": 1}))
    assert ok is not None
    for name, args in (("search_resources", {"status": "paid", "max_price": 0.01}),
                       ("test_buy", {"resource": "x", "max_amount": 5})):
        with pytest.raises(ToolError, match="(?i)extra"):
            asyncio.run(call(name, args))
    for tool in asyncio.run(server.list_tools()):
        schema = tool.input_schema if hasattr(tool, "input_schema") else tool.inputSchema
        assert schema.get("additionalProperties") is False, tool
