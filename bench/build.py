"""Site build benchmark: N synthetic catalog records → a full build, then a build with 1% of the
records changed (incremental), then pagefind's indexer over the result, then a rebuild with every
record changed (what a scheduled build after a crawl does), each timed on its own.

    .venv/bin/python bench/build.py                 # 100,000 records (the issue's size)
    .venv/bin/python bench/build.py --n 20000 --workers 1

The records are made in memory before any clock starts (building 100k pydantic records is the
catalog's cost, not the site's). They look like the demo fleet's: one or two accepts with bazaar
hints, three health windows, three sources, JSON-LD, 20 resources per origin, the taxonomy's
categories, prices spread over six decades. Output goes to bench/out/site (ignored by git).
The last line printed is one JSON object: {"records", "full_s", "incremental_s", "search_index_s",
"rebuild_s", "detect_floor_s", ...}; detect_floor_s is the time to serialize and hash every record in
one process, the least an incremental build handed records (and no change stamps) must spend.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.catalog.categories import categories  # noqa: E402
from index.catalog.jsonld import json_ld  # noqa: E402
from index.catalog.record import (  # noqa: E402
    AcceptRecord,
    BuyInstructions,
    CatalogRecord,
    Conformance,
    Health,
    HealthWindow,
    Hints,
    OriginRef,
    PricingSanity,
    SourceRef,
)
from index.site.search import build_search_index  # noqa: E402
from index.gcpolicy import no_collections  # noqa: E402
from index.site.build import build_site  # noqa: E402

SITE = "https://x402-index.example"
NETWORKS = [("eip155:8453", "base", "Base", False, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"),
            ("eip155:84532", "base-sepolia", "Base Sepolia", True, "0x036CbD53842c5426634e7929541eC2318f3dCF7e")]
WORDS = ("forecast weather city price token wallet risk news search embeddings chat image summary quote "
         "market volume score index report data geocode translate transcribe storage upload").split()
AT = "2026-11-20T10:00:00Z"


def make_record(i: int, rng: random.Random, cats: list[str]) -> CatalogRecord:
    origin = i // 20
    host = f"api{origin}.example.com"
    words = rng.sample(WORDS, 3)
    path = f"/v1/{words[0]}-{words[1]}-{i}"
    url = f"https://{host}{path}"
    slug = f"{host.replace('.', '-')}-v1-{words[0]}-{words[1]}-{i}"
    title = f"Provider {origin} · {words[0].capitalize()} {words[1]} {i}"
    summary = f"{words[0].capitalize()} {words[1]} and {words[2]} for agents, paid per call (resource {i})."
    cat = cats[i % len(cats)]
    usd = round(10 ** rng.uniform(-6, 0), 6) or 0.000001
    atomic = str(max(1, int(usd * 1_000_000)))
    hints = Hints(input={"type": "http", "method": "GET", "queryParams": {"q": words[2], "limit": 10}},
                  output={"type": "json", "example": {"results": [{"id": 1, "value": words[2]}]}}, source="bazaar")
    nets = NETWORKS[: 1 + i % 2]
    accepts = [AcceptRecord(scheme="exact", network=caip2, network_caip2=caip2, network_name=name, testnet=testnet,
                            pay_to=f"0x{i:040x}", asset=asset, asset_symbol="USDC", asset_decimals=6,
                            max_amount_required_atomic=atomic, amount=f"{int(atomic) / 1e6:.6f}".rstrip("0").rstrip("."),
                            price_usd=usd, max_timeout_seconds=300, hints=hints)
               for caip2, _v1, name, testnet, asset in nets]
    page = f"{SITE}/r/{slug}.html"
    window = HealthWindow(window="24h", samples=24, up=23, uptime_pct=95.83, p50_latency_ms=120.5, p95_latency_ms=410.0)
    return CatalogRecord(
        generated_at=AT, slug=slug, title=title, url=url, category=cat, summary=summary,
        seo={"title": f"{words[0]} API | Provider {origin} | x402", "description": summary},
        use_cases=[f"Call {words[0]} from an agent", f"Pay per {words[1]} lookup"], ideal_buyer="Agents.",
        example_prompt=f"Get {words[0]} for {words[2]}.", example_request_body=None, risk_notes=[],
        pricing_sanity=PricingSanity(flag="normal", ratio=1.0, median_category_atomic=int(atomic), peers=50, decimals=6),
        pricing_review_required=False, pricing_decimal_suspect=False, trust_tier="conformant",
        trust_reasons=["latest probe: usable 402", "no conformance errors", "origin identified from its pages"],
        accepts=accepts,
        origin=OriginRef(slug=host.replace(".", "-"), host=host, url=f"https://{host}", title=f"Provider {origin}",
                         description=f"APIs of provider {origin}"),
        json_ld=json_ld(slug=slug, name=title, description=summary, url=url, category=cat, page=page,
                        origin_page=f"{SITE}/o/{host.replace('.', '-')}.html", origin_url=f"https://{host}",
                        origin_name=f"Provider {origin}", status="paid",
                        offer={"price": accepts[0].amount, "currency": "USDC", "network": nets[0][0], "asset": nets[0][4]},
                        buy_target=f"{page}#test-buy"),
        test_buy=BuyInstructions(command=f"x402-index test-buy {slug}", pay_command=f"x402-index test-buy {slug} --pay",
                                 page=f"{page}#test-buy"),
        conformance=Conformance(grade="A"), status="paid", x402_version=2,
        networks=sorted(n[0] for n in nets), price_usd=usd, first_seen=f"2026-{1 + i % 11:02d}-{1 + i % 28:02d}T00:00:00Z",
        last_seen=AT, last_probed_at=AT, last_paid_at=AT, tags=[words[0], words[1]],
        health=Health(window_end=AT, windows=[window, window.model_copy(update={"window": "7d"}),
                                              window.model_copy(update={"window": "30d"})]),
        sources=[SourceRef(kind="facilitator", url="https://facilitator.example/discovery/resources", first_seen=AT, last_seen=AT),
                 SourceRef(kind="well_known", url=f"https://{host}/.well-known/x402", first_seen=AT, last_seen=AT),
                 SourceRef(kind="docs", url=f"https://{host}/docs", first_seen=AT, last_seen=AT)],
        null_reasons={"last_verified": "no successful test-buy of a current accept"},
    )


def changed(record: CatalogRecord, k: int) -> CatalogRecord:
    """A copy with a new summary and price, as a re-crawl would produce."""
    price = round((record.price_usd or 0.001) * 1.5, 6)
    return record.model_copy(update={"summary": f"{record.summary} (updated {k})", "price_usd": price})


def cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the render workers), user + system."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def sys_s() -> float:
    """The kernel's part of cpu_s (file creation, page faults)."""
    t = os.times()
    return t.system + t.children_system


