"""Where the project's own files live, and the defaults for what it writes (one home each)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
TEMPLATES_DIR = ROOT / "site_templates"

DB_ENV = "X402_INDEX_DB"
DEFAULT_DB_URL = "sqlite:///data/catalog.db"
DEFAULT_OUT_DIR = Path("public")
# The demo's own database, recreated by every `demo` (never the default one: a demo must not wipe a
# real crawl). Its site goes to DEFAULT_OUT_DIR, so `query` reads it without flags.
DEMO_DB_URL = "sqlite:///data/demo/catalog.db"
# Where `x402-index wallet new` writes its key unless told otherwise: outside any repository. Pages
# print it as a shell reads it (unquoted, so that ~ is the buyer's home).
WALLET_FILE = "~/.x402-index/wallet.key"
DEFAULT_WALLET = Path(WALLET_FILE).expanduser()


def db_url(explicit: str | None = None) -> str:
    """The database URL: an explicit one, else $X402_INDEX_DB, else the default SQLite file.
    ValueError, with the URL to write instead, for a value that is not a URL (e.g. a bare path)."""
    url = (explicit or os.environ.get(DB_ENV) or DEFAULT_DB_URL).strip()
    if "://" not in url:
        raise ValueError(f"database {url!r} is not a URL: for a SQLite file write sqlite:///{url} "
                         "(sqlite:////abs/path for an absolute path), or postgresql+psycopg://user@host/db")
    return url


def sqlite_file(url: str) -> Path | None:
    """The file a sqlite:/// URL names (None for other databases and in-memory SQLite)."""
    head, sep, rest = url.partition(":///")
    if not sep or not head.startswith("sqlite"):
        return None
    path = rest.split("?", 1)[0]
    return Path(path).expanduser() if path and path != ":memory:" else None
