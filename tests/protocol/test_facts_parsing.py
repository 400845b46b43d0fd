"""One home per fact, for the parsing stages (protocol, docs, discovery, untrusted input): each fact
that used to have several homes is defined in exactly one module, found by walking the source (AST)."""

from __future__ import annotations

from tests.support import ROOT
import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGES = ("index", "crawler")


@cache
def _modules() -> dict[str, ast.Module]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts and "demo" not in path.parts:  # the demo fleet plays servers
                out[path.relative_to(ROOT).as_posix()] = ast.parse(path.read_text(), str(path))
    return out


def _defined(name: str) -> list[str]:
    """Modules that define `name` at top level (a def, a class or an assignment)."""
    homes = []
    for module, tree in _modules().items():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name == name:
                homes.append(module)
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                    homes.append(module)
    return homes


@pytest.mark.parametrize(("name", "home"), [
    ("clean_text", "index/untrusted.py"),
    ("scrub_text", "index/untrusted.py"),
    ("INVISIBLE", "index/untrusted.py"),
    ("safe_json_loads", "index/untrusted.py"),
    ("json_depth_exceeds", "index/untrusted.py"),
    ("MAX_JSON_DEPTH", "index/untrusted.py"),
    ("jsonable", "index/untrusted.py"),
    ("json_size", "index/untrusted.py"),
    ("kept_value", "index/untrusted.py"),
    ("within", "index/untrusted.py"),
    ("json_key", "index/untrusted.py"),
    ("safe_copy", "index/untrusted.py"),
    ("iso_z", "index/untrusted.py"),
    ("iso_utc", "index/untrusted.py"),
    ("bounded_hints", "index/protocol/hints.py"),
    ("HINT_TRIM_ORDER", "index/protocol/hints.py"),
    ("HTTP_METHODS", "index/protocol/networks.py"),
    ("BODY_METHODS", "index/protocol/networks.py"),
    ("QUERY_METHODS", "index/protocol/networks.py"),
    ("DEFAULT_NETWORK", "index/protocol/networks.py"),
    ("MAX_URL", "index/urls.py"),
    ("resource_key", "index/urls.py"),
    ("usd_amount", "index/protocol/declared.py"),
    ("declared_usd", "index/protocol/declared.py"),
])
def test_one_home(name: str, home: str) -> None:
    assert _defined(name) == [home]


@pytest.mark.parametrize("gone", ["_INVISIBLE", "_scrub", "_json_safe", "_within", "_json_size", "_json_key",
                                  "_TRIM", "_TRIM_ORDER", "_bounded", "_queue_key", "_USD_TEXT", "METHODS",
                                  "HTTP_QUERY_METHODS", "HTTP_BODY_METHODS"])
def test_old_homes_are_gone(gone: str) -> None:
    assert _defined(gone) == []


def test_no_other_module_writes_its_own_utc_z_format() -> None:
    def writes_z(node: ast.AST) -> bool:  # <text>.replace("+00:00", "Z")
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
                and [getattr(a, "value", None) for a in node.args] == ["+00:00", "Z"])

    writers = [module for module, tree in _modules().items() if any(writes_z(n) for n in ast.walk(tree))]
    assert writers == ["index/untrusted.py"]


def test_openapi_reads_every_http_method_and_no_other() -> None:
    from crawler.discovery.openapi import OPERATION_METHODS
    from index.protocol.networks import HTTP_METHODS

    assert sorted(m.upper() for m in OPERATION_METHODS) == sorted(HTTP_METHODS)


def test_iso_formats() -> None:
    import datetime as dt

    from index.untrusted import iso_z

    when = dt.datetime(2025, 8, 9, 1, 7, 4, 5123, tzinfo=dt.UTC)
    assert iso_z(when) == "2025-08-09T01:07:04.005123Z"
    assert iso_z(when, millis=True) == "2025-08-09T01:07:04.005Z"
    assert iso_z(when.replace(microsecond=0, tzinfo=None), millis=True) == "2025-08-09T01:07:04Z"
    assert iso_z(when.astimezone(dt.timezone(dt.timedelta(hours=2)))) == "2025-08-09T01:07:04.005123Z"


def test_resource_key() -> None:
    from index.urls import resource_key

    assert resource_key({"url": "HTTPS://A.example:443/x?b=1&a=2", "method": "post"}) == (
        "https://a.example/x?a=2&b=1", "POST")
    assert resource_key({"url": "https://a.example/x"}) == ("https://a.example/x", "GET")
    assert resource_key({"method": "GET"}) is None and resource_key({"url": "http://[::1"}) is None


@pytest.mark.parametrize(("text", "amount"), [("$0.01", "0.01"), ("0.010000", "0.010000"), ("0.01 USD", "0.01"),
                                              ("1 usdc", "1"), (0.5, "0.5"), ("1.", None), ("€1", None), (True, None)])
def test_one_usd_text_parser(text: object, amount: str | None) -> None:
    from index.protocol.declared import declared_usd, usd_amount

    assert usd_amount(text) == amount
    if isinstance(text, str):
        assert (declared_usd(text) is None) == (amount is None)
