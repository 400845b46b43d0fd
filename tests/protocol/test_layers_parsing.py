"""The parsing stages keep to their layer: protocol/, probe/ and docs/ (and the shared hygiene modules
they use) import nothing from a later stage, nothing from the crawler and no network library, and the
modules of these packages import each other without a circle. Checked on the source (AST), so a lazy
import inside a function counts too."""

from __future__ import annotations

from tests.support import ROOT
import ast
from pathlib import Path

import pytest

PURE = ("index/protocol", "index/probe", "index/docs", "index/untrusted.py", "index/urls.py", "index/findings.py",
        "crawler/discovery")
LATER = ("index.store", "index.schedule", "index.catalog", "index.site", "index.query", "index.testbuy", "index.cli",
         "index.demo", "crawler.spiders", "crawler.pipelines", "crawler.run", "crawler.settings")
NETWORK = ("httpx", "scrapy", "requests", "aiohttp", "twisted")  # HTTP client libraries


def _files(where: str) -> list[Path]:
    path = ROOT / where
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _imports(path: Path) -> list[str]:
    """Every module an import in `path` names (`from a.b import c` gives a.b and a.b.c)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return out


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("where", PURE)
def test_no_later_stage_no_network(where: str) -> None:
    """crawler/discovery is part of the crawler (it may import crawler.discovery); the rest imports
    no crawler module at all."""
    def wrong(name: str) -> bool:
        if name.startswith(LATER) or name.split(".")[0] in NETWORK:
            return True
        return name.startswith("crawler") and not (where == "crawler/discovery" and name.startswith("crawler.discovery"))

    bad = [f"{path.relative_to(ROOT)}: {name}" for path in _files(where) for name in _imports(path) if wrong(name)]
    assert bad == []


def test_no_import_circles_in_the_parsing_packages() -> None:
    files = [p for where in PURE for p in _files(where)]
    names = {_module_name(p) for p in files}
    graph = {_module_name(p): {n for n in _imports(p) if n in names} - {_module_name(p)} for p in files}
    for start in graph:  # a package's __init__ is imported by its modules: only real edges count
        graph[start] = {n for n in graph[start] if not start.startswith(n + ".")}
    seen: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, path: list[str]) -> bool:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                cycle.extend(path[path.index(nxt):] + [node, nxt] if nxt in path else [node, nxt])
                return True
            if nxt not in seen and visit(nxt, path + [node]):
                return True
        seen[node] = 2
        return False

    assert not any(visit(n, []) for n in sorted(graph) if n not in seen), cycle
