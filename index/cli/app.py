"""x402-index command line: the Typer app and its commands. Every command parses its arguments,
calls one core function, and prints; the commands live by stage:

- crawl.py: crawl, runs, run          (crawler.run.crawl_job, index.schedule)
- publish.py: build, query, show, serve (index.publish.build, index.query, index.catalog)
- buy.py: test-buy, wallet new, mcp    (index.testbuy, index.query.mcp)
- demo.py: demo                        (index.demo → crawl → build → serve)
- options.py: the options they share (defaults from index.paths and index.testbuy.policy), errors

Every command's docstring is its --help and ends with an example.
"""

from __future__ import annotations

import os

import typer

from index.cli import buy, crawl, demo, publish
from index.cli.console import out
from index.cli.options import DbOption, database, friendly_errors

# Scrapy finds our project settings from any working directory, not only next to scrapy.cfg.
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")

app = typer.Typer(
    name="x402-index",
    help="Crawl x402 paid endpoints, publish an honest catalog of them, and query it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command("crawl")(crawl.crawl)
app.command("runs")(crawl.runs_command)
app.command("run")(crawl.run_command)
app.command("build")(publish.build)
app.command("query")(publish.query)
app.command("show")(publish.show)
app.command("test-buy")(buy.test_buy)
app.add_typer(buy.wallet_app, name="wallet")
app.command("mcp")(buy.mcp)
app.command("serve")(publish.serve)
app.command("demo")(demo.demo)

db_app = typer.Typer(help="Database schema: migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(db: DbOption = None) -> None:
    """Apply every schema migration the database lacks (creating it if needed).

    Example: x402-index db upgrade --db postgresql+psycopg://user@localhost/x402
    """
    from index.store.migrate import current, head
    from index.store.engine import init_db

    engine = init_db(database(db, create=True))
    out.print(f"database at schema revision {current(engine)} (head {head()})", highlight=False)


from index.cli.worker import worker_app  # noqa: E402 - `worker` and `coordinate` (crawl spread over machines)

app.add_typer(worker_app)

if __name__ == "__main__":  # pragma: no cover - `python -m index.cli.app`
    app()
