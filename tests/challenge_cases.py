"""Golden challenge fixtures: tests/fixtures/challenges/<case>/{response.json, expected.json}.

`summarize` is the view of a parse result that expected.json pins down; adding a case is adding a
folder (write its expected.json by hand, or draft it with `python -m tests.challenge_cases CASE`
and then check every value against the response before committing it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from index.x402 import Challenge, parse_challenge

CASES_DIR = Path(__file__).parent / "fixtures" / "challenges"


def load_response(case: Path) -> tuple[int, dict[str, str], bytes]:
    raw = json.loads((case / "response.json").read_text())
    return raw["status"], raw["headers"], raw["body"].encode("utf-8")


def summarize(ch: Challenge) -> dict[str, Any]:
    return {
        "x402_version": ch.x402_version,
        "source": ch.source,
        "usable": ch.usable,
        "resource_url": ch.resource.url,
        "hints_source": ch.hints.get("source"),
        "accepts": [
            {k: getattr(a, k) for k in ("scheme", "network", "network_caip2", "amount_atomic", "asset", "pay_to", "max_timeout_seconds")}
            for a in ch.accepts
        ],
        "finding_codes": sorted(f["code"] for f in ch.findings),
    }


if __name__ == "__main__":
    case = CASES_DIR / sys.argv[1]
    print(json.dumps(summarize(parse_challenge(*load_response(case))), indent=2))
