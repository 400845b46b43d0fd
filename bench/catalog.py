"""Catalog stage benchmark: `index.catalog.build.build_records` over a SQLite store of N synthetic
resources written through the crawler's own write path, timed (wall and CPU seconds, records/s, GC
pauses, peak RSS), then run once more under cProfile.

    .venv/bin/python bench/catalog.py                    # 20,000 resources, 8 crawls over 30 days
    .venv/bin/python bench/catalog.py --n 2000
    .venv/bin/python bench/catalog.py --n 50000 --keep   # keep the database (bench/out/catalog-50000.db)
    .venv/bin/python bench/catalog.py --n 50000 --reuse  # time a kept database again, no fill

The store is filled (not timed) as a crawl fills it, with the same functions: each origin's homepage
and docs page (HTML we generate, read by `index.docs.page.extract_page`, stored by `record_origin_pages`);
then `--crawls` crawl runs spread over the last 30 days (`index.schedule.changes.begin_run`, `record_probes`
in batches of 100 as the writer process gets them, `finish_run`), whose probes are the spider's
items: the raw headers and body of a v2 `402` (PAYMENT-REQUIRED with one or two USDC accepts and a
bazaar extension) and its `parse_challenge(...).model_dump(mode="json")`, the facilitator listing
that named the resource as its source (`item_candidate`). Resources are spread over origins
(`--per-origin`, 20) and the taxonomy's categories, GET and POST (a tenth of the POST ones answer
405 to GET first, as a two-attempt probe), with a little trouble: ~3% of probes time out, a few
resources go down or come back, change price or payTo between crawls, so health windows, terms
history and status changes all have rows. Every resource is paid at least once, so the catalog has
exactly N records. The fill runs in a child process, so the peak RSS printed is the catalog stage's.

The last line printed is one JSON object: {"records", "build_records_s", "cpu_s", "per_record_ms", ...}.
Compare per_record_ms across --n to see what scales worse than linearly. The profile is also saved
to bench/out/catalog-N.prof (`python -m pstats`).
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import hashlib
import json
import multiprocessing
import os
import pstats
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from collections.abc import Iterable
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.discovery import source_of  # noqa: E402
from crawler.discovery.facilitator import item_candidate  # noqa: E402
from crawler.spiders.probe import ROBOTS_POLICY, _source_with_claims  # noqa: E402
from index.catalog.build import build_records  # noqa: E402
from index.gcpolicy import no_collections  # noqa: E402
from index.catalog.categories import FALLBACK, categories, classify_fields  # noqa: E402
from index.schedule.changes import begin_run, finish_run  # noqa: E402
from index.docs.page import extract_page  # noqa: E402
from index.store.engine import dispose_engine, init_db  # noqa: E402
from index.store.pages import record_origin_pages  # noqa: E402
from index.store.write import record_probes  # noqa: E402
from index.protocol.challenge import parse_challenge  # noqa: E402

SITE = "https://x402-index.example"
FACILITATOR = "https://facilitator.bench.example/discovery/resources"
NETWORKS = (("eip155:84532", "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "USDC"),  # Base Sepolia
            ("eip155:8453", "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USD Coin"))  # Base
WORDS = ("forecast report city price wallet risk news lookup summary quote volume score index feed "
         "geocode profile history latest daily stream batch detail status").split()
SPAN = timedelta(days=29)  # first crawl to last: every health window has samples
CRAWL_LENGTH = timedelta(hours=1)  # one crawl's probes are spread over this
BATCH = 100  # probes per record_probes call (X402_STORE_BATCH)


def category_words() -> dict[str, str]:
    """One single-word keyword per category that the classifier files under that category."""
    out = {}
    for cat in categories():
        for kw in cat.keywords:
            if kw.isalnum() and classify_fields(tags=kw, path=f" v1 {kw} x ") == cat.name:
                out[cat.name] = kw
                break
    return out


class Spec:
    """One synthetic resource: what its server and the facilitator say about it."""

    def __init__(self, i: int, per_origin: int, words: list[str], rng: random.Random) -> None:
        self.i = i
        self.origin = i // per_origin
        self.base = f"https://api.p{self.origin}.example"
        self.cat = words[i % len(words)]
        self.word = WORDS[(i * 7) % len(WORDS)]
        self.method = "POST" if i % 5 == 4 else "GET"
        self.probed_405 = self.method == "POST" and i % 50 == 9  # GET answered 405, then POST paid
        self.path = f"/v1/{self.cat}/{self.word}-{i}"
        self.url = self.base + self.path
        self.description = f"{self.word.capitalize()} {self.cat} data for agents, resource {i}"
        self.atomic = max(1, int(10 ** rng.uniform(0, 6)))  # $0.000001 .. $1 in 6-decimal USDC
        self.two_networks = i % 3 == 0
        self.pay_to = "0x" + hashlib.sha256(f"provider {self.origin}".encode()).hexdigest()[:40]  # one per provider

    def input_hints(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The bazaar `info.input` and the JSON Schema of `input` the x402 SDK declares."""
        if self.method == "GET":
            return ({"type": "http", "method": "GET", "queryParams": {"q": self.word, "limit": "10"}},
                    {"type": "object", "properties": {
                        "type": {"type": "string", "const": "http"},
                        "method": {"type": "string", "enum": ["GET", "HEAD", "DELETE"]},
                        "queryParams": {"type": "object", "properties": {
                            "q": {"type": "string", "description": f"What to {self.cat} for"},
                            "limit": {"type": "string"}}, "required": ["q"]}},
                     "required": ["type", "method"], "additionalProperties": False})
        return ({"type": "http", "method": "POST", "bodyType": "json", "body": {"input": self.word, "limit": 10}},
                {"type": "object", "properties": {
                    "type": {"type": "string", "const": "http"},
                    "method": {"type": "string", "enum": ["POST", "PUT", "PATCH"]},
                    "bodyType": {"type": "string", "enum": ["json", "form-data", "text"]},
                    "body": {"properties": {"input": {"type": "string"}, "limit": {"type": "integer"}},
                             "required": ["input"]}},
                 "required": ["type", "method", "bodyType", "body"], "additionalProperties": False})

    def accepts(self, atomic: int, pay_to: str) -> list[dict[str, Any]]:
        nets = NETWORKS if self.two_networks else NETWORKS[:1]
        return [{"scheme": "exact", "network": caip2, "asset": asset, "amount": str(atomic), "payTo": pay_to,
                 "maxTimeoutSeconds": 300, "extra": {"name": name, "version": "2"}} for caip2, asset, name in nets]

    def bazaar(self) -> dict[str, Any]:
        inp, inp_schema = self.input_hints()
        example = {"results": [{"id": 1, "value": self.word, "score": 0.9}], "count": 1}
        return {"info": {"input": inp, "output": {"type": "json", "example": example}},
                "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                           "properties": {"input": inp_schema,
                                          "output": {"type": "object", "properties": {"type": {"type": "string"},
                                                                                      "example": {"type": "object"}},
                                                     "required": ["type"]}},
                           "required": ["input"]}}

    def payment_required(self, atomic: int, pay_to: str) -> dict[str, Any]:
        """The v2 PaymentRequired object its server sends (the x402 SDK's shape)."""
        return {"x402Version": 2, "error": "Payment required",
                "resource": {"url": self.url, "description": self.description, "mimeType": "application/json",
                             "serviceName": f"Provider {self.origin}", "tags": [self.cat]},
                "accepts": self.accepts(atomic, pay_to), "extensions": {"bazaar": self.bazaar()}}

    def listing_source(self) -> dict[str, Any]:
        """The facilitator source the spider attaches to the probe: the listing's claims included."""
        item = {"resource": self.url, "type": "http", "x402Version": 2, "lastUpdated": "2026-10-01T00:00:00Z",
                "accepts": self.accepts(self.atomic, self.pay_to), "extensions": {"bazaar": self.bazaar()}}
        cand = item_candidate(item, source_of("facilitator", FACILITATOR), "", 2)
        assert cand is not None
        return _source_with_claims(cand) or {}