def settle() -> None:
    """Flush dirty pages (untimed), so a build does not pay for the previous step's writeback: a
    scheduled build starts hours after the last one. (It made no measurable difference in the runs of
    bench/README.md; it removes one source of noise.)"""
    t = time.perf_counter()
    os.sync()
    print(f"settled the disk in {time.perf_counter() - t:.1f} s (not timed)", flush=True)


def timed_build(label: str, records: list[CatalogRecord], args: argparse.Namespace) -> tuple[dict, float, float, float]:
    """build_site into args.out, timed: (its counts, wall s, CPU s, kernel CPU s), printed."""
    t, c, k = time.perf_counter(), cpu_s(), sys_s()
    with no_collections():  # as the build pipeline (index.publish) runs it
        counts = build_site(records, args.out, SITE, workers=args.workers)
    wall, cpu, kernel = time.perf_counter() - t, cpu_s() - c, sys_s() - k
    print(f"{label}: {wall:.2f} s ({cpu:.1f} CPU s, {kernel:.1f} in the kernel) · {counts['rendered']} pages rendered, "
          f"{counts['written']} files written, {counts['unchanged']} unchanged", flush=True)
    print(f"  phases (wall s): {counts['phases_s']}", flush=True)
    return counts, wall, cpu, kernel


def detect_floor(records: list[CatalogRecord]) -> float:
    """Wall seconds to serialize every record to its catalog line and hash it, in this process: the least
    an incremental build must do to learn which records changed, when it is handed records and no
    change stamps. Threads do not help (the serializer holds the GIL); forked processes each pay the
    copy-on-write of the records they read (about as much CPU again, bench/README.md)."""
    to_json = CatalogRecord.__pydantic_serializer__.to_json
    blake2b = hashlib.blake2b
    t = time.perf_counter()
    for rec in records:
        blake2b(to_json(rec), digest_size=16).digest()
    return time.perf_counter() - t


