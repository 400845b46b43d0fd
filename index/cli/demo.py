"""`demo`: the bundled fleet on 127.0.0.1 → crawl → build → serve, then the exact commands to try next."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import err, out
from index.cli.crawl import crawl_and_report
from index.cli.options import CliError, QuietOption, friendly_errors
from index.cli.publish import build_and_report, interrupt, serve_forever
from index.paths import DEFAULT_DB_URL, DEFAULT_OUT_DIR, DEMO_DB_URL, sqlite_file

# The fleet's first port. Fixed, so its URLs, and the slugs made from them, are the same from one
# demo to the next (a command copied from one run works in the next); any free ports if taken.
DEMO_FLEET_PORT = 8410
# The demo fleet is one loopback host: no politeness delay, and the SSRF guard on with only the
# fleet's own address let through (as a crawl of the internet would run, minus the waiting).
DEMO_CRAWL_OVERRIDES = {
    "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING",
    "DOWNLOAD_TIMEOUT": 5, "X402_ALLOW_HOSTS": ["127.0.0.1"],
}


@friendly_errors
def demo(
    port: Annotated[int, typer.Option("--port", help="port for the catalog site")] = 8402,
    fleet_port: Annotated[int, typer.Option("--fleet-port", help="first port of the demo fleet (0: any free ports)")] = DEMO_FLEET_PORT,
    out_dir: Annotated[Path, typer.Option("--out", help="output folder")] = DEFAULT_OUT_DIR,
    db: Annotated[str, typer.Option("--db", help="database for the demo (recreated each run)")] = DEMO_DB_URL,
    quiet: QuietOption = False,
) -> None:
    """Start the bundled x402 fleet on 127.0.0.1, crawl it, build the site, and serve it.

    The fleet is three well-behaved origins, a seller origin and a facilitator on fixed ports (from --fleet-port), so
    slugs stay the same from run to run. The demo prints the commands to try next.

    Example: x402-index demo --port 8402
    """
    from crawler.discovery.seeds import Sources, seed_candidate

    _reset_sqlite(db)
    signal.signal(signal.SIGTERM, interrupt)
    with _start_fleet(fleet_port) as fleet:
        m = fleet.manifest
        out.print(f"demo fleet up: {len(m['origins'])} origins, facilitator at {m['facilitator']}", highlight=False)
        # The seller origin (a verified owner, an L402 and an MPP endpoint) is found from its own files.
        sources = Sources(candidates=[seed_candidate(s, "demo:seeds") for s in m["seeds"]],
                          facilitators=[m["facilitator"]], origins=list(m.get("owner", {}).get("seeds", [])),
                          explicit=True)
        try:
            crawl_and_report(db, sources, quiet=quiet, overrides=DEMO_CRAWL_OVERRIDES)
        except CliError as exc:
            if exc.code != 130:
                raise
            out.print("stopped the demo fleet (Ctrl-C during its crawl)", highlight=False)
            raise typer.Exit(130) from None
        base_url = f"http://127.0.0.1:{port}"
        counts = build_and_report(db, out_dir, base_url, quiet)
        out.print(f"built {counts['resources']} resources into {out_dir}/", highlight=False, markup=False)
        _print_next_steps(m, db, out_dir, base_url)

        def ready(url: str) -> None:
            out.print(f"\n[bold]x402-index demo is live at {url}[/bold]  (Ctrl-C to stop)", highlight=False)

        serve_forever(out_dir, "127.0.0.1", port, on_ready=ready)
    out.print("stopped the site and the demo fleet", highlight=False)


@contextmanager
def _start_fleet(base_port: int) -> Iterator[Any]:
    """The fleet on its fixed ports, or on any free ports (saying so) when one is taken."""
    from index.demo.server import DemoFleet

    fleet = DemoFleet(base_port=base_port, test_origins=False)
    try:
        fleet.__enter__()
    except RuntimeError:
        if not base_port:
            raise
        err.print(f"note: a port from {base_port} is taken; the fleet runs on other ports this time, so its "
                  "slugs differ from other runs", highlight=False)
        fleet = DemoFleet(base_port=0, test_origins=False)
        fleet.__enter__()
    try:
        yield fleet
    finally:
        fleet.stop()


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


def _print_next_steps(manifest: dict[str, Any], db: str, out_dir: Path, base_url: str) -> None:
    """The commands to type next, exactly, against this demo's database and build; and a throwaway
    key beside the demo database for the test-buy."""
    from rich.markup import escape

    from index.demo.spec import DEMO_TEST_BUY
    from index.store.engine import init_db
    from index.testbuy.ledger import find_entry
    from index.testbuy.wallet import new_key_file

    cmd = _self_command()
    db_flag = f" --db {db}"
    index_flag = "" if out_dir == DEFAULT_OUT_DIR else f" --index {out_dir}"
    origin, path = DEMO_TEST_BUY
    entry = find_entry(init_db(db), manifest["origins"][origin] + path)
    slug = entry.slug if entry is not None else "<slug>"
    lines = [f"  {cmd} query{index_flag}", f"  {cmd} show {slug}{db_flag}", f"  {cmd} runs{db_flag}",
             f"  {cmd} test-buy {slug}{db_flag} --allow-host 127.0.0.1   # a dry run: signs nothing"]
    out.print("\n[bold]Try next[/bold], in another terminal while the demo runs (the demo's database is "
              f"{escape(db)}; without --db, commands read {DEFAULT_DB_URL}, your own crawls):",
              highlight=False)
    for line in lines:
        out.print(line, markup=False, highlight=False)
    if entry is None:
        return
    key_file = (sqlite_file(db) or Path(".")).parent / "wallet.key"
    key_file.unlink(missing_ok=True)
    address = new_key_file(key_file)
    out.print(
        f"\n[bold]Test-buy a fleet resource[/bold] with a throwaway key ({address}, in {escape(str(key_file))}; "
        f"`{cmd} wallet new` makes your own, or set X402_PRIVATE_KEY). No chain is involved: the fleet's local "
        "facilitator checks the EIP-712 signature for real and settles into its own in-memory ledger; no real "
        "money moves:", highlight=False)
    out.print(f"  {cmd} test-buy {slug} --pay --key-file {key_file}{db_flag} --allow-host 127.0.0.1",
              markup=False, highlight=False)
    out.print(f"then rebuild, and the resource page shows the accept verified:\n  {cmd} build{db_flag} --out {out_dir} "
              f"--base-url {base_url} --quiet", markup=False, highlight=False)


def _reset_sqlite(url: str) -> None:
    path = sqlite_file(url)
    if path is None:
        raise CliError("the demo needs a SQLite database URL (it is recreated on every run)", code=2)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
