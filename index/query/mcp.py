"""The catalog for agents over MCP (stdio, the official `mcp` package): three tools over the same
functions the CLI uses.

- `search_resources`: `x402-index query`'s filters, sort and limit (index.query.filters.search);
- `get_resource`: one full catalog record (the build's JSON twin);
- `test_buy`: index.testbuy on what `search_resources` returned. A dry run unless the caller passes
  `pay=true` AND the server was started with `--enable-payment` (and a key). The server's limits
  (cap, network, mainnet, daily budget, address guard) bound every call; a caller may lower the cap,
  never raise it. Results never hold the key: every text is redacted before it leaves. A slug the
  server's database does not hold is bought on its published record's terms (fetched from the
  index first); without a database the operator named, test-buys are kept in memory only.

Unknown tool arguments are an error (the argument models forbid extra fields), not silently dropped.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from index.query.filters import Query, get_record, search
from index.testbuy.policy import DEFAULT_DAILY_BUDGET_USD, DEFAULT_MAX_USD, DEFAULT_NETWORK, Limits, parse_usd
from index.testbuy.wallet import PrivateKey, redact

DEFAULT_LIMIT = 20
MAX_LIMIT = 500


@dataclass(frozen=True)
class ServerConfig:
    index: str  # build folder, index.json, catalog.jsonl, or their URL
    db: str | None  # the catalog database test_buy binds quotes to and records in; None: memory only
    pay_enabled: bool = False
    max_usd: Decimal = DEFAULT_MAX_USD
    network: str = DEFAULT_NETWORK
    mainnet: bool = False
    daily_budget_usd: Decimal = DEFAULT_DAILY_BUDGET_USD
    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()
    timeout: float = 30.0


class Tools:
    """The tools as plain methods (tested directly, and registered on the MCP server)."""

    def __init__(self, config: ServerConfig, key: PrivateKey | None = None) -> None:
        self.config = config
        self.key = key if config.pay_enabled else None
        self._memory: Any = None

    def search_resources(self, q: str | None = None, category: str | None = None, network: str | None = None,
                         max_price_usd: float | None = None, status: str | None = None, method: str | None = None,
                         trust_tier: str | None = None, verified_only: bool = False, sort: str | None = None,
                         limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """Find paid x402 endpoints in the catalog. All filters must match. q: words that must all
        appear in title, summary, description, tags or URL; network: CAIP-2 id (eip155:8453) or v1
        name (base); max_price_usd: most USD per call (unknown prices never match); status: latest
        probe outcome (paid…); method: GET, POST…; trust_tier: verified, conformant, indexed_external,
        unreachable, stale, or unknown; verified_only: only endpoints a test-buy has paid; sort: price,
        name or last_verified; limit: at most this many (default 20, max 500)."""
        limit = max(0, min(int(limit), MAX_LIMIT))
        rows = search(self.config.index, Query(q=q, category=category, network=network, max_price=max_price_usd,
                                               status=status, method=method, trust_tier=trust_tier,
                                               verified_only=verified_only, sort=sort, limit=limit))
        return {"count": len(rows), "resources": rows}

    def get_resource(self, slug: str) -> dict[str, Any]:
        """The full catalog record of one endpoint by its slug (from search_resources): URL, method,
        every accepted payment option with amounts, networks and verification, how to call it, findings."""
        record = get_record(self.config.index, slug)
        if record is None:
            raise ValueError(f"no resource with slug {slug!r}")
        return record

    def test_buy(self, resource: str, pay: bool = False, max_amount_usd: float | None = None,
                 network: str | None = None, accept_changes: bool = False) -> dict[str, Any]:
        """Check that paying an endpoint works. resource: a slug or URL from the catalog. Probes it
        unpaid, compares the live quote with the catalog, applies every safety rule and returns
        exactly what would be signed. pay=true signs and sends one payment only if this server was
        started with --enable-payment; otherwise it is a dry run. max_amount_usd may lower the
        server's cap, never raise it; network: CAIP-2 or v1 name (mainnets only if the server allows
        them)."""
        from index.testbuy import BuyRequest, TestBuyer
        from index.testbuy.ledger import find_entry
        from index.testbuy.run import published_entry

        cfg = self.config
        cap = cfg.max_usd if max_amount_usd is None else min(cfg.max_usd, parse_usd(max_amount_usd, "max_amount_usd"))
        limits = Limits(network=network or cfg.network, mainnet=cfg.mainnet, max_usd=cap, daily_budget_usd=cfg.daily_budget_usd)
        paying = bool(pay) and cfg.pay_enabled
        engine = self._engine()
        published = None
        if not resource.startswith(("http://", "https://")) and find_entry(engine, resource) is None:
            record = get_record(cfg.index, resource)  # what search_resources returned, as published
            if record is None:
                raise ValueError(f"no resource with slug {resource!r} in the catalog")
            published = published_entry(record)
        request = BuyRequest(target=published.url if published else resource,
                             method=published.method if published else None, pay=paying, limits=limits,
                             accept_changes=bool(accept_changes), allow_private=cfg.allow_private,
                             allow_hosts=cfg.allow_hosts, timeout=cfg.timeout, published=published)
        result = TestBuyer(engine, self.key).run(request).to_dict()
        if pay and not cfg.pay_enabled:
            result["note"] = "pay ignored: this server was started without --enable-payment, so this was a dry run"
        return json.loads(redact(json.dumps(result, default=str), self.key))


    def _engine(self) -> Any:
        """The operator's database; without one, a private in-memory one (nothing written to disk)."""
        from index.store.engine import init_db

        if self.config.db:
            return init_db(self.config.db)
        if self._memory is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import StaticPool

            from index.store.migrate import upgrade

            # one connection shared by the tool threads: an in-memory SQLite lives in its connection
            self._memory = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
            upgrade(self._memory)
        return self._memory


