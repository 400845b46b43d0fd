"""A loopback site for the seed docs pages (shared/seeds/001, 003, 004, copied into
tests/fixtures/docs): a homepage linking its docs, the docs page as the real site serves it, and a
paid endpoint whose 402 matches the page (a v2 challenge with no bazaar and no description, as most
real servers send). Also a validate-first origin: a POST endpoint that answers 422 to a body that
lacks its required field, and whose only body schema is in its `/openapi.json`.

Run as `python -m tests.support.seed_site CASE` to crawl one case and print its record's docs-derived fields.
"""

from __future__ import annotations

from tests.support import FIXTURES
import base64
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAY_TO = "0x1111111111111111111111111111111111111111"
USDC_BASE_SEPOLIA = "0x036CbD53842c5426634e7929541eC2318f3dCF7e"

Handler = Callable[[str, bytes], tuple[int, dict[str, str], bytes]]


def payment_required(url: str, description: str = "") -> dict[str, Any]:
    return {"x402Version": 2, "error": "payment required",
            "resource": {"url": url, "description": description, "mimeType": "application/json"},
            "accepts": [{"scheme": "exact", "network": "eip155:84532", "asset": USDC_BASE_SEPOLIA, "amount": "10000",
                         "payTo": PAY_TO, "maxTimeoutSeconds": 300, "extra": {"name": "USDC", "version": "2"}}]}


def paid(url_of: Callable[[], str], path: str, method_paid: str = "POST") -> Handler:
    def handle(method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != method_paid:
            return 405, {"Allow": "POST", "Content-Type": "application/json"}, b'{"error":"method not allowed"}'
        header = base64.b64encode(json.dumps(payment_required(url_of() + path)).encode()).decode()
        return 402, {"PAYMENT-REQUIRED": header, "Content-Type": "application/json"}, b"{}"
    return handle


def static(body: bytes | str, content_type: str) -> Handler:
    data = body.encode() if isinstance(body, str) else body
    return lambda method, _body: (200, {"Content-Type": content_type}, data if method != "HEAD" else b"")


@dataclass
class Site:
    routes: dict[str, Handler] = field(default_factory=dict)
    url: str = ""
    hits: list[tuple[str, str, bytes]] = field(default_factory=list)


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    class H(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            site.hits.append((self.command, self.path, body))
            handler = site.routes.get(path)
            status, headers, data = handler(self.command, body) if handler else (404, {"Content-Type": "text/plain"}, b"not found")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_HEAD = do_PUT = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def _home(links: str) -> Handler:
    return static(f"<!doctype html><html><head><title>Chat API</title></head><body><h1>Chat API</h1>{links}</body></html>",
                  "text/html; charset=utf-8")


# The chat request schema behind seed 004's `{% openapi src="openapi.yaml" %}` (the page does not carry
# it; this is the shape its Message Format section describes, as the site's OpenAPI file would).
SEED_004_OPENAPI = """openapi: 3.0.3
info:
  title: Chat API
  version: "1.0"
paths:
  /v1/chat/completions:
    post:
      summary: Create a chat completion
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [model, messages]
              properties:
                model:
                  type: string
                  description: Model id, e.g. openai/gpt-4o-mini
                messages:
                  type: array
                  description: The conversation so far
                  items:
                    type: object
                    properties:
                      role: {type: string, enum: [system, user, assistant, tool]}
                      content: {type: string}
                stream:
                  type: boolean
                  default: false
                  description: Stream the answer as Server-Sent Events
      responses:
        "402":
          description: Payment Required
"""


def seed_site(case: str) -> tuple[Site, str, str]:
    """(site, resource path, docs page path) of one seed docs page: 001 (text), 003 (text), 004 (markdown + its OpenAPI)."""
    site = Site()
    url_of = lambda: site.url  # noqa: E731
    docs = FIXTURES / "docs"
    if case == "001":
        page, path, docs_path, ctype = docs / "agent402_chat_text" / "page.txt", "/v1/chat/completions", "/docs", "text/plain"
    elif case == "003":
        page, path, docs_path, ctype = docs / "aimo_chat_text" / "page.txt", "/api/v1/chat/completions", "/docs/api/chat", "text/plain"
    elif case == "004":
        page, path, docs_path, ctype = (docs / "gitbook_chat_completions" / "page.md", "/v1/chat/completions",
                                        "/docs/chat-completions.md", "text/markdown")
        site.routes["/docs/openapi.yaml"] = static(SEED_004_OPENAPI, "application/yaml")
    else:
        raise ValueError(case)
    site.routes[path] = paid(url_of, path)
    site.routes[docs_path] = static(page.read_bytes(), ctype)
    site.routes["/"] = _home(f'<p><a href="{docs_path}">API docs</a></p>')
    return site, path, docs_path


PICKY_OPENAPI = {
    "openapi": "3.1.0", "info": {"title": "Picky search", "version": "1"},
    "paths": {"/v1/search": {"post": {
        "summary": "Search the archive",
        "x-payment-info": {"price": {"mode": "fixed", "currency": "USD", "amount": "0.010000"}, "protocols": [{"x402": {}}]},
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["query"],
            "properties": {"query": {"type": "string", "minLength": 1}, "limit": {"type": "integer", "default": 5}}}}}},
        "responses": {"402": {"description": "Payment Required"}}}}},
}


