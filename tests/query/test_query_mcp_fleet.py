"""`x402-index query` and the MCP server (`x402-index mcp`, spoken to over stdio with the official
`mcp` client) against a build of the demo fleet in which one accept was verified by a test-buy."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from index.catalog.build import build_records
from index.query.filters import Query, search
from index.site.build import build_site
from index.store.engine import init_db
from index.testbuy import BuyRequest, Outcome, TestBuyer
from index.testbuy.wallet import load_key, new_key_file
from tests.conftest import ROOT, run_cli

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "X402_DISCOVER_ORIGINS=False"]


@pytest.fixture(scope="module")
def built(fleet: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("query")
    db_path = work / "catalog.db"
    db = f"sqlite:///{db_path}"
    weather, chain, buyer = fleet["origins"]["weather"], fleet["origins"]["chain"], fleet["buyer"]["resources"]
    seeds = [f"GET {weather}/v1/forecast?city=Lisbon", f"GET {weather}/v1/air-quality?city=Lisbon", f"POST {chain}/api/wallet/risk",
             f"GET {buyer['body_only']['url']}", f"GET {buyer['cheap_first']['url']}"]
    run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", *FAST, *[a for s in seeds for a in ("--seed", s)], cwd=work)
    key_file = work / "wallet.key"
    new_key_file(key_file)
    key_hex = re.search(r"^0x([0-9a-f]{64})$", key_file.read_text(), re.M).group(1)  # type: ignore[union-attr]
    engine = init_db(db)
    paid = TestBuyer(engine, load_key(key_file)).run(BuyRequest(f"{weather}/v1/forecast?city=Lisbon", pay=True,
                                                                allow_hosts=frozenset({"127.0.0.1"})))
    assert paid.outcome is Outcome.SUCCESS, paid.message
    out = work / "public"
    build_site(build_records(engine), out)
    con = sqlite3.connect(db_path)
    slugs = dict(con.execute("select url, slug from resources"))
    con.close()
    return {"work": work, "db": db, "out": out, "key_file": key_file, "key_hex": key_hex, "paid": paid,
            "slugs": {name: slugs[url] for name, url in (
                ("forecast", f"{weather}/v1/forecast?city=Lisbon"), ("risk", f"{chain}/api/wallet/risk"),
                ("body_only", buyer["body_only"]["url"]), ("cheap_first", buyer["cheap_first"]["url"]))}}


def query(built: dict[str, Any], *args: str) -> list[dict[str, Any]]:
    return json.loads(run_cli("query", "--index", str(built["out"]), "--format", "json", *args, cwd=built["work"]).stdout)


def test_query_filters_against_a_fleet_build(built: dict[str, Any]) -> None:
    slugs = built["slugs"]
    assert [e["slug"] for e in query(built, "--verified")] == [slugs["forecast"]]
    everything = query(built)
    assert len(everything) == 5 and {e["status"] for e in everything} == {"paid"}
    assert [e["slug"] for e in query(built, "--method", "POST")] == [slugs["risk"]]
    cheap = query(built, "--network", "base-sepolia", "--sort", "price")
    assert all("eip155:84532" in e["networks"] for e in cheap) and len(cheap) == 4
    assert [e["price_usd"] for e in cheap] == sorted(e["price_usd"] for e in cheap)
    assert [e["slug"] for e in query(built, "--sort", "last_verified", "--limit", "1")] == [slugs["forecast"]]
    assert {e["slug"] for e in query(built, "--status", "paid", "--max-price", "0.001")} == \
        {slugs["forecast"], slugs["body_only"], slugs["cheap_first"]}
    assert [e["slug"] for e in query(built, "--q", "body only")] == [slugs["body_only"]]
    unknown = query(built, "--trust-tier", "unknown")
    assert {e["slug"] for e in unknown} == {e["slug"] for e in everything if not e.get("trust_tier")}
    lines = run_cli("query", "--index", str(built["out"] / "index.json"), "--format", "jsonl", "--sort", "name",
                    cwd=built["work"]).stdout.splitlines()
    assert [json.loads(line)["title"] for line in lines] == sorted((e["title"] for e in everything), key=str.casefold)
    table = run_cli("query", "--index", str(built["out"]), "--verified", cwd=built["work"]).stdout
    assert "Forecast ✓" in table and "\n1 resource\n" in table


def _mcp(built: dict[str, Any], args: list[str], body: Callable[[Any], Awaitable[Any]]) -> tuple[Any, str]:
    """Start `x402-index mcp ARGS` over stdio, run `body(session)`; returns its result and the server's stderr."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    errlog = built["work"] / "mcp-stderr.txt"
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "index.cli.app", "mcp", "--index", str(built["out"]), "--db", built["db"],
                                         "--allow-host", "127.0.0.1", *args],
                                   cwd=str(ROOT), env={"PYTHONPATH": str(ROOT)})
    holder: dict[str, Any] = {}

    async def main() -> None:
        with errlog.open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                holder["result"] = await body(session)

    anyio.run(main)
    return holder["result"], errlog.read_text()


