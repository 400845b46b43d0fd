"""Commands of a crawl spread over machines: `worker` (any number, anywhere) and `coordinate` (one).

Redis shares the frontier, PostgreSQL is the one store (crawler.distributed). `coordinate` is its
own command rather than `crawl --redis`: it never crawls, takes no SSRF-guard flags (those are each
worker's own) and waits on workers it does not start; the single-process `crawl` stays as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from index.cli.console import err, out
from index.paths import DATA_DIR, db_url

worker_app = typer.Typer()

RedisOption = Annotated[str, typer.Option("--redis", help="Redis URL of the shared frontier, e.g. redis://:PASSWORD@10.0.0.5:6379/0")]
DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL of the shared PostgreSQL database [env X402_INDEX_DB]")]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(1)


@worker_app.command()
def worker(
    redis: RedisOption,
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="work on the next run only, then exit")] = False,
    allow_private: Annotated[bool, typer.Option("--allow-private", help="allow loopback and private addresses (the demo fleet, tests); off by default")] = False,
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="let the SSRF guard through for this one host even if private (repeatable)")] = None,
    ttl: Annotated[float, typer.Option("--ttl", min=2.0, help="seconds of silence after which the coordinator counts this worker dead")] = 15.0,
) -> None:
    """Crawl the runs a coordinator opens, from the shared frontier into the shared database.

    Runs until SIGTERM or Ctrl-C (what it fetched is stored; what it held goes back to the fleet).
    The SSRF guard's exceptions are this worker's own flags, never taken from Redis.

    Example: x402-index worker --redis redis://:secret@10.0.0.5:6379/0 --db postgresql+psycopg://x402@10.0.0.6/catalog
    """
    import redis as redis_lib

    from crawler.distributed.worker import serve
    from index.schedule.runs import StopFlag

    database = db_url(db)
    if database.startswith("sqlite"):
        raise _fail("workers on several machines need a shared database: give --db a PostgreSQL URL")
    stop = StopFlag()
    if not once:
        stop.install()
    try:
        serve(redis, database, once=once, allow_private=allow_private, allow_hosts=[h.strip() for h in allow_host or [] if h.strip()],
              ttl=ttl, stop=stop.event, say=lambda text: out.print(text, highlight=False, markup=False))
    except redis_lib.RedisError as exc:
        raise _fail(f"redis: {exc}") from None


@worker_app.command()
def coordinate(
    redis: RedisOption,
    db: DbOption = None,
    seed: Annotated[list[str] | None, typer.Option("--seed", help="resource URL to probe, optionally 'METHOD URL', or an origin URL (repeatable)")] = None,
    seeds_file: Annotated[Path | None, typer.Option("--seeds-file", help="YAML seeds file [default data/seeds.yaml when no --seed/--facilitator]")] = None,
    facilitator: Annotated[list[str] | None, typer.Option("--facilitator", help="facilitator base URL whose /discovery/resources to list (repeatable)")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", "-s", help="politeness or limit setting for the run's workers, NAME=VALUE (repeatable)")] = None,
    everything: Annotated[bool, typer.Option("--all", help="probe every known resource now and read every discovery source")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="probe at most this many due resources (the most overdue first)")] = None,
    interval: Annotated[str, typer.Option("--interval", help="re-probe live resources this often; failing ones back off from it")] = "6h",
    worker_wait: Annotated[float, typer.Option("--worker-wait", help="seconds to wait for workers to leave a finished run")] = 60.0,
) -> None:
    """Open a crawl run for the workers, wait until they have probed everything, report what changed.

    Pushes what is due (as `crawl` would probe it) into the shared frontier; workers' discoveries go
    back into it. A worker that dies loses nothing (its leases go back, minus what the database
    already holds); a Redis that comes back empty gets the run pushed again. Prints the same report
    as `crawl`.

    Example: x402-index coordinate --redis redis://:secret@10.0.0.5:6379/0 --db postgresql+psycopg://x402@10.0.0.6/catalog
    """
    import redis as redis_lib

    from crawler.discovery.seeds import is_origin_seed, load_seeds_file, seed_candidate
    from crawler.distributed.coordinator import coordinate as run_fleet
    from crawler.distributed.frontier import connect
    from crawler.distributed.worker import ALLOWED_SETTINGS
    from index.schedule.rules import parse_every
    from index.schedule.runs import change_lines, finish, prepare
    from index.store.write import init_db

    every = parse_every(interval)
    explicit = bool(seed or facilitator or seeds_file)
    origins = [s.strip() for s in seed or [] if is_origin_seed(s)]
    candidates: list[Any] = [seed_candidate(s, "cli:--seed") for s in seed or [] if not is_origin_seed(s)]
    facilitators = list(facilitator or [])
    if seeds_file is None and not explicit:
        seeds_file = DATA_DIR / "seeds.yaml"
    if seeds_file is not None:
        seeds = load_seeds_file(seeds_file)
        candidates += seeds["resources"]
        facilitators += seeds["facilitators"]
        origins += seeds["origins"]
    settings: dict[str, str] = {}
    for pair in setting or []:
        name, sep, value = pair.partition("=")
        if not sep or name.strip() not in ALLOWED_SETTINGS:
            raise _fail(f"--set takes NAME=VALUE with NAME one of {', '.join(ALLOWED_SETTINGS)}; got {pair!r}")
        settings[name.strip()] = value
    database = db_url(db)
    engine = init_db(database)
    job = prepare(engine, seeds=candidates, facilitators=facilitators, origins=origins, explicit=explicit,
                  everything=everything, limit=limit)
    if job.resumed:
        err.print(f"resuming crawl run {job.run_id} ({job.already_probed} resources already probed)", highlight=False)
    if not job.candidates and not job.facilitators and not job.origins:
        finish(engine, job, {"probed": 0}, every)
        out.print("nothing due: every known resource was probed recently (use --all to probe them now)", highlight=False)
        return
    try:
        summary = run_fleet(engine, connect(redis), job, settings, worker_wait=worker_wait,
                            say=lambda text: err.print(text, highlight=False, markup=False))
    except redis_lib.RedisError as exc:
        raise _fail(f"redis: {exc} (the run stays open; `coordinate` again resumes it)") from None
    counts = finish(engine, job, summary, every)
    from index.cli.crawl import print_changes, print_summary

    print_summary(summary)
    print_changes(counts, change_lines(engine, job.run_id))
    if summary["store_failed"] or summary["spider_exceptions"] or summary["lost"]:
        raise _fail(f"crawl did not complete ({summary['store_failed']} results not stored, {summary['lost']} "
                    f"resources never probed, {summary['spider_exceptions']} callback errors; see the workers' logs)")
