"""The house keeps itself: the import rules, the line budget and the one home of each fact, read from
the code's own syntax trees (no imports executed). A rule broken here is a layout change to discuss,
not a test to loosen: each allowlist entry says why it is there."""

from __future__ import annotations

from tests.support import ROOT
import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGES = ("index", "crawler")

# Stages in the order data flows; a module may import its own stage and earlier ones, never a later one.
# `base` holds the facts every stage shares (paths, URLs, finding codes, untrusted-input hygiene).
STAGES = [
    ("base", ("index", "index.paths", "index.urls", "index.findings", "index.untrusted", "index.gcpolicy")),
    ("protocol", ("index.protocol",)),
    ("probe", ("index.probe",)),
    ("docs", ("index.docs",)),
    ("store", ("index.store",)),
    ("schedule", ("index.schedule",)),
    ("crawler", ("crawler",)),
    ("catalog", ("index.catalog",)),
    ("site", ("index.site", "index.publish")),
    ("query", ("index.query", "index.testbuy")),
    ("cli", ("index.cli",)),
]
# The demo fleet is a set of servers for tests and `make demo`: it may use any stage's facts.
OUTSIDE_THE_FLOW = ("index.demo",)

# Modules allowed past the line budget, with the reason.
LINE_BUDGET = 400
LONG_ALLOWED: dict[str, str] = {
    # one walk over an OpenAPI operation (servers, parameters, bodies, outputs → a candidate); its
    # loading and payment info already live in openapi_load.py and openapi_payment.py
    "crawler.discovery.openapi": "one walk over an operation",
}

NETWORK_LIBS = ("httpx", "scrapy", "twisted", "requests", "aiohttp", "urllib.request", "socket")
DB_LIBS = ("sqlalchemy", "sqlmodel", "alembic", "psycopg")


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts and "versions" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    """ids of import nodes under `if TYPE_CHECKING:` (annotations only, never run)."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for child in node.body for n in ast.walk(child))
    return hidden


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module a module imports, at any depth of its code (a lazy import is still an import; one
    under `if TYPE_CHECKING:` is not). `from pkg import mod` imports the module `pkg.mod`."""
    path = modules()[name]
    tree = ast.parse(path.read_text(), str(path))
    hidden = _type_checking_only(tree)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            submodules = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in modules()]
            found.update(submodules)
            if len(submodules) < len(node.names):  # names defined in the module itself
                found.add(target)
    return frozenset(found)


def _internal(target: str) -> str | None:
    """The project module an import names (the longest known prefix), or None for a library."""
    parts = target.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in modules():
            return candidate
    return None


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def stage_of(name: str) -> int | None:
    best = None
    for rank, (_, prefixes) in enumerate(STAGES):
        for p in prefixes:
            if _within(name, (p,)) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    return None if best is None else best[0]


def graph() -> dict[str, set[str]]:
    edges = {}
    for name in modules():
        edges[name] = {t for t in (_internal(i) for i in imports_of(name)) if t and t != name}
    return edges


def test_no_import_circles() -> None:
    edges = graph()
    # parents are imported with their children; a package __init__ importing nothing keeps that harmless
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_nothing_imports_a_later_stage() -> None:
    wrong = []
    for name, targets in graph().items():
        if _within(name, OUTSIDE_THE_FLOW):
            continue
        mine = stage_of(name)
        for target in targets:
            if _within(target, OUTSIDE_THE_FLOW) and not _within(name, ("index.cli",)):
                wrong.append(f"{name} imports the demo fleet {target}")
                continue
            theirs = stage_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                wrong.append(f"{name} ({STAGES[mine][0]}) imports {target} ({STAGES[theirs][0]})")
    assert not wrong, "\n".join(sorted(wrong))


