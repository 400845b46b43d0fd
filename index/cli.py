"""x402-index command line: parses arguments, calls library functions, prints.

Every command's docstring is its --help and ends with an example.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any

import typer

from index.console import CrawlProgress, err, out
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
        except (CliError, FileNotFoundError, ValueError, OSError) as exc:
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
              overrides: dict[str, Any] | None = None, origins: list[str] | None = None) -> dict[str, Any]:
    from crawler.run import crawl_ok, run_crawl

    if not candidates and not facilitators and not origins:
        raise CliError("nothing to crawl: give --seed, --facilitator or a seeds file with entries")
    settings = {"LOG_LEVEL": "WARNING"}
    settings.update(overrides or {})
    with CrawlProgress(quiet=quiet) as progress:
        summary = run_crawl(candidates, facilitators, db, allow_private=allow_private, overrides=settings,
                            progress=progress, origins=origins)
    # Scrapy leaves its shutdown handlers installed; give Ctrl-C back to Python.
    signal.signal(signal.SIGINT, signal.default_int_handler)
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
    quiet: QuietOption = False,
) -> None:
    """Probe candidate endpoints unpaid and store what they answer.

    Example: x402-index crawl --facilitator https://x402.org/facilitator
    """
    from crawler.discovery.seeds import is_origin_seed, load_seeds_file, seed_candidate

    origins = [s.strip() for s in seed or [] if is_origin_seed(s)]
    candidates = [seed_candidate(s, "cli:--seed") for s in seed or [] if not is_origin_seed(s)]
    facilitators = list(facilitator or [])
    if seeds_file is None and not candidates and not facilitators and not origins:
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
    summary = _do_crawl(candidates, facilitators, db_url(db), allow_private, quiet, overrides, origins)
    _print_crawl_summary(summary)


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


def _do_build(db: str, out_dir: Path, base_url: str, quiet: bool, search: bool = True) -> dict[str, int]:
    from index.catalog import build_records
    from index.search import build_search_index
    from index.site import build_site
    from index.store import init_db

    records = build_records(init_db(db), site_url=base_url)

    def progress(done: int, total: int) -> None:
        if not quiet:
            err.print(f"pages: {done}/{total}", highlight=False)

    counts = build_site(records, out_dir, base_url, progress=progress)
    if search:
        build_search_index(out_dir)
    return counts


@app.command()
@friendly_errors
def query(
    index: Annotated[str, typer.Option("--index", help="build folder, index.json, catalog.jsonl, or their URL")] = str(DEFAULT_OUT_DIR),
    q: Annotated[str | None, typer.Option("--q", help="words that must all appear in title, summary or URL")] = None,
    category: Annotated[str | None, typer.Option("--category", help="category name, e.g. ai")] = None,
    network: Annotated[str | None, typer.Option("--network", help="CAIP-2 id or v1 name, e.g. eip155:8453 or base")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="maximum price per call in USD")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Filter the published catalog.

    Example: x402-index query --network eip155:8453 --max-price 0.01 --format json
    """
    from rich.table import Table

    from index.query import filter_entries, load_entries
    from index.site import format_usd

    if fmt not in ("table", "json"):
        raise CliError("--format must be table or json")
    rows = filter_entries(load_entries(index), q=q, category=category, network=network, max_price=max_price)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(show_lines=False)
    for col in ("title", "price", "networks", "category", "method", "url"):
        table.add_column(col)
    for e in rows:
        table.add_row(e["title"], format_usd(e["price_usd"]), ", ".join(e["networks"]), e["category"], e["method"], e["url"])
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
    from index.catalog import find_record
    from index.store import init_db

    record = find_record(init_db(db_url(db)), slug, site_url=base_url)
    if record is None:
        raise CliError(f"no resource with slug {slug!r}")
    sys.stdout.write(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def _serve_forever(directory: Path, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    from index.serve import make_server

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

        def ready(url: str) -> None:
            out.print(f"\n[bold]x402-index demo is live at {url}[/bold]  (Ctrl-C to stop)", highlight=False)

        _serve_forever(out_dir, "127.0.0.1", port, on_ready=ready)
    out.print("stopped the site and the demo fleet", highlight=False)


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


if __name__ == "__main__":  # pragma: no cover - `python -m index.cli`
    app()