def count_files(folder: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(folder))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records (default 100,000)")
    parser.add_argument("--changed", type=float, default=0.01, help="share of records changed for the incremental build")
    parser.add_argument("--workers", type=int, default=None, help="render processes (default: CPU count)")
    parser.add_argument("--no-search", action="store_true", help="skip pagefind")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "site")
    parser.add_argument("--keep", action="store_true", help="keep the built site")
    args = parser.parse_args(argv)

    rng = random.Random(402)
    cats = [c.name for c in categories()]
    t = time.perf_counter()
    records = [make_record(i, rng, cats) for i in range(args.n)]
    records.sort(key=lambda r: r.slug)
    print(f"made {args.n} records in {time.perf_counter() - t:.1f} s (not timed)", flush=True)
    shutil.rmtree(args.out, ignore_errors=True)
    settle()

    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    full, full_s, full_cpu, full_sys = timed_build("full build", records, args)
    pages = full["rendered"]
    print(f"  {pages} resource pages ({pages / full_s:,.0f} pages/s)", flush=True)

    settle()  # the full build's pages written back to disk: not the incremental build's work
    again = list(records)
    picked = rng.sample(range(args.n), max(1, int(args.n * args.changed)))
    for k, i in enumerate(picked):
        again[i] = changed(again[i], k)
    inc, incremental_s, inc_cpu, inc_sys = timed_build(f"incremental build ({len(picked)} records changed)", again, args)
    if inc["rendered"] != len(picked):
        print(f"error: expected {len(picked)} re-rendered pages, got {inc['rendered']}", file=sys.stderr)
        return 1

    detect_s = detect_floor(again)
    print(f"floor of any incremental build that learns what changed from its records: serializing and hashing "
          f"every record takes {detect_s:.2f} s in one process (not a build; untimed above)", flush=True)

    search_s = None
    if not args.no_search:
        done = build_search_index(args.out)
        search_s = done.seconds
        print(f"search index (pagefind, {done.parts} parts): {search_s:.2f} s", flush=True)

    # the scheduled flow: after a crawl every record has changed (its health windows end at the crawl's
    # newest probe), so the build replaces every page of the existing site
    settle()
    rebuilt = [changed(r, len(picked) + k) for k, r in enumerate(again)]
    reb, rebuild_s, reb_cpu, reb_sys = timed_build("rebuild, every record changed", rebuilt, args)
    if reb["rendered"] != args.n:
        print(f"error: expected {args.n} re-rendered pages, got {reb['rendered']}", file=sys.stderr)
        return 1
    files = count_files(args.out)
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps({"records": args.n, "full_s": round(full_s, 2), "incremental_s": round(incremental_s, 2),
                      "search_index_s": round(search_s, 2) if search_s is not None else None,
                      "rebuild_s": round(rebuild_s, 2), "detect_floor_s": round(detect_s, 2),
                      "pages_per_s": round(pages / full_s), "changed": len(picked), "files": files,
                      "workers": args.workers or os.cpu_count(), "full_cpu_s": round(full_cpu, 1), "full_sys_s": round(full_sys, 1),
                      "incremental_cpu_s": round(inc_cpu, 1), "incremental_sys_s": round(inc_sys, 1),
                      "rebuild_cpu_s": round(reb_cpu, 1), "rebuild_sys_s": round(reb_sys, 1), "load_avg": [round(x, 2) for x in load_before]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
