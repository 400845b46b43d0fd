"""Golden discovery documents (tests/support/discovery_cases.py): each case's reader output is exactly its
expected.json. After an intended change rewrite them with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/crawler/test_discovery_golden.py
and review the diff."""

from __future__ import annotations

import json
import os

import pytest

from index.findings import CODES
from tests.support.discovery_cases import CASES_DIR, READERS, cases, read_case


def test_every_reader_has_cases() -> None:
    readers = {json.loads((CASES_DIR / c / "meta.json").read_text())["reader"] for c in cases()}
    assert readers == set(READERS)


@pytest.mark.parametrize("case", cases())
def test_golden(case: str) -> None:
    got = read_case(CASES_DIR / case)
    json.dumps(got, allow_nan=False)  # plain JSON
    assert all(f["code"] in CODES for f in got["findings"])
    path = CASES_DIR / case / "expected.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert got == json.loads(path.read_text())
