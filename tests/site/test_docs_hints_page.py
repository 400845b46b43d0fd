"""The resource page follows the record: docs-derived input hints fill its parameter table (with
where they came from), and the risk notes section lists the coded `risks`."""

from __future__ import annotations

from pathlib import Path

from index.catalog.docs_hints import docs_hints
from index.catalog.record import Hints, RiskNote
from index.site.build import build_site
from tests.support.records import sample_record


def test_docs_hints_fill_the_parameter_table(tmp_path: Path) -> None:
    hints = docs_hints({"fields": [{"name": "model", "type": "string", "required": True, "description": "Model id", "in": None},
                                   {"name": "max_tokens", "type": "number", "required": False, "description": "Output cap", "in": None}],
                        "fields_source_url": "https://a.example/docs"}, "POST")
    assert hints is not None
    base = sample_record()
    record = base.model_copy(update={
        "method": "POST", "accepts": [base.accepts[0].model_copy(update={"hints": Hints(**hints)})],
        "risks": [RiskNote(code="never_verified", severity="info", message="no test-buy has confirmed that paying works")],
        "risk_notes": ["No test-buy has confirmed that paying works."]})
    build_site([record], tmp_path)
    page = (tmp_path / "r" / f"{record.slug}.html").read_text()
    assert "The server described no parameters" not in page
    assert "<code>model</code>" in page and "Model id" in page and "<code>max_tokens</code>" in page
    assert "From docs hints" in page
    assert "<code>never_verified</code>" in page
