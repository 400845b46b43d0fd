"""Golden docs pages: tests/fixtures/docs/<case>/{page.html | page.md | page.txt, meta.json, expected.json}.

`page.*` is the body as a server sends it; `meta.json` is {"url": <the page's URL>, "content_type": <the
Content-Type header, or null>}; `expected.json` is what index.docs.page.extract_page returns for it.
Adding a case is adding a folder: draft its expected.json with
    python -m tests.support.docs_cases CASE
and check every value against the page before committing it.
"""

from __future__ import annotations

from tests.support import FIXTURES
import json
import sys
from pathlib import Path
from typing import Any

from index.docs.page import extract_page

CASES_DIR = FIXTURES / "docs"


def page_file(case: Path) -> Path:
    [path] = [p for p in case.iterdir() if p.name.startswith("page.")]
    return path


def read_case(case: Path) -> dict[str, Any]:
    meta = json.loads((case / "meta.json").read_text())
    return extract_page(page_file(case).read_bytes(), meta["url"], meta.get("content_type"))


def cases() -> list[str]:
    return sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


if __name__ == "__main__":
    for name in sys.argv[1:] or cases():
        print(f"== {name}")
        print(json.dumps(read_case(CASES_DIR / name), indent=2, ensure_ascii=False))
