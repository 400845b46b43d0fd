"""Terminal output for long work: a live Rich display on a TTY, a one-line summary every few
seconds elsewhere (CI, cron), nothing with --quiet."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

# Tables written to a pipe or a log (cron, CI) get room for their columns: Rich's default elsewhere is
# 80 columns, which cut `runs` and `query` tables to "ki…", "st…". COLUMNS still wins when it is set.
_LOG_WIDTH = 160


def _width(stream: Any) -> int | None:
    return None if "COLUMNS" in os.environ or stream.isatty() else _LOG_WIDTH


err = Console(stderr=True, soft_wrap=True, width=_width(sys.stderr))
out = Console(soft_wrap=True, width=_width(sys.stdout))


def text_cell(value: object) -> Text:
    """A table cell shown as given: never read as Rich markup (a title holding `[/]` or
    `[link=…]` from a server is text)."""
    return Text("" if value is None else str(value))


def _line(snap: dict[str, Any]) -> str:
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(snap["outcomes"].items())) or "none yet"
    return f"probed {snap['done']} of {snap['queued']} queued · {snap['rate']:.1f}/s · {outcomes}"


class CrawlProgress:
    """A callable the crawler's progress extension feeds with snapshots."""

    def __init__(self, quiet: bool = False, interval: float = 5.0) -> None:
        self.quiet = quiet
        self.tty = err.is_terminal
        self.interval = interval
        self.last_line = 0.0
        self.live: Live | None = None

    def __enter__(self) -> CrawlProgress:
        if not self.quiet and self.tty:
            self.live = Live(self._table({"done": 0, "queued": 0, "outcomes": {}, "rate": 0.0}), console=err,
                             refresh_per_second=4, transient=True)
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.stop()

    def _table(self, snap: dict[str, Any]) -> Table:
        table = Table(title="crawling", show_header=True, header_style="bold")
        table.add_column("done / queued")
        table.add_column("rate")
        table.add_column("outcomes")
        outcomes = "  ".join(f"{k}={v}" for k, v in sorted(snap["outcomes"].items()))
        table.add_row(f"{snap['done']} / {snap['queued']}", f"{snap['rate']:.1f}/s", outcomes)
        return table

    def __call__(self, snap: dict[str, Any]) -> None:
        if self.quiet:
            return
        if self.live:
            self.live.update(self._table(snap))
            return
        now = time.monotonic()
        if now - self.last_line >= self.interval:
            self.last_line = now
            err.print(_line(snap), highlight=False)
