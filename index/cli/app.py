"""x402-index command line: parses arguments, calls library functions, prints.

Every command's docstring is its --help and ends with an example.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import CrawlProgress, err, out
from index.store.migrate import UnversionedDatabase
from index.paths import DATA_DIR, DEFAULT_OUT_DIR, db_url

# Scrapy finds our project settings from any working directory, not only next to scrapy.cfg.
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")

app = typer.Typer(
    name="x402-index",
    help="Crawl x402 paid endpoints, publish an honest catalog of them, and query it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Demo runs on one loopback host: per-host politeness would only slow it down.
# The demo fleet is one loopback host: no politeness delay, a short timeout for its hostile origin's
# slow endpoints, and the SSRF guard on with only the fleet's own address let through, so the
# hostile redirects to other private addresses are refused as they would be on the internet.
DEMO_CRAWL_OVERRIDES = {
    "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING",
    "DOWNLOAD_TIMEOUT": 5, "X402_ALLOW_HOSTS": ["127.0.0.1"],
}

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy database URL [env X402_INDEX_DB; default sqlite:///data/catalog.db]")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="no progress output")]


class CliError(Exception):
    """A failure to report as one line with a non-zero exit code."""


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn expected failures into one clear line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CliError, FileNotFoundError, ValueError, OSError, UnversionedDatabase) as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(1) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence against bare tracebacks
            from sqlalchemy.exc import SQLAlchemyError

            if os.environ.get("X402_INDEX_DEBUG"):
                raise
            if isinstance(exc, SQLAlchemyError):
                err.print(f"[red]database error:[/red] {str(exc).splitlines()[0]}", highlight=False)
                raise typer.Exit(1) from None
            err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc} "
                      "(set X402_INDEX_DEBUG=1 for the traceback)", highlight=False)
            raise typer.Exit(2) from None

    return wrapper


def _print_crawl_summary(summary: dict[str, Any]) -> None:
    out.print(
        f"probed {summary['probed']} · paid {summary['paid']} · free {summary['free']} · "
        f"failed {summary['failed']} · new {summary['new']}", highlight=False,
    )
    if summary["outcomes"]:
        out.print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items()), highlight=False)


def _do_crawl(candidates: list[Any], facilitators: list[str], db: str, allow_private: bool, quiet: bool,
              overrides: dict[str, Any] | None = None, origins: list[str] | None = None,
              run_id: int | None = None, known: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    from crawler.run import crawl_ok, run_crawl

    settings = {"LOG_LEVEL": "WARNING"}
    settings.update(overrides or {})
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    with CrawlProgress(quiet=quiet) as progress:
        summary = run_crawl(candidates, facilitators, db, allow_private=allow_private, overrides=settings,
                            progress=progress, origins=origins, run_id=run_id, known=known)
    # Scrapy leaves its shutdown handlers installed: give SIGINT and SIGTERM back to what they were
    # (Ctrl-C and `kill` must still stop a demo that serves after its crawl).
    for sig, handler in handlers.items():
        signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    if not crawl_ok(summary):
        _print_crawl_summary(summary)
        raise CliError(f"crawl did not complete (finish reason {summary['finish_reason']}, "
                       f"{summary['probed']} of {summary['queued']} candidates probed, {summary['stored']} of "
                       f"{summary['attempts']} attempts stored, {summary['spider_exceptions']} callback errors)")
    return summary


@app.command()
@friendly_errors
def crawl(
    seed: Annotated[list[str] | None, typer.Option("--seed", help="resource URL to probe, optionally 'METHOD URL', or an origin URL to discover from (repeatable)")] = None,
    seeds_file: Annotated[Path | None, typer.Option("--seeds-file", help="YAML seeds file [default data/seeds.yaml when no --seed/--facilitator]")] = None,
    facilitator: Annotated[list[str] | None, typer.Option("--facilitator", help="facilitator base URL whose /discovery/resources to list (repeatable)")] = None,
    db: DbOption = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (the demo fleet, tests); off by default")] = False,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="let the SSRF guard through for this one host even if private, e.g. your own facilitator (repeatable)")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", help="override a crawl setting, NAME=VALUE (repeatable)")] = None,
    everything: Annotated[bool, typer.Option("--all", help="probe every known resource now and read every discovery source")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="probe at most this many due resources (the most overdue first)")] = None,
    interval: Annotated[str, typer.Option("--interval", help="re-probe live resources this often; failing ones back off from it")] = "6h",
    quiet: QuietOption = False,
) -> None:
    """Probe what is due, unpaid, store what it answers, and report what changed.

    Incremental: a resource is re-probed when due (live ones every --interval, failing ones backing off); discovery sources (seeds, facilitators, origins) are read when named on the command line or when the last read is a day old. A run that was killed is resumed first.

    Example: x402-index crawl --facilitator https://x402.org/facilitator
    """
    from crawler.discovery.seeds import is_origin_seed, load_seeds_file, seed_candidate
    from index.schedule.runs import change_lines, finish, prepare
    from index.schedule.rules import parse_every
    from index.store.write import init_db

    every = parse_every(interval)
    explicit = bool(seed or facilitator or seeds_file)
    origins = [s.strip() for s in seed or [] if is_origin_seed(s)]
    candidates = [seed_candidate(s, "cli:--seed") for s in seed or [] if not is_origin_seed(s)]
    facilitators = list(facilitator or [])
    if seeds_file is None and not explicit:
        seeds_file = DATA_DIR / "seeds.yaml"
    if seeds_file is not None:
        seeds = load_seeds_file(seeds_file)
        candidates += seeds["resources"]
        facilitators += seeds["facilitators"]
        origins += seeds["origins"]
    overrides: dict[str, Any] = {}
    if allow_host:
        overrides["X402_ALLOW_HOSTS"] = [h.strip() for h in allow_host if h.strip()]
    overrides.update(_parse_settings(setting or []))
    db = db_url(db)
    engine = init_db(db)
    job = prepare(engine, seeds=candidates, facilitators=facilitators, origins=origins, explicit=explicit,
                  everything=everything, limit=limit)
    if job.resumed:
        err.print(f"resuming crawl run {job.run_id} ({job.already_probed} resources already probed)", highlight=False)
    if not job.candidates and not job.facilitators and not job.origins:
        finish(engine, job, {"probed": 0}, every)
        out.print("nothing due: every known resource was probed recently (use --all to probe them now)", highlight=False)
        return
    summary = _do_crawl(job.candidates, job.facilitators, db, allow_private, quiet, overrides, job.origins,
                        run_id=job.run_id, known=job.known)
    counts = finish(engine, job, summary, every)
    _print_crawl_summary(summary)
    _print_changes(counts, change_lines(engine, job.run_id))


def _print_changes(counts: dict[str, int], lines: list[str]) -> None:
    found = {k: v for k, v in counts.items() if v}
    if not found:
        out.print("changes: none", highlight=False)
        return
    out.print("changes: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in found.items()), highlight=False)
    for line in lines:
        out.print("  " + line, highlight=False, markup=False)


@app.command("runs")
@friendly_errors
def runs_command(
    db: DbOption = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="how many runs, newest first")] = 20,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """List crawl runs: when, what they probed, and what changed.

    Example: x402-index runs --limit 5
    """
    from rich.table import Table

    from index.schedule.runs import runs
    from index.store.write import init_db

    if fmt not in ("table", "json"):
        raise CliError("--format must be table or json")
    rows = runs(init_db(db_url(db)), limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table()
    for col in ("run", "kind", "started", "finished", "probed", "paid", "added", "price", "payTo", "down", "recovered", "removed", "retired"):
        table.add_column(col)
    for r in rows:
        c = r["changes"]
        table.add_row(str(r["id"]), r["kind"], r["started_at"][:19], (r["finished_at"] or "unfinished")[:19],
                      str(r["probed"] if r["probed"] is not None else "—"), str(r["paid"] if r["paid"] is not None else "—"),
                      str(c["added"]), str(c["price_changed"]), str(c["pay_to_changed"]), str(c["went_down"]),
                      str(c["recovered"]), str(c["removed"]), str(c["retired"]))
    out.print(table)


@app.command("run")
@friendly_errors
def run_command(
    every: Annotated[str, typer.Option("--every", help="how often to crawl and build, e.g. 30m, 6h, 1d")] = "6h",
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder of the build")] = DEFAULT_OUT_DIR,
    base_url: Annotated[str, typer.Option("--base-url", help="public URL the site will be served from")] = "",
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="passed to crawl (repeatable)")] = None,
    seed: Annotated[list[str] | None, typer.Option("--seed", help="passed to crawl (repeatable)")] = None,
    facilitator: Annotated[list[str] | None, typer.Option("--facilitator", help="passed to crawl (repeatable)")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", help="passed to crawl, NAME=VALUE (repeatable)")] = None,
    iterations: Annotated[int | None, typer.Option("--iterations", min=1, help="stop after this many cycles")] = None,
) -> None:
    """Crawl then build, again and again, until SIGTERM or Ctrl-C (which stop it between steps).

    Example: x402-index run --every 6h --out public --base-url https://x402-index.example
    """
    from index.schedule.runs import StopFlag, run_loop
    from index.schedule.rules import parse_every

    period = parse_every(every)
    database = db_url(db)
    crawl_args = ["--db", database, "--quiet"]
    for flag, values in (("--allow-host", allow_host), ("--seed", seed), ("--facilitator", facilitator), ("--set", setting)):
        for value in values or []:
            crawl_args += [flag, value]
    build_args = ["--db", database, "--out", str(out_dir), "--quiet"] + (["--base-url", base_url] if base_url else [])
    stop = StopFlag()
    stop.install()
    cycles = run_loop(crawl_args, build_args, period, stop, iterations,
                      say=lambda text: out.print(text, highlight=False, markup=False))
    out.print(f"stopped after {cycles} cycle(s)", highlight=False)


def _parse_settings(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--set takes NAME=VALUE, got {pair!r}")
        out[name.strip()] = value
    return out


@app.command()
@friendly_errors
def build(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = DEFAULT_OUT_DIR,
    base_url: Annotated[str, typer.Option("--base-url", help="public URL the site will be served from")] = "",
    no_search: Annotated[bool, typer.Option("--no-search", help="skip the search index (pagefind)")] = False,
    quiet: QuietOption = False,
) -> None:
    """Write the static site, its JSON files and its search index from the database.

    Example: x402-index build --out public --base-url https://x402-index.example
    """
    counts = _do_build(db_url(db), out_dir, base_url, quiet, search=not no_search)
    out.print(f"built {counts['resources']} resources into {out_dir}/ · {counts['written']} files written, "
              f"{counts['unchanged']} unchanged, {counts['removed']} removed", highlight=False)
    if not base_url and not quiet:
        err.print("note: without --base-url there is no sitemap.xml (sitemaps need absolute URLs), and 404.html "
                  "links to / (a site hosted under a sub-path needs --base-url)", highlight=False)


def _do_build(db: str, out_dir: Path, base_url: str, quiet: bool, search: bool = True) -> dict[str, Any]:
    from index.catalog.build import build_records
    from index.gcpolicy import no_collections
    from index.site.search import build_search_index
    from index.site.build import build_site
    from index.store.write import init_db

    def progress(done: int, total: int) -> None:
        if not quiet:
            err.print(f"pages: {done}/{total}", highlight=False)

    # one block for both stages: the collector, back on between them, would first walk every record
    with no_collections():
        records = build_records(init_db(db), site_url=base_url)
        counts = build_site(records, out_dir, base_url, progress=progress)
    if search:
        build_search_index(out_dir)
    return counts


@app.command()
@friendly_errors
def query(
    index: Annotated[str, typer.Option("--index", help="build folder, index.json, catalog.jsonl, or their URL")] = str(DEFAULT_OUT_DIR),
    q: Annotated[str | None, typer.Option("--q", "--text", help="words that must all appear in title, summary, description, tags or URL")] = None,
    category: Annotated[str | None, typer.Option("--category", help="category name, e.g. ai")] = None,
    network: Annotated[str | None, typer.Option("--network", help="CAIP-2 id or v1 name, e.g. eip155:8453 or base")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="maximum price per call in USD")] = None,
    status: Annotated[str | None, typer.Option("--status", help="latest probe outcome, e.g. paid")] = None,
    method: Annotated[str | None, typer.Option("--method", help="HTTP method, e.g. POST")] = None,
    trust_tier: Annotated[str | None, typer.Option("--trust-tier", help="trust tier, e.g. verified, conformant; 'unknown' for none")] = None,
    verified: Annotated[bool, typer.Option("--verified", help="only resources with an accept proven by a test-buy")] = False,
    sort: Annotated[str | None, typer.Option("--sort", help="price | name | last_verified")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="at most this many results")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | jsonl")] = "table",
) -> None:
    """Filter the published catalog (a local build or the URL of a published one).

    Example: x402-index query --network eip155:8453 --max-price 0.01 --sort price --format json
    """
    from rich.table import Table

    from index.query.filters import Query, search
    from index.site.build import format_usd

    if fmt not in ("table", "json", "jsonl"):
        raise CliError("--format must be table, json or jsonl")
    rows = search(index, Query(q=q, category=category, network=network, max_price=max_price, status=status, method=method,
                               trust_tier=trust_tier, verified_only=verified, sort=sort, limit=limit))
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "jsonl":
        sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return
    table = Table(show_lines=False)
    for col in ("title", "price", "networks", "category", "method", "status", "url"):
        table.add_column(col)
    for e in rows:
        mark = " ✓" if e.get("verified") else ""
        table.add_row(e["title"] + mark, format_usd(e["price_usd"]), ", ".join(e["networks"]), e["category"], e["method"],
                      e.get("status") or "", e["url"])
    out.print(table)
    out.print(f"{len(rows)} resources", highlight=False)


@app.command()
@friendly_errors
def show(
    slug: Annotated[str, typer.Argument(help="the resource's slug (see `query`)")],
    db: DbOption = None,
    base_url: Annotated[str, typer.Option("--base-url", help="public URL of the site, for the record's links")] = "",
) -> None:
    """Print one full catalog record as JSON.

    Example: x402-index show api-example-com-v1-weather
    """
    from index.catalog.build import find_record
    from index.store.write import init_db

    record = find_record(init_db(db_url(db)), slug, site_url=base_url)
    if record is None:
        raise CliError(f"no resource with slug {slug!r}")
    sys.stdout.write(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


KeyFileOption = Annotated[Path | None, typer.Option("--key-file", help="file holding the wallet's private key (0600), or env X402_PRIVATE_KEY; never on the command line")]
MaxAmountOption = Annotated[str, typer.Option("--max-amount", help="most USD one payment may cost, checked on the accept selected")]
NetworkOption = Annotated[str, typer.Option("--network", help="network to pay on: CAIP-2 id or v1 name")]
MainnetOption = Annotated[bool, typer.Option("--mainnet", help="allow a mainnet network (real money)")]
BudgetOption = Annotated[str, typer.Option("--daily-budget", help="most USD all test-buys may spend in 24 hours (from the test_buys table)")]
AllowPrivateOption = Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (the demo fleet); off by default")]
AllowHostOption = Annotated[list[str] | None, typer.Option("--allow-host", help="let this one host through even if private (repeatable)")]


@app.command("test-buy")
def test_buy(
    target: Annotated[str, typer.Argument(help="the resource's slug (see `query`) or its URL")],
    pay: Annotated[bool, typer.Option("--pay", help="sign and send the payment (default: a dry run that signs nothing)")] = False,
    max_amount: MaxAmountOption = "0.10",
    network: NetworkOption = "eip155:84532",
    mainnet: MainnetOption = False,
    accept_changes: Annotated[bool, typer.Option("--accept-changes", help="buy even when the live quote differs from the catalog")] = False,
    db: DbOption = None,
    allow_private: AllowPrivateOption = False,
    allow_host: AllowHostOption = None,
    key_file: KeyFileOption = None,
    method: Annotated[str | None, typer.Option("--method", help="HTTP method, when the URL is catalogued under several")] = None,
    daily_budget: BudgetOption = "1.00",
    timeout: Annotated[float, typer.Option("--timeout", help="seconds each request may take")] = 30.0,
    fmt: Annotated[str, typer.Option("--format", help="text | json")] = "text",
) -> None:
    """Pay one endpoint once, safely, and record the proof (a dry run unless --pay).

    Probes it unpaid, checks the live quote against the catalog and every safety rule, then (with
    --pay) signs once with the official x402 SDK, sends, and records the receipt. Exit code: 0 paid
    or dry run, 1 refused or rejected, 3 unreconciled (the payment may have been spent).

    Example: X402_PRIVATE_KEY=... x402-index test-buy api-example-com-v1-weather --pay --max-amount 0.01
    """
    from index.testbuy.wallet import WalletError, load_key, redact

    key = None
    try:
        if fmt not in ("text", "json"):
            raise CliError("--format must be text or json")
        key = load_key(key_file) if (pay or key_file) else None
        result, code = _run_test_buy(target, pay, max_amount, network, mainnet, accept_changes, db, allow_private,
                                     allow_host, key, method, daily_budget, timeout)
    except (CliError, WalletError, ValueError, OSError) as exc:
        err.print(f"error: {redact(str(exc), key)}", markup=False, highlight=False)
        raise typer.Exit(1) from None
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
                  db: str | None, allow_private: bool, allow_host: list[str] | None, key: Any, method: str | None,
                  daily_budget: str, timeout: float) -> tuple[Any, int]:
    from index.store.write import init_db
    from index.testbuy import BuyRequest, Limits, TestBuyer
    from index.testbuy.policy import parse_usd
    from index.testbuy.report import EXIT_CODES

    if timeout <= 0:
        raise CliError("--timeout must be positive")
    limits = Limits(network=network, mainnet=mainnet, max_usd=parse_usd(max_amount, "--max-amount"),
                    daily_budget_usd=parse_usd(daily_budget, "--daily-budget"))
    request = BuyRequest(target=target, pay=pay, limits=limits, accept_changes=accept_changes, method=method,
                         allow_private=allow_private, allow_hosts=frozenset(h.strip() for h in allow_host or [] if h.strip()),
                         timeout=timeout)
    result = TestBuyer(init_db(db_url(db)), key).run(request)
    return result, EXIT_CODES[result.outcome]


DEFAULT_WALLET = Path.home() / ".x402-index" / "wallet.key"  # outside any repository
wallet_app = typer.Typer(help="A throwaway wallet for test-buys on testnets and the demo fleet.", no_args_is_help=True)
app.add_typer(wallet_app, name="wallet")


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
    out.print(f"wrote a throwaway key for {address} to {out_file} (mode 0600); the key itself is not shown", highlight=False)
    out.print(f"use it with: x402-index test-buy <slug> --key-file {out_file}  (add --pay to pay)", highlight=False)


@app.command()
@friendly_errors
def mcp(
    index: Annotated[str, typer.Option("--index", help="build folder, index.json, catalog.jsonl, or their URL")] = str(DEFAULT_OUT_DIR),
    db: DbOption = None,
    enable_payment: Annotated[bool, typer.Option("--enable-payment", help="let callers of test_buy pay (pay=true); without it every test_buy is a dry run")] = False,
    key_file: KeyFileOption = None,
    max_amount: MaxAmountOption = "0.10",
    network: NetworkOption = "eip155:84532",
    mainnet: MainnetOption = False,
    daily_budget: BudgetOption = "1.00",
    allow_private: AllowPrivateOption = False,
    allow_host: AllowHostOption = None,
) -> None:
    """Serve the catalog to agents over MCP (stdio): search_resources, get_resource, test_buy.

    The caps given here bound every test_buy; callers can only lower them.

    Example: x402-index mcp --index https://x402-index.example/ --db sqlite:///data/catalog.db
    """
    from index.query.mcp import ServerConfig, serve_stdio
    from index.testbuy.policy import check_network_choice, parse_usd
    from index.testbuy.wallet import load_key

    key = load_key(key_file) if enable_payment else None
    if enable_payment and key is None:
        raise CliError("--enable-payment needs a key: set X402_PRIVATE_KEY or pass --key-file")
    check_network_choice(network, mainnet)
    config = ServerConfig(index=index, db=db_url(db), pay_enabled=enable_payment, max_usd=parse_usd(max_amount, "--max-amount"),
                          network=network, mainnet=mainnet, daily_budget_usd=parse_usd(daily_budget, "--daily-budget"),
                          allow_private=allow_private, allow_hosts=frozenset(h.strip() for h in allow_host or [] if h.strip()))
    serve_stdio(config, key)


def _serve_forever(directory: Path, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    from index.site.serve import make_server

    server = make_server(directory, host, port)
    url = f"http://{host}:{server.server_port}/"
    if on_ready:
        on_ready(url)
    else:
        out.print(f"serving {directory}/ at {url} (Ctrl-C to stop)", highlight=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@app.command()
@friendly_errors
def serve(
    directory: Annotated[Path, typer.Argument(help="built site folder")] = DEFAULT_OUT_DIR,
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8402,
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
) -> None:
    """Serve a built site over HTTP.

    Example: x402-index serve public --port 8402
    """
    if not (directory / "index.html").exists():
        raise CliError(f"{directory}/index.html not found (run `x402-index build` first)")
    signal.signal(signal.SIGTERM, _interrupt)
    _serve_forever(directory, host, port)


@app.command()
@friendly_errors
def demo(
    port: Annotated[int, typer.Option("--port", help="port for the catalog site")] = 8402,
    fleet_port: Annotated[int, typer.Option("--fleet-port", help="first port of the demo fleet (0: any free ports)")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = DEFAULT_OUT_DIR,
    db: Annotated[str, typer.Option("--db", help="database for the demo (recreated each run)")] = "sqlite:///data/demo/catalog.db",
    quiet: QuietOption = False,
) -> None:
    """Start the bundled x402 fleet on 127.0.0.1, crawl it, build the site, and serve it.

    Example: x402-index demo --port 8402
    """
    from crawler.discovery.seeds import seed_candidate
    from index.demo.server import DemoFleet

    _reset_sqlite(db)
    signal.signal(signal.SIGTERM, _interrupt)
    with DemoFleet(base_port=fleet_port) as fleet:
        m = fleet.manifest
        out.print(f"demo fleet up: {len(m['origins'])} origins, facilitator at {m['facilitator']}", highlight=False)
        # The guard stays on in the demo (only the fleet's 127.0.0.1 is let through), so the hostile
        # origin's redirects to other private addresses are crawled too, and refused.
        candidates = [seed_candidate(s, "demo:seeds") for s in [*m["seeds"], *m.get("guarded_seeds", [])]]
        summary = _do_crawl(candidates, [m["facilitator"]], db, False, quiet, DEMO_CRAWL_OVERRIDES)
        _print_crawl_summary(summary)
        counts = _do_build(db, out_dir, f"http://127.0.0.1:{port}", quiet)
        out.print(f"built {counts['resources']} resources into {out_dir}/", highlight=False)
        _print_demo_test_buy(m, db, out_dir, port)

        def ready(url: str) -> None:
            out.print(f"\n[bold]x402-index demo is live at {url}[/bold]  (Ctrl-C to stop)", highlight=False)

        _serve_forever(out_dir, "127.0.0.1", port, on_ready=ready)
    out.print("stopped the site and the demo fleet", highlight=False)


def _self_command() -> str:
    """How the user invoked us (`.venv/bin/x402-index` under `make demo`), to print runnable commands."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name == "x402-index":
        path = Path(argv0)
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)
    return "x402-index"