def homepage(origin: int, specs: list[Spec]) -> str:
    items = "".join(f"<li><code>{s.method} {escape(s.path)}</code> — {escape(s.description)}</li>" for s in specs)
    ld = json.dumps({"@context": "https://schema.org", "@type": "Organization", "name": f"Provider {origin}",
                     "url": specs[0].base, "description": f"Pay-per-call APIs of provider {origin}"})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provider {origin}</title>
<meta name="description" content="Pay-per-call APIs of provider {origin}, settled over x402.">
<meta property="og:title" content="Provider {origin}"><link rel="icon" type="image/png" href="/favicon.png">
<script type="application/ld+json">{ld}</script></head><body>
<h1>Provider {origin}</h1><h2>Endpoints</h2><ul>{items}</ul><p><a href="/docs">API docs</a></p></body></html>"""


def docs_page(origin: int, specs: list[Spec]) -> str:
    """One section per endpoint: METHOD /path heading, field table, curl example, JSON response."""
    sections = []
    for s in specs:
        inp, _ = s.input_hints()
        if s.method == "GET":
            rows = [("q *", "string", f"What to {s.cat} for"), ("limit", "string", "Results, default 10")]
            curl = f'curl -i "{s.url}?q={s.word}&limit=10"'
        else:
            rows = [("input *", "string", "The text to work on"), ("limit", "integer", "Results, default 10")]
            curl = f'curl -i -X POST "{s.url}" \\\n  -H "Content-Type: application/json" \\\n  -d \'{json.dumps(inp["body"])}\''
        table = "".join(f"<tr><td>{escape(n)}</td><td>{t}</td><td>{escape(d)}</td></tr>" for n, t, d in rows)
        sections.append(f"""<section><h2>{s.method} {escape(s.path)}</h2><p>{escape(s.description)}</p>
