"""What every command shares: option types (their defaults come from index.paths and
index.testbuy.policy, the one home of each), the database a command opens, and one-line errors.

A module of its own, not app.py: the command modules import these, and app.py imports the command
modules to register them, so keeping both in app.py would close an import circle.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import err
from index.paths import DEFAULT_DB_URL, DEFAULT_OUT_DIR, DEMO_DB_URL, DB_ENV, db_url, sqlite_file
from index.testbuy.policy import DEFAULT_DAILY_BUDGET_USD, DEFAULT_MAX_USD, DEFAULT_NETWORK

DbOption = Annotated[str | None, typer.Option("--db", help=f"SQLAlchemy database URL, e.g. sqlite:///path/catalog.db [env {DB_ENV}; default {DEFAULT_DB_URL}]")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no progress output")]
IndexOption = Annotated[str, typer.Option("--index", help="build folder, index.json, catalog.jsonl, or their URL")]
KeyFileOption = Annotated[Path | None, typer.Option("--key-file", help="file holding the wallet's private key (0600; `x402-index wallet new` writes one), or env X402_PRIVATE_KEY; never on the command line")]
MaxAmountOption = Annotated[str, typer.Option("--max-amount", help="most USD one payment may cost, checked on the accept selected")]
NetworkOption = Annotated[str, typer.Option("--network", help="network to pay on: CAIP-2 id or v1 name")]
MainnetOption = Annotated[bool, typer.Option("--mainnet", help="allow a mainnet network (real money)")]
BudgetOption = Annotated[str, typer.Option("--daily-budget", help="most USD all test-buys may spend in 24 hours (from the test_buys table)")]
AllowPrivateOption = Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (the demo fleet); off by default")]
AllowHostOption = Annotated[list[str] | None, typer.Option("--allow-host", help="let this one host through even if private (repeatable)")]

DEFAULT_INDEX = str(DEFAULT_OUT_DIR)
MAX_AMOUNT = str(DEFAULT_MAX_USD)
DAILY_BUDGET = str(DEFAULT_DAILY_BUDGET_USD)
NETWORK = DEFAULT_NETWORK


class CliError(Exception):
    """A failure to report as one line with a non-zero exit code (1, or `code`)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say_error(message: str, label: str = "error") -> None:
    """One line on stderr. The message is text, never markup: it may quote a server or a user."""
    from rich.text import Text

    line = Text(f"{label}: ", style="red")
    line.append(message)
    err.print(line, highlight=False)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one clear line on stderr and exit code 1 (2 for bad input)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CliError as exc:
            say_error(str(exc))
            raise typer.Exit(exc.code) from None
        except (FileNotFoundError, ValueError, OSError) as exc:
            say_error(str(exc))
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence against bare tracebacks
            # the store's error classes, if the command loaded the store (a `query` does not: no
            # import of alembic and SQLAlchemy for it)
            migrate = sys.modules.get("index.store.migrate")
            if migrate is not None and isinstance(exc, migrate.UnversionedDatabase):
                say_error(str(exc))
                raise typer.Exit(1) from None
            from sqlalchemy.exc import SQLAlchemyError

            if os.environ.get("X402_INDEX_DEBUG"):
                raise
            if isinstance(exc, SQLAlchemyError):
                say_error(str(exc).splitlines()[0], "database error")
                raise typer.Exit(1) from None
            say_error(f"{type(exc).__name__}: {exc} (set X402_INDEX_DEBUG=1 for the traceback)", "internal error")
            raise typer.Exit(2) from None

    return wrapper


def database(db: str | None, *, create: bool = False) -> str:
    """The database URL a command opens. Only commands that write (`crawl`, `db upgrade`) may create
    one: for the others a SQLite file that does not exist is an error that says where to find one."""
    try:
        url = db_url(db)
    except ValueError as exc:
        raise CliError(str(exc), code=2) from None
    path = sqlite_file(url)
    if create or path is None or path.exists():
        return url
    hint = "run `x402-index crawl` to make one, or name one with --db sqlite:///path"
    demo = sqlite_file(DEMO_DB_URL)
    if url == DEFAULT_DB_URL and demo is not None and demo.exists():
        hint = f"the demo's database is {DEMO_DB_URL}: add --db {DEMO_DB_URL}"
    raise CliError(f"no database at {path} ({hint})")


def parse_settings(pairs: list[str]) -> dict[str, str]:
    """--set NAME=VALUE pairs → {NAME: VALUE}."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--set takes NAME=VALUE, got {pair!r}", code=2)
        out[name.strip()] = value
    return out


def hosts(values: list[str] | None) -> frozenset[str]:
    """--allow-host values, stripped, empty ones dropped."""
    return frozenset(h.strip() for h in values or [] if h.strip())