def _print_demo_test_buy(manifest: dict[str, Any], db: str, out_dir: Path, port: int) -> None:
    """Write a throwaway key beside the demo database and print the one command that test-buys a
    fleet resource with it, then the rebuild that shows the accept verified."""
    from sqlalchemy.engine import make_url

    from index.demo.spec import DEMO_TEST_BUY
    from index.store.write import init_db
    from index.testbuy.ledger import find_entry
    from index.testbuy.wallet import new_key_file

    origin, path = DEMO_TEST_BUY
    entry = find_entry(init_db(db), manifest["origins"][origin] + path)
    if entry is None:
        return
    database = make_url(db).database or "."
    key_file = Path(database).parent / "wallet.key"
    key_file.unlink(missing_ok=True)
    address = new_key_file(key_file)
    cmd = _self_command()
    out.print(
        f"\n[bold]Test-buy a fleet resource[/bold] with a throwaway key ({address}, in {key_file}). No chain is involved: "
        "the fleet's local facilitator checks the EIP-712 signature for real and settles into its own in-memory "
        "ledger; no real money moves. In another terminal, while the demo runs:", highlight=False)
    out.print(f"  {cmd} test-buy {entry.slug} --pay --key-file {key_file} --db {db} --allow-host 127.0.0.1",
              markup=False, highlight=False)
    out.print(f"then rebuild, and the resource page shows the accept verified:\n  {cmd} build --db {db} --out {out_dir} "
              f"--base-url http://127.0.0.1:{port} --quiet", markup=False, highlight=False)


def _interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM stops long-running commands the way Ctrl-C does."""
    raise KeyboardInterrupt


def _reset_sqlite(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise CliError("the demo needs a SQLite database URL (it is recreated on every run)")
    for suffix in ("", "-wal", "-shm"):
        Path(parsed.database + suffix).unlink(missing_ok=True)


db_app = typer.Typer(help="Database schema: migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@friendly_errors
def db_upgrade(db: DbOption = None) -> None:
    """Apply every schema migration the database lacks (every command also does this on open).

    Example: x402-index db upgrade --db postgresql+psycopg://user@localhost/x402
    """
    from index.store.migrate import current, head
    from index.store.write import init_db

    engine = init_db(db_url(db))
    out.print(f"database at schema revision {current(engine)} (head {head()})", highlight=False)


from index.cli.worker import worker_app  # noqa: E402 - `worker` and `coordinate` (crawl spread over machines)

app.add_typer(worker_app)

if __name__ == "__main__":  # pragma: no cover - `python -m index.cli.app`
    app()
