"""A small static file server for a built site (development and the demo; production uses any
static host)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".jsonl": "application/x-ndjson", ".css": "text/css", ".html": "text/html; charset=utf-8",
                      ".js": "text/javascript", ".wasm": "application/wasm", ".atom": "application/atom+xml",
                      ".xml": "application/xml", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml"}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_head(self) -> Any:
        """Dotfiles are the builder's own (.build-state, …), not the site's: not found, as on a
        static host that skips hidden files."""
        if any(part.startswith(".") for part in unquote(urlsplit(self.path).path).split("/")):
            self.send_error(404)
            return None
        return super().send_head()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A missing page gets the site's own 404.html (with the 404 status), as static hosts do."""
        page = Path(self.directory) / "404.html"
        if code != 404 or self.command != "GET" or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8402) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
