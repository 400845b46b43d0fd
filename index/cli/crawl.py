"""`crawl`, `runs` and `run`: parse, call crawler.run / index.schedule, print."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import CrawlProgress, err, out, text_cell
from index.cli.options import CliError, DbOption, QuietOption, database, friendly_errors, hosts, parse_settings
from index.paths import DATA_DIR, DEFAULT_OUT_DIR

SettingOption = Annotated[list[str] | None, typer.Option("--set", "-s", help="override a crawl setting, NAME=VALUE (repeatable)")]


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The crawl report: what was probed, split into what answered (a 404 is an answer: the endpoint
    said no, as it should) and what did not answer (timeouts, refused connections, DNS)."""
    from index.probe.outcomes import ANSWERED

    outcomes = summary["outcomes"]
    answered = sum(v for k, v in outcomes.items() if k in ANSWERED and k not in ("paid", "free"))
    silent = sum(v for k, v in outcomes.items() if k not in ANSWERED)
    lines = [f"probed {summary['probed']} · paid {summary['paid']} · free {summary['free']} · "
             f"answered without an offer {answered} · no answer {silent} · new {summary['new']}"]
    if outcomes:
        lines.append("  outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.items()))
    return lines


def print_summary(summary: dict[str, Any]) -> None:
    for line in summary_lines(summary):
        out.print(line, highlight=False, markup=False)


def print_changes(counts: dict[str, int], lines: list[str]) -> None:
    found = {k: v for k, v in counts.items() if v}
    if not found:
        out.print("changes: none", highlight=False)
        return
    out.print("changes: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in found.items()), highlight=False)
    for line in lines:
        out.print("  " + line, highlight=False, markup=False)


def crawl_and_report(db: str, sources: Any, *, quiet: bool, allow_private: bool = False,
                     overrides: dict[str, Any] | None = None, everything: bool = False, limit: int | None = None,
                     every: Any = None) -> Any:
    """Run one crawl job with the progress display and print its report; CliError when it did not
    complete (Ctrl-C: 'stopped', the run resumes next time)."""
    from crawler.run import crawl_job

    settings: dict[str, Any] = {"LOG_LEVEL": "WARNING"}
    settings.update(overrides or {})

    def stopping() -> None:
        err.print("stopping… (what was probed is stored; the next crawl resumes the rest)", highlight=False)

    def planned(plan: Any) -> None:
        if plan.resumed:
            err.print(f"resuming crawl run {plan.run_id} ({plan.already_probed} resources already probed)", highlight=False)

    with CrawlProgress(quiet=quiet) as progress:
        job = crawl_job(db, sources, everything=everything, limit=limit, every=every, allow_private=allow_private,
                        overrides=settings, progress=progress, on_stop=stopping, on_plan=planned)
    plan, summary = job.plan, job.summary
    if summary is None:
        out.print("nothing due: every known resource was probed recently (use --all to probe them now)", highlight=False)
        return job
    print_summary(summary)
    if not job.ok:
        if summary.get("interrupted"):
            raise CliError(f"stopped: crawl run {plan.run_id} probed {summary['probed']} of {summary['queued']} "
                           "queued; `x402-index crawl` resumes it", code=130)
        raise CliError(f"crawl did not complete (finish reason {summary['finish_reason']}, "
                       f"{summary['probed']} of {summary['queued']} candidates probed, {summary['stored']} of "
                       f"{summary['attempts']} attempts stored, {summary['spider_exceptions']} callback errors)")
    print_changes(job.counts, job.changes)
    if summary.get("no_network"):
        raise CliError("no network? every lookup failed (no DNS answer for any host)")
    return job


@friendly_errors
def crawl(
    seed: Annotated[list[str] | None, typer.Option("--seed", help="resource URL to probe, optionally 'METHOD URL', or an origin URL to discover from (repeatable)")] = None,
    seeds_file: Annotated[Path | None, typer.Option("--seeds-file", help="YAML seeds file [default data/seeds.yaml when no --seed/--facilitator]")] = None,
    facilitator: Annotated[list[str] | None, typer.Option("--facilitator", help="facilitator base URL whose /discovery/resources to list (repeatable)")] = None,
    db: DbOption = None,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (the demo fleet, tests); off by default")] = False,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="let the SSRF guard through for this one host even if private, e.g. your own facilitator (repeatable)")] = None,
    setting: SettingOption = None,
    everything: Annotated[bool, typer.Option("--all", help="probe every known resource now and read every discovery source")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="probe at most this many due resources (the most overdue first)")] = None,
    interval: Annotated[str, typer.Option("--interval", help="re-probe live resources this often; failing ones back off from it")] = "6h",
    quiet: QuietOption = False,
) -> None:
    """Probe what is due, unpaid, store what it answers, and report what changed.

    Incremental: a resource is re-probed when due (live ones every --interval, failing ones backing off); discovery sources (seeds, facilitators, origins) are read when named on the command line or when the last read is a day old. A run that was stopped (Ctrl-C) or killed is resumed first: exactly what it had queued and not probed.

    Example: x402-index crawl --facilitator https://x402.org/facilitator
    """
    from crawler.discovery.seeds import SeedError, assemble
    from index.schedule.rules import parse_every

    try:
        sources = assemble(seed, facilitator, seeds_file, DATA_DIR / "seeds.yaml")
        every = parse_every(interval)
    except SeedError as exc:
        raise CliError(str(exc), code=2) from None
    overrides: dict[str, Any] = {}
    if allow_host:
        overrides["X402_ALLOW_HOSTS"] = sorted(hosts(allow_host))
    overrides.update(parse_settings(setting or []))
    crawl_and_report(database(db, create=True), sources, quiet=quiet, allow_private=allow_private,
                     overrides=overrides, everything=everything, limit=limit, every=every)


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
    from index.store.engine import init_db

    if fmt not in ("table", "json"):
        raise CliError("--format must be table or json", code=2)
    rows = runs(init_db(database(db)), limit)
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table()
    for col in ("run", "kind", "started", "finished", "probed", "paid", "added", "price", "payTo", "down", "recovered", "removed", "retired"):
        table.add_column(col)
    for r in rows:
        c = r["changes"]
        cells = [str(r["id"]), r["kind"], r["started_at"][:19], (r["finished_at"] or "unfinished")[:19],
                 str(r["probed"] if r["probed"] is not None else "—"), str(r["paid"] if r["paid"] is not None else "—"),
                 str(c["added"]), str(c["price_changed"]), str(c["pay_to_changed"]), str(c["went_down"]),
                 str(c["recovered"]), str(c["removed"]), str(c["retired"])]
        table.add_row(*map(text_cell, cells))
    out.print(table)
    if not rows:
        out.print("no crawl runs yet", highlight=False)


def _child(command: list[str]) -> int:
    """One step of `run`, in a child process (a crawl needs a fresh reactor) and its own session (the
    Ctrl-C meant for the loop does not cut the step short: the loop stops after it)."""
    return subprocess.run([sys.executable, "-m", "index.cli", *command], start_new_session=True, check=False).returncode


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

    Exits 1 when a step of any cycle failed (each failure is listed).

    Example: x402-index run --every 6h --out public --base-url https://x402-index.example
    """
    from crawler.discovery.seeds import SeedError, assemble
    from index.schedule.rules import parse_every
    from index.schedule.runs import StopFlag, run_loop

    period = parse_every(every)
    try:
        assemble(seed, facilitator, None, None)  # a bad seed is refused now, not at every cycle
    except SeedError as exc:
        raise CliError(str(exc), code=2) from None
    url = database(db, create=True)
    crawl_args = ["crawl", "--db", url, "--quiet"]
    for flag, values in (("--allow-host", allow_host), ("--seed", seed), ("--facilitator", facilitator), ("--set", setting)):
        for value in values or []:
            crawl_args += [flag, value]
    build_args = ["build", "--db", url, "--out", str(out_dir), "--quiet"] + (["--base-url", base_url] if base_url else [])
    stop = StopFlag()
    stop.install()
    cycles, failed = run_loop([("crawl", lambda: _child(crawl_args)), ("build", lambda: _child(build_args))], period, stop,
                              iterations, say=lambda text: out.print(text, highlight=False, markup=False))
    out.print(f"stopped after {cycles} cycle(s)", highlight=False)
    if failed:
        raise CliError(f"{len(failed)} step(s) failed: " + "; ".join(failed))
