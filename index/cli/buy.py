"""`test-buy`, `wallet new` and `mcp`: parse, call index.testbuy / index.query.mcp, print (redacted)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import err, out
from index.paths import DEFAULT_WALLET
from index.cli.options import (DAILY_BUDGET, DEFAULT_INDEX, MAX_AMOUNT, NETWORK, AllowHostOption, AllowPrivateOption,
                               BudgetOption, CliError, DbOption, IndexOption, KeyFileOption, MainnetOption,
                               MaxAmountOption, NetworkOption, database, friendly_errors, hosts)



def test_buy(
    target: Annotated[str, typer.Argument(help="the resource's slug (see `query`) or its URL")],
    pay: Annotated[bool, typer.Option("--pay", help="sign and send the payment (default: a dry run that signs nothing)")] = False,
    max_amount: MaxAmountOption = MAX_AMOUNT,
    network: NetworkOption = NETWORK,
    mainnet: MainnetOption = False,
    accept_changes: Annotated[bool, typer.Option("--accept-changes", help="buy even when the live quote differs from the catalog")] = False,
    db: DbOption = None,
    allow_private: AllowPrivateOption = False,
    allow_host: AllowHostOption = None,
    key_file: KeyFileOption = None,
    method: Annotated[str | None, typer.Option("--method", help="HTTP method, when the URL is catalogued under several")] = None,
    daily_budget: BudgetOption = DAILY_BUDGET,
    timeout: Annotated[float, typer.Option("--timeout", help="seconds each request may take")] = 30.0,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """Pay one endpoint once, safely, and record the proof (a dry run unless --pay).

    Probes it unpaid, checks the live quote against the catalog and every safety rule, then (with
    --pay) signs once with the official x402 SDK, sends, and records the receipt. The key comes from
    --key-file (`x402-index wallet new` writes one) or env X402_PRIVATE_KEY. Exit code: 0 paid or dry
    run, 1 refused or rejected, 3 unreconciled (the payment may have been spent).

    Example: X402_PRIVATE_KEY=... x402-index test-buy api-example-com-v1-weather --pay --max-amount 0.01
    """
    from index.testbuy.wallet import WalletError, load_key, redact

    key = None
    try:
        if fmt not in ("text", "json"):
            raise CliError("--format must be text or json")
        url = database(db)
        key = load_key(key_file) if (pay or key_file) else None
        result, code = _run_test_buy(target, pay, max_amount, network, mainnet, accept_changes, url, allow_private,
                                     allow_host, key, method, daily_budget, timeout)
    except (CliError, WalletError, ValueError, OSError) as exc:
        err.print(f"error: {redact(str(exc), key)}", markup=False, highlight=False)
        raise typer.Exit(getattr(exc, "code", 1)) from None
    except Exception as exc:  # noqa: BLE001 - never a traceback (it could hold a key), always redacted
        if os.environ.get("X402_INDEX_DEBUG"):
            raise
        err.print(f"internal error: {type(exc).__name__}: {redact(str(exc), key)}", markup=False, highlight=False)
        raise typer.Exit(2) from None
    if fmt == "json":
        sys.stdout.write(redact(json.dumps(result.to_dict(), indent=2, default=str), key) + "\n")
    else:
        from index.testbuy.report import lines

        for line in lines(result, now=time.time()):
            out.print(redact(line, key), markup=False, highlight=False)
    raise typer.Exit(code)


def _run_test_buy(target: str, pay: bool, max_amount: str, network: str, mainnet: bool, accept_changes: bool,
                  db: str, allow_private: bool, allow_host: list[str] | None, key: Any, method: str | None,
                  daily_budget: str, timeout: float) -> tuple[Any, int]:
    from index.store.engine import init_db
    from index.testbuy import BuyRequest, Limits, TestBuyer
    from index.testbuy.policy import parse_usd
    from index.testbuy.report import EXIT_CODES

    if timeout <= 0:
        raise CliError("--timeout must be positive")
    limits = Limits(network=network, mainnet=mainnet, max_usd=parse_usd(max_amount, "--max-amount"),
                    daily_budget_usd=parse_usd(daily_budget, "--daily-budget"))
    request = BuyRequest(target=target, pay=pay, limits=limits, accept_changes=accept_changes, method=method,
                         allow_private=allow_private, allow_hosts=hosts(allow_host), timeout=timeout)
    result = TestBuyer(init_db(db), key).run(request)
    return result, EXIT_CODES[result.outcome]


wallet_app = typer.Typer(help="A throwaway wallet for test-buys on testnets and the demo fleet.", no_args_is_help=True)


@wallet_app.command("new")
@friendly_errors
def wallet_new(
    out_file: Annotated[Path, typer.Option("--out", help="key file to write (mode 0600; never overwritten)")] = DEFAULT_WALLET,
) -> None:
    """Write a fresh random private key to a file readable only by you, and print its address.

    Example: x402-index wallet new --out ~/.x402/test.key
    """
    from index.testbuy.wallet import new_key_file

    if out_file.exists():
        raise CliError(f"{out_file} exists; not overwritten")
    address = new_key_file(out_file)
    out.print(f"wrote a throwaway key for {address} to {out_file} (mode 0600); the key itself is not shown",
              highlight=False, markup=False)
    out.print(f"use it with: x402-index test-buy <slug> --key-file {out_file}  (add --pay to pay)",
              highlight=False, markup=False)


@friendly_errors
def mcp(
    index: IndexOption = DEFAULT_INDEX,
    db: DbOption = None,
    enable_payment: Annotated[bool, typer.Option("--enable-payment", help="let callers of test_buy pay (pay=true); without it every test_buy is a dry run")] = False,
    key_file: KeyFileOption = None,
    max_amount: MaxAmountOption = MAX_AMOUNT,
    network: NetworkOption = NETWORK,
    mainnet: MainnetOption = False,
    daily_budget: BudgetOption = DAILY_BUDGET,
    allow_private: AllowPrivateOption = False,
    allow_host: AllowHostOption = None,
) -> None:
    """Serve the catalog to agents over MCP (stdio): search_resources, get_resource, test_buy.

    The caps given here bound every test_buy; callers can only lower them. test_buy records into
    --db only when you name one (or set X402_INDEX_DB); otherwise its dry runs write nothing.

    Example: x402-index mcp --index https://x402-index.example/ --db sqlite:///data/catalog.db
    """
    from index.paths import DB_ENV
    from index.query.mcp import ServerConfig, serve_stdio
    from index.testbuy.policy import check_network_choice, parse_usd
    from index.testbuy.wallet import load_key

    key = load_key(key_file) if enable_payment else None
    if enable_payment and key is None:
        raise CliError("--enable-payment needs a key: set X402_PRIVATE_KEY or pass --key-file")
    named = db is not None or bool(os.environ.get(DB_ENV))
    if enable_payment and not named:
        raise CliError("--enable-payment needs --db: payments are recorded in the catalog database")
    check_network_choice(network, mainnet)
    config = ServerConfig(index=index, db=database(db, create=True) if named else None, pay_enabled=enable_payment,
                          max_usd=parse_usd(max_amount, "--max-amount"), network=network, mainnet=mainnet,
                          daily_budget_usd=parse_usd(daily_budget, "--daily-budget"),
                          allow_private=allow_private, allow_hosts=hosts(allow_host))
    serve_stdio(config, key)
