"""Golden docs pages, one step further: what a record built next to the page says.

A docs case folder (tests/fixtures/docs/<case>/) may hold `record.json`: {"path", "method"} of a
resource the page documents, and the record fields the page gives it, checked by hand against the page:
`hints` (index.catalog.docs_hints.docs_hints of index.catalog.docs_match.docs_for) and `summary` (the
docs section's first paragraph). Draft one with `python -m tests.docs.test_docs_golden_records CASE PATH METHOD`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from index.catalog.docs_hints import docs_hints
from index.catalog.docs_match import docs_for
from tests.support.docs_cases import CASES_DIR, read_case


def record_fields(case: Path, path: str, method: str) -> dict[str, Any]:
    docs = docs_for([read_case(case)], path, method)
    return {"path": path, "method": method, "summary": docs["description"], "hints": docs_hints(docs, method)}


CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "record.json").exists())


def test_there_are_record_cases() -> None:
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES)
def test_docs_record_fields(case: str) -> None:
    expected = json.loads((CASES_DIR / case / "record.json").read_text())
    assert record_fields(CASES_DIR / case, expected["path"], expected["method"]) == expected


if __name__ == "__main__":
    name, path, method = sys.argv[1:4]
    print(json.dumps(record_fields(CASES_DIR / name, path, method), indent=2, ensure_ascii=False))