<p>Price: ${s.atomic / 1e6:.6f} USDC per call, paid over x402.</p>
<h3>{"Query parameters" if s.method == "GET" else "Request body (application/json)"}</h3>
<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>{table}</tbody></table>
<h3>Example request</h3><pre><code class="language-bash">{escape(curl)}</code></pre>
<h3>Response</h3><pre><code class="language-json">{escape(json.dumps({"results": [{"id": 1, "value": s.word}]}, indent=2))}</code></pre>
</section>""")
    body = "\n".join(sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Provider {origin} API docs</title></head>
<body><h1>Provider {origin} API reference</h1>{body}</body></html>"""


class Probes:
    """The spider's probe items for each resource and crawl (parsed challenges cached by terms)."""

    def __init__(self, specs: list[Spec], crawls: int, rng: random.Random) -> None:
        self.specs, self.crawls, self.rng = specs, crawls, rng
        self.cache: dict[tuple[int, int, str], tuple[dict[str, str], dict[str, Any]]] = {}
        self.sources = {s.i: [s.listing_source()] for s in specs}

    def terms(self, s: Spec, k: int) -> tuple[int, str]:
        """Price and payTo at crawl k: 2% double their price halfway, 0.2% move their payTo late."""
        atomic = s.atomic * 2 if s.i % 50 == 7 and k >= self.crawls // 2 else s.atomic
        pay_to = "0x" + "9" * 40 if s.i % 500 == 11 and k >= self.crawls - 2 else s.pay_to
        return atomic, pay_to

    def outcome(self, s: Spec, k: int) -> str:
        """paid, or trouble: ~3% timeouts; 0.5% down for the last two crawls; 0.5% down once, then back."""
        if k == 0:
            return "paid"  # every resource answered once: the catalog has exactly N records
        if (s.i % 200 == 3 and k >= self.crawls - 2) or (s.i % 200 == 5 and k == self.crawls // 2):
            return "server_error"
        return "timeout" if self.rng.random() < 0.03 else "paid"

    def challenge(self, s: Spec, atomic: int, pay_to: str) -> tuple[dict[str, str], dict[str, Any]]:
        key = (s.i, atomic, pay_to)
        if key not in self.cache:
            header = base64.b64encode(json.dumps(s.payment_required(atomic, pay_to), separators=(",", ":")).encode()).decode()
            headers = {"content-type": "application/json", "payment-required": header, "server": "uvicorn",
                       "date": "Sat, 05 Dec 2026 10:00:00 GMT", "content-length": "2"}
            parsed = parse_challenge(402, headers, b"{}", probed_url=s.url)
            assert parsed.usable, parsed.findings
            self.cache[key] = headers, parsed.model_dump(mode="json")
        return self.cache[key]

    def items(self, s: Spec, k: int, at: datetime) -> list[dict[str, Any]]:
        """The items of one probe: one per attempt, as `ProbeSpider._item` makes them."""
        outcome = self.outcome(s, k)
        base = {"kind": "probe", "url": s.url, "robots": ROBOTS_POLICY, "final_url": None,
                "sources": self.sources[s.i], "resource_method": s.method, "final": True}
        out = []
        if s.probed_405:
            out.append({**base, "method": "GET", "attempt": 0, "attempt_why": "default", "final": False,
                        "observed_at": at.isoformat(), "outcome": "method_not_allowed", "http_status": 405,
                        "latency_ms": 35.0, "error_code": None, "headers": {"allow": "POST"}, "body": None,
                        "challenge": None})
            at += timedelta(milliseconds=50)
        attempt = {**base, "method": s.method, "attempt": len(out), "attempt_why": "declared", "observed_at": at.isoformat(),
                   "outcome": outcome}
        if outcome == "paid":
            headers, challenge = self.challenge(s, *self.terms(s, k))
            attempt.update(http_status=402, latency_ms=round(self.rng.lognormvariate(4.5, 0.6), 1), error_code=None,
                           headers=headers, body="{}", challenge=challenge)
        elif outcome == "server_error":
            attempt.update(http_status=503, latency_ms=20.0, error_code=None, headers={"content-type": "text/plain"},
                           body="upstream unavailable", challenge=None)
        else:
            attempt.update(http_status=None, latency_ms=None, error_code="timeout", headers={}, body=None, challenge=None)
        out.append(attempt)
        return out


def record_in_batches(engine: Any, items: Iterable[dict[str, Any]], run_id: int) -> None:
    """Probe items written through the crawler's write path, BATCH at a time, as the writer process does."""
    batch: list[dict[str, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            record_probes(engine, batch, crawl_run_id=run_id)
            batch = []
    if batch:
        record_probes(engine, batch, crawl_run_id=run_id)


def fill(db_url: str, n: int, per_origin: int, crawls: int, seed: int) -> None:
    """Write the synthetic store through the crawler's write path (see the module docstring)."""
    engine = init_db(db_url)
    rng = random.Random(seed)
    words = list(category_words().values())
    specs = [Spec(i, per_origin, words, rng) for i in range(n)]
    by_origin: dict[int, list[Spec]] = {}
    for s in specs:
        by_origin.setdefault(s.origin, []).append(s)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    start = end - SPAN
    t = time.perf_counter()
    pages = []
    for o, members in by_origin.items():
        for kind, url, html in (("homepage", members[0].base + "/", homepage(o, members)),
                                ("docs", members[0].base + "/docs", docs_page(o, members))):
            pages.append({"kind": "page", "origin": members[0].base, "url": url, "page_kind": kind,
                          "fetched_at": start.isoformat(), "status": 200, "error_code": None,
                          "content_type": "text/html; charset=utf-8",
                          "extracted": extract_page(html.encode(), url, "text/html; charset=utf-8")})
    for k in range(0, len(pages), BATCH):
        record_origin_pages(engine, pages[k:k + BATCH])
    print(f"  {len(pages)} origin pages of {len(by_origin)} origins: {time.perf_counter() - t:.1f} s", flush=True)
    probes = Probes(specs, crawls, rng)
    for k in range(crawls):
        t = time.perf_counter()
        crawl_start = start + SPAN * k / max(1, crawls - 1)
        run_id = begin_run(engine, "full" if k == 0 else "incremental")
        record_in_batches(engine, (item for j, s in enumerate(specs)
                                    for item in probes.items(s, k, crawl_start + CRAWL_LENGTH * j / n)), run_id)
        counts = finish_run(engine, run_id, {"bench": True})
        changed = {kind: c for kind, c in counts.items() if c}
        print(f"  crawl {k + 1}/{crawls} at {crawl_start:%Y-%m-%d %H:%M}: {time.perf_counter() - t:.1f} s, changes {changed}",
              flush=True)
    dispose_engine(db_url)


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class GcClock:
    """Seconds spent in the garbage collector while installed (gc.callbacks), and collections per generation."""

    def __init__(self) -> None:
        self.seconds, self.collections, self._t = 0.0, [0, 0, 0], 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._t
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcClock:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: Any) -> None:
        gc.callbacks.remove(self)


def where(key: tuple[str, int, str]) -> str:
    """file:line(function), the path relative to the repository or to site-packages."""
    path, line, func = key
    for prefix in (str(ROOT) + os.sep, "site-packages" + os.sep, "lib" + os.sep + "python3"):
        if prefix in path:
            path = path.split(prefix, 1)[1]
            break
    return f"{path}:{line}({func})"


def print_top(stats: pstats.Stats, sort: str, limit: int) -> None:
    column = {"cumulative": 3, "tottime": 2}[sort]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][column], reverse=True)[:limit]  # type: ignore[attr-defined]
    print(f"\ntop {limit} by {sort}:\n{'ncalls':>10} {'tottime':>8} {'cumtime':>8}  function")
    for key, (_cc, nc, tt, ct, _callers) in rows:
        print(f"{nc:>10} {tt:>8.3f} {ct:>8.3f}  {where(key)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000, help="resources (default 20,000)")
    parser.add_argument("--per-origin", type=int, default=20, help="resources per origin (default 20)")
    parser.add_argument("--crawls", type=int, default=8, help="crawl runs over the last 30 days (default 8)")
    parser.add_argument("--db", type=Path, default=None, help="SQLite file (default bench/out/catalog-N.db)")
    parser.add_argument("--reuse", action="store_true", help="time an existing --db as it is (no fill)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile run")
    parser.add_argument("--top", type=int, default=30, help="profile rows printed per ordering")
    parser.add_argument("--seed", type=int, default=402)
    args = parser.parse_args(argv)
    db = args.db or ROOT / "bench" / "out" / f"catalog-{args.n}.db"
    db_url = f"sqlite:///{db}"

    if not (args.reuse and db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        print(f"filling {db} with {args.n} resources, {args.crawls} crawls (not timed)", flush=True)
        t = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(
            target=fill, args=(db_url, args.n, args.per_origin, args.crawls, args.seed))
        child.start()
        child.join()
        if child.exitcode != 0:
            print(f"error: the fill failed (exit code {child.exitcode})", file=sys.stderr)
            return 1
        print(f"filled in {time.perf_counter() - t:.1f} s; {db.stat().st_size / 1e6:.0f} MB", flush=True)

    engine = init_db(db_url)
    with no_collections():  # as the build pipeline (index.publish) runs it
        build_records(engine, site_url=SITE)  # warm: imports, caches, the file in the page cache
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    with GcClock() as gc_clock, no_collections():
        t, c = time.perf_counter(), cpu_s()
        records = build_records(engine, site_url=SITE)
        wall, cpu = time.perf_counter() - t, cpu_s() - c
    n = len(records)
    per_record_ms = 1000 * wall / n if n else None
    print(f"build_records: {n} records in {wall:.2f} s ({cpu:.2f} CPU s, {gc_clock.seconds:.2f} s in the GC, "
          f"collections {gc_clock.collections}) · {n / wall:,.0f} records/s · {per_record_ms:.3f} ms per record",
          flush=True)
    cats: dict[str, int] = {}
    for r in records:
        cats[r.category] = cats.get(r.category, 0) + 1
    print(f"  categories: {dict(sorted(cats.items()))}; tiers: "
          f"{ {t: sum(1 for r in records if r.trust_tier == t) for t in sorted({r.trust_tier for r in records})} }")
    if FALLBACK in cats or (n != args.n and not args.reuse):
        print(f"warning: expected {args.n} records in the taxonomy's categories", file=sys.stderr)
    del records
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    profiled_s = None
    if not args.no_profile:
        profiler = cProfile.Profile()
        t = time.perf_counter()
        with no_collections():
            profiler.runcall(build_records, engine, site_url=SITE)
        profiled_s = time.perf_counter() - t
        prof = ROOT / "bench" / "out" / f"catalog-{args.n}.prof"
        prof.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(prof)
        stats = pstats.Stats(profiler)
        print(f"\ncProfile run: {profiled_s:.2f} s (saved to {prof.relative_to(ROOT)})")
        print_top(stats, "cumulative", args.top)
        print_top(stats, "tottime", args.top)
        print()
    dispose_engine(db_url)
    if not args.keep and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(json.dumps({"records": n, "build_records_s": round(wall, 3), "cpu_s": round(cpu, 3),
                      "per_record_ms": round(per_record_ms, 4) if per_record_ms else None,
                      "records_per_s": round(n / wall) if wall else None, "gc_s": round(gc_clock.seconds, 3),
                      "peak_rss_mb": round(peak_mb), "profiled_s": round(profiled_s, 2) if profiled_s else None,
                      "crawls": args.crawls, "per_origin": args.per_origin,
                      "load_avg": [round(x, 2) for x in load]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