def _json(result: Any) -> Any:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def test_mcp_tools_without_payment(built: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = httpx.get(fleet["payments_url"], timeout=5).json()

    async def body(session: Any) -> dict[str, Any]:
        tools = await session.list_tools()
        return {
            "names": sorted(t.name for t in tools.tools),
            "verified": await session.call_tool("search_resources", {"verified_only": True}),
            "base": await session.call_tool("search_resources", {"network": "base", "sort": "price", "limit": 10}),
            "record": await session.call_tool("get_resource", {"slug": built["slugs"]["risk"]}),
            "missing": await session.call_tool("get_resource", {"slug": "no-such-thing"}),
            "buy": await session.call_tool("test_buy", {"resource": built["slugs"]["body_only"], "pay": True}),
        }

    got, _ = _mcp(built, [], body)
    assert got["names"] == ["get_resource", "search_resources", "test_buy"]
    assert [e["slug"] for e in _json(got["verified"])["resources"]] == [built["slugs"]["forecast"]]
    assert _json(got["base"])["resources"] == search(built["out"], Query(network="base", sort="price", limit=10))
    twin = json.loads((built["out"] / "r" / f"{built['slugs']['risk']}.json").read_text())
    assert _json(got["record"]) == twin
    assert got["missing"].is_error and "no resource" in got["missing"].content[0].text
    buy = _json(got["buy"])
    assert buy["outcome"] == "dry_run" and not buy["signed"] and "enable-payment" in buy["note"]
    assert buy["plan"]["message"]["from"] is None  # no key on a server without payment
    after = httpx.get(fleet["payments_url"], timeout=5).json()
    assert after["payments_received"] == before["payments_received"]


def test_mcp_test_buy_pays_only_when_enabled_and_within_the_server_cap(built: dict[str, Any], fleet: dict[str, Any]) -> None:
    before = httpx.get(fleet["payments_url"], timeout=5).json()

    async def body(session: Any) -> dict[str, Any]:
        return {
            "paid": await session.call_tool("test_buy", {"resource": built["slugs"]["body_only"], "pay": True}),
            "capped": await session.call_tool("test_buy", {"resource": built["slugs"]["cheap_first"], "pay": True,
                                                           "max_amount_usd": 10}),
        }

    got, stderr = _mcp(built, ["--enable-payment", "--key-file", str(built["key_file"])], body)
    paid, capped = _json(got["paid"]), _json(got["capped"])
    assert paid["outcome"] == "success" and paid["receipt"]["success"] is True and paid["verified_position"] == 0
    assert (capped["outcome"], capped["reason"]) == ("refused", "over_cap")  # a caller cannot raise the server's cap
    after = httpx.get(fleet["payments_url"], timeout=5).json()
    assert len(after["payments_received"]) == len(before["payments_received"]) + 1
    texts = [c.text for r in got.values() for c in r.content] + [stderr]
    assert not any(built["key_hex"] in t or built["key_hex"].upper() in t for t in texts)


def test_mcp_refuses_payment_without_a_key(built: dict[str, Any], tmp_path: Path) -> None:
    proc = run_cli("mcp", "--index", str(built["out"]), "--enable-payment", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "needs a key" in proc.stderr
