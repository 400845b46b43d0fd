"""Check that the bench's set-based store prototype writes what `index.store.record_probes` writes.

    .venv/bin/python bench/check_bulkstore.py

Two fresh SQLite files get the same batches (new and known resources, two origins, a resource seen
twice in one batch, failed probes after paid ones, a verified option whose terms stay or change);
their tables are compared row by row, ids replaced by natural keys. Exit status 1 on any difference.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulkstore  # noqa: E402
from index import store  # noqa: E402


USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"


def _probe(url: str, outcome: str, minute: int, amount: str = "1000", method: str = "GET", asset: str = "0xA",
           **plan: Any) -> dict[str, Any]:
    challenge = None
    if outcome == "paid":
        challenge = {
            "x402_version": 2, "source": "header", "error": None,
            "resource": {"url": url, "description": f"d {url}", "mime_type": "application/json", "service_name": None,
                         "tags": ["t"], "icon_url": None},
            "accepts": [{"scheme": "exact", "network": "eip155:84532", "network_caip2": "eip155:84532",
                         "amount_atomic": amount, "asset": asset, "pay_to": "0xB", "max_timeout_seconds": 300,
                         "mime_type": None, "description": None, "extra": {"name": "USDC"}},
                        {"scheme": "exact", "network": "eip155:8453", "network_caip2": "eip155:8453",
                         "amount_atomic": "5", "asset": "0xC", "pay_to": "0xB", "max_timeout_seconds": 60,
                         "mime_type": None, "description": None, "extra": {}}],
            "extensions": {}, "hints": {"source": "bazaar", "input": {"q": 1}}, "findings": [],
        }
    return {
        "kind": "probe", "url": url, "method": method, "observed_at": f"2026-01-01T00:{minute:02d}:00+00:00",
        "outcome": outcome, "http_status": 402 if outcome == "paid" else None, "latency_ms": 1.5,
        "error_code": None if outcome == "paid" else "TimeoutError", "headers": {"a": "b"}, "body": "{}",
        "challenge": challenge, "sources": [{"kind": "seed", "url": f"s{minute % 2}"}], **plan,
    }


BATCHES = [
    [_probe("https://a.example/r/1", "paid", 1), _probe("https://a.example/r/2", "paid", 2),
     _probe("https://b.example/x", "timeout", 3), _probe("https://a.example/r/1", "paid", 4, amount="2000")],
    [_probe("https://a.example/r/1", "timeout", 5), _probe("https://a.example/r/2", "paid", 6),
     _probe("https://b.example/x", "paid", 7), _probe("https://c.example/", "paid", 8, method="POST"),
     # a source that declared other terms than the live 402 (declared-vs-live findings)
     {**_probe("https://b.example/x", "paid", 12, asset=USDC_BASE_SEPOLIA),
      "sources": [{"kind": "openapi", "url": "https://b.example/openapi.json",
                   "declared": {"price_usd": "5.00"}}]},
     _probe("https://a.example/r/2", "paid", 9, amount="3000"),
     # a probe that asked GET, was refused, and got its 402 by POST (plan fields of the working tree)
     _probe("https://d.example/p", "method_not_allowed", 10, resource_method="POST", final=False, attempt=0,
            robots="not_consulted:listed_endpoint"),
     _probe("https://d.example/p", "paid", 11, method="POST", resource_method="POST", final=True, attempt=1,
            final_url="https://d.example/p2")],
]


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        res_key = {rid: (url, method) for rid, url, method in conn.execute("SELECT id, url, method FROM resources")}
        obs_key = {oid: (res_key[rid], at) for oid, rid, at in conn.execute("SELECT id, resource_id, observed_at FROM observations")}
        out: dict[str, list[tuple[Any, ...]]] = {}
        out["origins"] = sorted(conn.execute("SELECT url, host, slug, first_seen, last_seen FROM origins"))
        out["resources"] = sorted(
            tuple(row[:-1]) + (obs_key.get(row[-1]),)
            for row in conn.execute(
                "SELECT url, method, slug, status, last_probed_at, x402_version, resource_url, description, mime_type,"
                " service_name, (SELECT url FROM origins WHERE origins.id = origin_id),"
                " tags, hints, findings, last_paid_at, sources, first_seen, last_seen, last_good_observation_id"
                " FROM resources"))
        columns = {row[1] for row in conn.execute("PRAGMA table_info(observations)")}
        plan = "".join(f", {c}" for c in ("attempt", "final_url", "robots") if c in columns)
        out["observations"] = sorted(
            (res_key[row[0]],) + tuple(row[1:])
            for row in conn.execute(
                "SELECT resource_id, observed_at, method, outcome, http_status, latency_ms, error_code, x402_version, crawl_run_id,"
                f" raw_headers, raw_body, parsed, findings{plan} FROM observations"))
        out["payment_options"] = sorted(
            (res_key[row[0]],) + tuple(row[1:])
            for row in conn.execute(
                "SELECT resource_id, position, scheme, network, network_caip2, asset, pay_to, amount_atomic,"
                " max_timeout_seconds, mime_type, description, extra, verified, verified_at, updated_at"
                " FROM payment_options"))
    return out


def _verify_first_option(path: Path) -> None:
    """A test-buy verified https://a.example/r/2's first option (its terms change in batch 2)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE payment_options SET verified = 1, verified_at = '2026-01-01 00:30:00' WHERE position = 0")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        paths = {name: Path(tmp) / f"{name}.db" for name in ("project", "bulk")}
        writers = {"project": store.record_probes, "bulk": bulkstore.record_probes}
        results = {}
        for name, path in paths.items():
            engine = store.init_db(f"sqlite:///{path}")
            counts = [writers[name](engine, BATCHES[0])]
            engine.dispose()
            _verify_first_option(path)
            counts.append(writers[name](engine, BATCHES[1]))
            engine.dispose()
            results[name] = (counts, _dump(path))
        same = True
        for table in results["project"][1]:
            a, b = results["project"][1][table], results["bulk"][1][table]
            if a != b:
                same = False
                only_a = [row for row in a if row not in b][:2]
                only_b = [row for row in b if row not in a][:2]
                print(f"{table} differs ({len(a)} vs {len(b)} rows); first rows only in\n"
                      f"  project: {only_a}\n  bulk:    {only_b}")
        if results["project"][0] != results["bulk"][0]:
            same = False
            print(f"counts differ: {results['project'][0]} vs {results['bulk'][0]}")
        rows = {t: len(v) for t, v in results["project"][1].items()}
        print(("same rows" if same else "DIFFERENT") + f" ({rows})")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
