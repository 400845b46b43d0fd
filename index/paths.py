"""Where the project's own files live, and the defaults for what it writes."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
TEMPLATES_DIR = ROOT / "site_templates"

DB_ENV = "X402_INDEX_DB"
DEFAULT_DB_URL = "sqlite:///data/catalog.db"
DEFAULT_OUT_DIR = Path("public")


def db_url(explicit: str | None = None) -> str:
    """The database URL: an explicit one, else $X402_INDEX_DB, else the default SQLite file."""
    return explicit or os.environ.get(DB_ENV) or DEFAULT_DB_URL
