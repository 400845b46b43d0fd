"""Golden docs pages (tests/support/docs_cases.py): each page's extract is exactly its expected.json. After an
intended change rewrite them with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/docs/test_docs_golden.py
and review the diff."""

from __future__ import annotations

import json
import os

import pytest

from index.docs.page import PAGE_KEYS
from tests.support.docs_cases import CASES_DIR, cases, read_case


@pytest.mark.parametrize("case", cases())
def test_golden(case: str) -> None:
    got = read_case(CASES_DIR / case)
    assert list(got) == list(PAGE_KEYS) and got["failed_stages"] == []
    json.dumps(got, allow_nan=False)
    path = CASES_DIR / case / "expected.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(path.read_text())
