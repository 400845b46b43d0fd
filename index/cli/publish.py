"""`build`, `query`, `show` and `serve`: parse, call index.publish / index.query / index.catalog, print."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import err, out, text_cell
from index.cli.options import DEFAULT_INDEX, CliError, DbOption, IndexOption, QuietOption, database, friendly_errors
from index.paths import DEFAULT_OUT_DIR

BaseUrlOption = Annotated[str, typer.Option("--base-url", help="public URL the site will be served from")]


def build_and_report(db: str, out_dir: Path, base_url: str, quiet: bool, search: bool = True,
                     force: bool = False) -> dict[str, Any]:
    """index.publish.build with a page counter on stderr (unless quiet)."""
    from index.publish import build as publish

    def progress(done: int, total: int) -> None:
        if not quiet:
            err.print(f"pages: {done}/{total}", highlight=False)

    return publish(db, out_dir, base_url, search=search, progress=progress, force=force)


@friendly_errors
def build(
    db: DbOption = None,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = DEFAULT_OUT_DIR,
    base_url: BaseUrlOption = "",
    no_search: Annotated[bool, typer.Option("--no-search", help="skip the search index (pagefind)")] = False,
    quiet: QuietOption = False,
    force: Annotated[bool, typer.Option("--force", help="write into a non-empty folder that no build of ours wrote "
                                        "(its files stay; only files a build wrote are ever deleted)")] = False,
) -> None:
    """Write the static site, its JSON files and its search index from the database.

    Example: x402-index build --out public --base-url https://x402-index.example
    """
    counts = build_and_report(database(db), out_dir, base_url, quiet, search=not no_search, force=force)
    out.print(f"built {counts['resources']} resources into {out_dir}/ · {counts['written']} files written, "
              f"{counts['unchanged']} unchanged, {counts['removed']} removed", highlight=False, markup=False)
    if not base_url and not quiet:
        err.print("note: without --base-url there is no sitemap.xml (sitemaps need absolute URLs), and 404.html "
                  "links to / (a site hosted under a sub-path needs --base-url)", highlight=False)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@friendly_errors
def query(
    index: IndexOption = DEFAULT_INDEX,
    q: Annotated[str | None, typer.Option("--q", "--text", help="words that must all appear in title, summary, description, tags or URL")] = None,
    category: Annotated[str | None, typer.Option("--category", help="category name, e.g. ai")] = None,
    network: Annotated[str | None, typer.Option("--network", help="CAIP-2 id or v1 name, e.g. eip155:8453 or base")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="maximum price per call in USD")] = None,
    status: Annotated[str | None, typer.Option("--status", help="latest probe outcome, e.g. paid")] = None,
    method: Annotated[str | None, typer.Option("--method", help="HTTP method, e.g. POST")] = None,
    trust_tier: Annotated[str | None, typer.Option("--trust-tier", help="trust tier, e.g. verified, conformant; 'unknown' for none")] = None,
    verified: Annotated[bool, typer.Option("--verified", help="only resources with an accept proven by a test-buy")] = False,
    min_uptime: Annotated[float | None, typer.Option("--min-uptime", help="least uptime over 7 days, in %, e.g. 99")] = None,
    sort: Annotated[str | None, typer.Option("--sort", help="price | name | last_verified | uptime | latency")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="at most this many results")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | jsonl")] = "table",
) -> None:
    """Filter the published catalog (a local build or the URL of a published one).

    Example: x402-index query --network eip155:8453 --max-price 0.01 --sort price --format json
    """
    from index.query.filters import Query, QueryError, search

    if fmt not in ("table", "json", "jsonl"):
        raise CliError("--format must be table, json or jsonl", code=2)
    try:
        rows = search(index, Query(q=q, category=category, network=network, max_price=max_price, status=status,
                                   method=method, trust_tier=trust_tier, verified_only=verified, min_uptime=min_uptime,
                                   sort=sort, limit=limit))
    except QueryError as exc:
        raise CliError(str(exc), code=exc.code) from None
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "jsonl":
        sys.stdout.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        return
    from rich.table import Table

    from index.site.render import format_usd

    # The slug and the URL are what one copies: they get the room they need (up to 60 and 80 columns)
    # and fold beyond that; other long cells fold onto more lines too, none is cut with an ellipsis.
    def room(key: str, cap: int) -> int:
        return min(max((len(str(e[key])) for e in rows), default=4), cap)

    table = Table(show_lines=False)
    table.add_column("slug", overflow="fold", min_width=room("slug", 60))
    table.add_column("title", overflow="fold")
    for col in ("price", "networks", "category", "method", "status"):
        table.add_column(col, overflow="fold")
    table.add_column("url", overflow="fold", min_width=room("url", 80))
    for e in rows:
        mark = " ✓" if e.get("verified") else ""
        cells = [e["slug"], e["title"] + mark, format_usd(e["price_usd"]), ", ".join(e["networks"]), e["category"],
                 e["method"], e.get("status") or "", e["url"]]
        table.add_row(*map(text_cell, cells))
    out.print(table)
    out.print(plural(len(rows), "resource"), highlight=False)


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
    from index.store.engine import init_db

    record = find_record(init_db(database(db)), slug, site_url=base_url)
    if record is None:
        raise CliError(f"no resource with slug {slug!r} (`x402-index query` lists the slugs)")
    sys.stdout.write(json.dumps(record.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def interrupt(_signum: int, _frame: Any) -> None:
    """SIGTERM stops long-running commands the way Ctrl-C does."""
    raise KeyboardInterrupt


def serve_forever(directory: Path, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    from index.site.serve import make_server

    server = make_server(directory, host, port)
    url = f"http://{host}:{server.server_port}/"
    if on_ready:
        on_ready(url)
    else:
        out.print(f"serving {directory}/ at {url} (Ctrl-C to stop)", highlight=False, markup=False)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
    signal.signal(signal.SIGTERM, interrupt)
    serve_forever(directory, host, port)
