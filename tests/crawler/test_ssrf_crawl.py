"""The SSRF guard in a real crawl: every private form is refused before a socket opens.

A hit-counting server on 127.0.0.2 stands in for the internal address an attacker aims at; names
under `.test` resolve through a stub resolver (no real DNS). The fleet's own host, 127.0.0.1, is the
only one let through (`--allow-host`), exactly as `make demo` runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.conftest import run_cli
from tests.support.hitcounter import HitCounter

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s", "DOWNLOAD_TIMEOUT=5"]
STUB = ["-s", "TWISTED_DNS_RESOLVER=tests.support.stub_resolver.StubResolver"]


def test_no_request_reaches_a_blocked_address(fleet: dict[str, Any], tmp_path: Path) -> None:
    control = next(r for r in fleet["resources"] if r.get("paid") and r["method"] == "GET")
    with HitCounter("127.0.0.2") as counter:
        p = counter.port
        blocked = {
            f"http://metadata.test:{p}/latest/meta-data/": "ssrf:resolves_to_reserved",
            f"http://private.test:{p}/x": "ssrf:resolves_to_private",
            f"http://cgnat.test:{p}/x": "ssrf:resolves_to_reserved",
            f"http://counter.test:{p}/x": "ssrf:resolves_to_loopback",
            f"http://127.0.0.2:{p}/x": "ssrf:loopback",
            f"http://2130706434:{p}/x": "ssrf:loopback",  # decimal
            f"http://0x7f.0.0.2:{p}/x": "ssrf:loopback",  # hex
            f"http://127.2:{p}/x": "ssrf:loopback",  # short
            f"http://[::ffff:127.0.0.2]:{p}/x": "ssrf:loopback",  # IPv4-mapped IPv6
            f"http://[64:ff9b::7f00:2]:{p}/x": "ssrf:loopback",  # NAT64
            f"http://localhost:{p}/x": "ssrf:loopback",
            f"http://169.254.169.254/latest/meta-data/": "ssrf:reserved",
            "http://127.0.0.2:22/x": "ssrf:bad_port",
        }
        seeds = [arg for url in [*blocked, control["url"]] for arg in ("--seed", url)]
        db = tmp_path / "ssrf.db"
        # Origin seeds too: their discovery requests (well-known, OpenAPI, homepage) face the same guard.
        origin_seeds = ["--seed", f"http://metadata.test:{p}", "--seed", f"http://127.0.0.2:{p}/"]
        run_cli("crawl", "--db", f"sqlite:///{db}", "--allow-host", "127.0.0.1", "--quiet", *seeds, *origin_seeds,
                *FAST, *STUB, cwd=tmp_path)
        assert counter.hits == 0
    con = sqlite3.connect(db)
    rows = con.execute("select r.url, r.status, o.error_code from resources r join observations o on o.resource_id = r.id").fetchall()
    from index.urls import canonical_url

    by_url = {url: (status, code) for url, status, code in rows}
    for url, code in blocked.items():
        assert by_url[canonical_url(url)] == ("blocked", code), url
    assert by_url[canonical_url(control["url"])][0] == "paid"
