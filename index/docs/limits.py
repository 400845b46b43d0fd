"""The bounds of reading one docs page: input size, list lengths, text lengths, JSON values kept.

Every reader in index.docs caps what it keeps with these; `keep` is the bounded, cleaned copy of a JSON
value found on a page (index.untrusted.safe_copy with the page limits).
"""

from __future__ import annotations

from typing import Any

from index.protocol.normalize import MAX_DESCRIPTION
from index.untrusted import safe_copy

MAX_BODY_BYTES = 2 * 1024 * 1024  # bytes of a page we read; the rest is ignored (truncated: true)
MAX_TEXT_CHARS = 2_000_000
MAX_LINE = 4000  # longer lines are never headings, table rows, fields or notes
MAX_BLOCK = 64 * 1024  # one JSON block
MAX_CALL = 16 * 1024  # one curl command or fetch/requests call
MAX_SCANS = 500  # attempts per scanner (curl, fetch, requests)
MAX_LINKS = 50
MAX_ANCHORS = 5000
MAX_EXAMPLES = 20
MAX_FIELDS = 100
MAX_RESPONSES = 20
MAX_NOTES = 20
MAX_NOTE = 300
MAX_ENDPOINTS = 100
MAX_JSONLD = 20
MAX_JSONLD_BLOCK = 256 * 1024
MAX_ITEMSCOPES = 200
MAX_ITEMSCOPE_DEPTH = 8
MAX_TITLE = 200
MAX_FIELD_DESCRIPTION = 1000
MAX_RAW_BODY = 4000
MAX_HEADER_VALUE = 1000
MAX_PATH = 300
MAX_KEEP_NODES = 5000  # JSON nodes kept per value (examples, JSON-LD objects)
MAX_KEEP_ITEMS = 200  # items kept per JSON array or object
MAX_KEEP_DEPTH = 32
MAX_CANDIDATES = 3000  # candidate lines examined per reader (events, fields, notes, JSON blocks)
MAX_SCAN_TOKENS = 200_000  # brackets and strings read per page while looking for JSON blocks
MAX_ROWS_READ = 3000  # table rows read per page


def keep(value: Any) -> Any:
    """A bounded, cleaned JSON copy of a value found on a page (index.untrusted.safe_copy)."""
    return safe_copy(value, MAX_KEEP_NODES, MAX_KEEP_DEPTH, MAX_KEEP_ITEMS, MAX_DESCRIPTION, MAX_TITLE)