@pytest.mark.parametrize("prefix,forbidden", [
    ("index.protocol", NETWORK_LIBS + DB_LIBS),
    ("index.probe", NETWORK_LIBS[:-1] + DB_LIBS),  # netguard resolves names: socket is its job
    ("index.docs", NETWORK_LIBS + DB_LIBS),
    ("index.catalog", NETWORK_LIBS + ("index.testbuy",)),
    ("index.site", NETWORK_LIBS[:-1] + ("index.testbuy",)),  # serve.py binds a socket
])
def test_pure_stages_import_no_network_or_later_code(prefix: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(f"{name} imports {target}" for name in modules() if _within(name, (prefix,))
                   for target in imports_of(name) if _within(target, forbidden))
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_in_index_imports_the_crawler() -> None:
    wrong = sorted(f"{name} imports {target}" for name in modules() if _within(name, ("index",))
                   and not _within(name, ("index.cli",)) for target in imports_of(name) if _within(target, ("crawler",)))
    assert not wrong, "\n".join(wrong)


def test_modules_hold_one_idea_within_the_line_budget() -> None:
    long = {}
    for name, path in modules().items():
        if _within(name, OUTSIDE_THE_FLOW) or name in LONG_ALLOWED:
            continue
        lines = len(path.read_text().splitlines())
        if lines > LINE_BUDGET:
            long[name] = lines
    assert not long, f"modules over {LINE_BUDGET} lines: {long}"


# -- one home for each fact that had several ---------------------------------------------------------

def _code_strings(name: str) -> list[str]:
    """The string constants a module's code uses (docstrings and comments are prose, not facts)."""
    tree = ast.parse(modules()[name].read_text())
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
                  and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    return [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in docstrings]


def _calls(name: str, function: str) -> bool:
    tree = ast.parse(modules()[name].read_text())
    return any(isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) == function
               for n in ast.walk(tree))


@pytest.mark.parametrize(("fact", "home"), [
    ("sqlite:///data/catalog.db", "index.paths"),          # the default database (CLI, settings, help texts)
    ("sqlite:///data/demo/catalog.db", "index.paths"),     # the demo's own database
    ("~/.x402-index/wallet.key", "index.paths"),           # where `wallet new` writes, as pages print it
    ("PAYMENT-REQUIRED", "index.protocol.wire"),           # header names
    ("PAYMENT-SIGNATURE", "index.protocol.wire"),
    ("X-PAYMENT-RESPONSE", "index.protocol.wire"),
    ("eip155:84532", "index.protocol.networks"),           # the default test-buy network
    ("x402/outcome/", "crawler.stats"),                    # crawl stat keys are read in one place
])
def test_one_home_for_each_fact(fact: str, home: str) -> None:
    homes = sorted(name for name in modules() if not _within(name, OUTSIDE_THE_FLOW)
                   and any(fact.lower() == s.lower() or (fact.endswith("/") and s.startswith(fact)) for s in _code_strings(name)))
    assert homes == [home]


def test_the_build_pipeline_holds_the_gc_policy_once() -> None:
    """Catalog and site stages allocate many long-lived objects; one no_collections() block spans both,
    held by index.publish alone (each stage wrapping itself again undid it between them)."""
    holders = sorted(name for name in modules() if name != "index.gcpolicy" and _calls(name, "no_collections"))
    assert holders == ["index.publish"]


def test_test_buy_defaults_have_one_home() -> None:
    """The caps a test-buy starts from: policy.py defines them, the CLI and the MCP server read them."""
    from index.testbuy import policy

    for name in ("DEFAULT_MAX_USD", "DEFAULT_DAILY_BUDGET_USD"):
        homes = [m for m in modules() if name in {t.id for n in ast.walk(ast.parse(modules()[m].read_text()))
                                                    if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}]
        assert homes == ["index.testbuy.policy"], name
    assert str(policy.DEFAULT_MAX_USD) == "0.10" and str(policy.DEFAULT_DAILY_BUDGET_USD) == "1.00"


@cache
def _defined_names(name: str) -> set[str]:
    """Names a module defines or imports at its top level (what `from module import x` may take)."""
    tree = ast.parse(modules()[name].read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            names.update(ast.literal_eval(node.value))  # a package's lazy names (module __getattr__)
    return names


def test_every_import_of_a_project_name_finds_it() -> None:
    """A lazy `from index.x import y` runs only on the path that needs it (a coordinator, a bench), so
    a name moved by a refactor fails there, late; here it fails at once, for code, tests and benches."""
    missing = []
    files = [p for d in (*PACKAGES, "tests", "bench") for p in sorted((ROOT / d).rglob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or node.level or node.module not in modules():
                continue
            defined = _defined_names(node.module)
            for alias in node.names:
                if alias.name != "*" and alias.name not in defined and f"{node.module}.{alias.name}" not in modules():
                    missing.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{alias.name}")
    assert not missing, "imports of names their module does not have:\n" + "\n".join(missing)
