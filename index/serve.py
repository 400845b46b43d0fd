"""A small static file server for a built site (development and the demo; production uses any
static host)."""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".json": "application/json",
                      ".jsonl": "application/x-ndjson", ".css": "text/css", ".html": "text/html; charset=utf-8"}

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()


def make_server(directory: Path, host: str = "127.0.0.1", port: int = 8402) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    ThreadingHTTPServer.allow_reuse_address = True
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
