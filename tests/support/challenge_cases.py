"""Golden challenge fixtures: tests/fixtures/challenges/<case>/{response.json, expected.json}.

`summarize` is the view of a parse result that expected.json pins down; adding a case is adding a
folder (write its expected.json by hand, or draft it with `python -m tests.support.challenge_cases CASE`
and then check every value against the response before committing it).

response.json holds `status`, `headers` (name → value) and `body` (text), plus optionally:
- `header_objects`: name → JSON value, sent base64-encoded (readable v2 fixtures);
- `header_json_text`: name → JSON text, sent base64-encoded (for text that is no JSON value yet);
- `body_object`: a JSON value sent as the body; `body_base64`: raw body bytes (invalid UTF-8);
- `expand`: name → {"repeat": text, "times": n}; every `{{name}}` in header values, the body, or the
  JSON text of header_objects / header_json_text / body_object becomes text × n (megabyte cases stay small);
- `probed_url`: passed to parse_challenge.
"""

from __future__ import annotations

from tests.support import FIXTURES
import base64
import json
import sys
from pathlib import Path
from typing import Any

from index.protocol.challenge import parse_challenge
from index.protocol.models import Challenge

CASES_DIR = FIXTURES / "challenges"
ACCEPT_FIELDS = ("scheme", "network", "network_caip2", "amount_atomic", "asset", "pay_to", "max_timeout_seconds")


def _expander(raw: dict[str, Any]) -> Any:
    spec = raw.get("expand") or {}

    def expand(text: str) -> str:
        for name, rule in spec.items():
            text = text.replace("{{" + name + "}}", rule["repeat"] * rule["times"])
        return text

    return expand


def load_case(case: Path) -> tuple[int, dict[str, str], bytes, str | None]:
    """(status, headers, body, probed_url) of a fixture folder."""
    raw = json.loads((case / "response.json").read_text())
    expand = _expander(raw)
    headers = {name: expand(value) for name, value in (raw.get("headers") or {}).items()}
    texts = {name: json.dumps(obj, separators=(",", ":")) for name, obj in (raw.get("header_objects") or {}).items()}
    texts.update(raw.get("header_json_text") or {})
    for name, text in texts.items():
        headers[name] = base64.b64encode(expand(text).encode("utf-8")).decode("ascii")
    if "body_base64" in raw:
        body = base64.b64decode(raw["body_base64"])
    elif "body_object" in raw:
        body = expand(json.dumps(raw["body_object"])).encode("utf-8")
    else:
        body = expand(raw.get("body", "")).encode("utf-8")
    return raw["status"], headers, body, raw.get("probed_url")


def load_response(case: Path) -> tuple[int, dict[str, str], bytes]:
    status, headers, body, _ = load_case(case)
    return status, headers, body


def parse_case(case: Path) -> Challenge:
    status, headers, body, probed_url = load_case(case)
    return parse_challenge(status, headers, body, probed_url=probed_url)


def summarize(ch: Challenge) -> dict[str, Any]:
    inp = ch.hints.get("input") or {}
    return {
        "x402_version": ch.x402_version,
        "source": ch.source,
        "usable": ch.usable,
        "resource_url": ch.resource.url,
        "hints_source": ch.hints.get("source"),
        "hints_input": {k: inp[k] for k in ("type", "method", "bodyType", "toolName") if k in inp},
        "hints_input_schema": "input_schema" in ch.hints,
        "accepts": [{k: getattr(a, k) for k in ACCEPT_FIELDS} for a in ch.accepts],
        "finding_codes": sorted(f["code"] for f in ch.findings),
    }


if __name__ == "__main__":
    print(json.dumps(summarize(parse_case(CASES_DIR / sys.argv[1])), indent=2))