def _as_tool(fn: Callable[..., dict[str, Any]], key: PrivateKey | None) -> Callable[..., dict[str, Any]]:
    """`fn` whose every failure reaches the caller as a ToolError with a redacted one-line message
    (no traceback on the server's stderr: nothing the key could hide in)."""
    from mcp.server.mcpserver.exceptions import ToolError

    @functools.wraps(fn)
    def tool(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            text = str(exc) if isinstance(exc, ValueError | OSError) else f"{type(exc).__name__}: {exc}"
            raise ToolError(redact(text, key)) from None

    return tool


def build_server(config: ServerConfig, key: PrivateKey | None = None) -> Any:
    from mcp.server.mcpserver import MCPServer

    tools = Tools(config, key)
    server = MCPServer(
        "x402-index",
        instructions="A catalog of paid HTTP endpoints (x402). search_resources finds them, get_resource gives one "
                     "in full, test_buy checks that paying one works (a dry run unless payment is enabled).",
    )
    for fn in (tools.search_resources, tools.get_resource, tools.test_buy):
        server.add_tool(_as_tool(fn, tools.key), name=fn.__name__)
        _forbid_unknown_arguments(server, fn.__name__)
    return server


def _forbid_unknown_arguments(server: Any, name: str) -> None:
    """Make the tool's argument model refuse fields it does not define (the SDK's default drops them,
    so a caller's misspelt `max_amount` would silently buy at the server's cap), and say so in its
    published schema."""
    from pydantic import ConfigDict

    tool = server._tool_manager.get_tool(name)  # the SDK has no public hook for the argument model
    model = tool.fn_metadata.arg_model
    strict = type(model.__name__, (model,), {"model_config": ConfigDict(arbitrary_types_allowed=True, extra="forbid"),
                                             "__module__": model.__module__})
    tool.fn_metadata.arg_model = strict
    tool.parameters = {**tool.parameters, "additionalProperties": False}


def serve_stdio(config: ServerConfig, key: PrivateKey | None = None) -> None:
    build_server(config, key).run("stdio")
