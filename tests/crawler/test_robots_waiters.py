"""robots.txt holds for every request that waited for it (scrapy/scrapy 2.19: only the first waiter
got the rules, later ones got None = allow). A crawl meets an origin whose robots.txt says
`Disallow: /`; its discovery asks for several files at once; none that obeys robots is fetched."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from index.demo.hostile2 import HostileServers
from tests.conftest import FAST, run_cli

import pytest

pytestmark = pytest.mark.e2e  # starts processes or servers (make test-fast leaves it out)

OBEYING = {"/", "/llms.txt", "/openapi.json", "/openapi.yaml"}  # crawler.spiders.origins: robots obeyed


def _crawl_hits(tmp_path: Path, *extra: str) -> dict[str, int]:
    with HostileServers() as urls:
        base = urls["robots"]
        run_cli("crawl", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--allow-host", "127.0.0.1", "--quiet",
                "--seed", f"GET {base}/status-999", *FAST, "-s", "DOWNLOAD_TIMEOUT=5", *extra, cwd=tmp_path)
        with urllib.request.urlopen(base + "/__hits", timeout=5) as resp:  # noqa: S310 - loopback
            return json.load(resp)


def test_every_first_request_to_a_host_obeys_disallow_all(tmp_path: Path) -> None:
    hits = _crawl_hits(tmp_path)
    assert hits.get("/robots.txt") == 1
    assert hits.get("/status-999", 0) >= 1  # the probe: a listed endpoint, robots not consulted
    assert any(path.startswith("/.well-known/") for path in hits)  # read by x402 clients, robots not consulted
    assert not OBEYING & set(hits), hits


def test_scrapys_own_middleware_lets_later_waiters_through(tmp_path: Path) -> None:
    """The upstream behaviour this works around, so the test above cannot pass by accident."""
    stock = json.dumps({"crawler.middlewares.RobotsTxtMiddleware": None,
                        "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": 100,
                        "crawler.middlewares.SSRFGuardMiddleware": 50,
                        "crawler.middlewares.RetryAfterMiddleware": 580})
    hits = _crawl_hits(tmp_path, "-s", f"DOWNLOADER_MIDDLEWARES={stock}")
    assert OBEYING & set(hits), hits