def picky_site() -> Site:
    """A validate-first origin: /v1/search answers 422 unless its JSON body has a non-empty `query`;
    its well-known lists it without a body; only /openapi.json has the body schema."""
    site = Site()
    pay = paid(lambda: site.url, "/v1/search")

    def search(method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "POST":
            return 405, {"Allow": "POST", "Content-Type": "application/json"}, b'{"error":"method not allowed"}'
        try:
            obj = json.loads(body or b"null")
        except ValueError:
            obj = None
        if not (isinstance(obj, dict) and isinstance(obj.get("query"), str) and obj["query"]):
            return 422, {"Content-Type": "application/json"}, b'{"error":"query is required"}'
        return pay(method, body)

    site.routes["/v1/search"] = search
    openapi = static(json.dumps(PICKY_OPENAPI), "application/json")

    def slow_openapi(method: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        time.sleep(1.5)  # the listing without a body is probed (and refused) first, as it is when a big document loads slowly
        return openapi(method, body)

    site.routes["/openapi.json"] = slow_openapi
    site.routes["/.well-known/x402"] = lambda m, b: (200, {"Content-Type": "application/json"},
                                                      json.dumps({"version": 1, "resources": ["POST /v1/search"]}).encode())
    site.routes["/"] = _home("")
    return site


def crawl_and_build(site_url: str, seeds: list[str], work: Path) -> list[Any]:
    """One crawl of `seeds` (subprocess CLI, loopback only) into a fresh SQLite file; the records built from it."""
    from index.catalog.build import build_records
    from index.store.engine import init_db
    from tests.conftest import FAST, run_cli

    db = f"sqlite:///{work / 'catalog.db'}"
    run_cli("crawl", "--db", db, "--allow-host", "127.0.0.1", "--quiet", *[a for s in seeds for a in ("--seed", s)],
            *FAST, "-s", "DOWNLOAD_TIMEOUT=5", cwd=work, check=False)
    return build_records(init_db(db))


def report(record: Any) -> dict[str, Any]:
    """The fields issue 21 compares before and after."""
    hints = next((a.hints for a in record.accepts if a.hints.input), record.accepts[0].hints if record.accepts else None)
    schema = (hints.input_schema or {}) if hints else {}
    body = ((schema.get("properties") or {}).get("body") or {}) if isinstance(schema, dict) else {}
    return {
        "url": record.url, "status": record.status, "summary": record.summary,
        "example_prompt": record.example_prompt,
        "hints.source": hints.source if hints else None,
        "hints.input": hints.input if hints else None,
        "input fields (type, required)": {k: (v.get("type"), k in (body.get("required") or []))
                                          for k, v in (body.get("properties") or {}).items()},
        "hints.output": bool(hints and hints.output),
        "findings": [f.code for f in (record.conformance.findings if record.conformance else [])],
        "derived_fields": record.derived_fields,
        "null_reasons": {k: v for k, v in record.null_reasons.items() if k in ("summary", "example_prompt", "use_cases")},
    }


if __name__ == "__main__":
    import tempfile

    for case in sys.argv[1:] or ["001", "003", "004", "picky"]:
        site = picky_site() if case == "picky" else seed_site(case)[0]
        with serve(site), tempfile.TemporaryDirectory() as tmp:
            records = crawl_and_build(site.url, [site.url + "/"] if case == "picky" else
                                      [f"POST {site.url}{seed_site(case)[1]}"], Path(tmp))
            print(f"== {case}: {len(records)} record(s)")
            for r in records:
                print(json.dumps(report(r), indent=1, ensure_ascii=False, default=str))
