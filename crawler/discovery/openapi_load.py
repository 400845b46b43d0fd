"""Loading a hostile OpenAPI document: bounded JSON/YAML, and a bounded resolver of its local `$ref`s.

JSON or YAML up to 2 MiB; YAML is scanned event by event first and refused when it nests too deep, has
too many events or aliases, or expands (alias bombs) beyond a node budget. Only local `#/…` $refs
are followed, to a bounded depth and inlined size; nothing is ever fetched.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import yaml

from index.untrusted import json_size, jsonable, safe_json_loads

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_YAML_EVENTS = 500_000
MAX_YAML_DEPTH = 64
MAX_YAML_ALIASES = 200
MAX_DOCUMENT_NODES = 1_000_000  # values in the loaded document, every alias expansion counted
MAX_DOCUMENT_DEPTH = 128
MAX_REF_HOPS = 10  # $ref → $ref chains
MAX_INLINE_DEPTH = 24  # nesting of a schema with its $refs inlined
MAX_INLINE_NODES = 5000  # values in one inlined schema
MAX_DOCUMENT_INLINE_NODES = 300_000  # values inlined for the whole document
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built, else the pure-Python one


def load_document(body: bytes) -> tuple[Any, str | None]:
    """(document as plain JSON values, None) or (None, why it was refused). JSON first, then YAML."""
    if not isinstance(body, bytes | bytearray):
        return None, "not bytes"
    if len(body) > MAX_DOCUMENT_BYTES:
        return None, f"larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB"
    try:
        text = bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    if text.lstrip().startswith(("{", "[")):
        try:
            return safe_json_loads(text), None
        except ValueError:
            pass  # JSON-looking YAML (flow style) still has a chance
    problem = _yaml_problem(text)
    if problem:
        return None, problem
    try:
        raw = yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader (CSafeLoader when built)
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        return None, f"not JSON or YAML ({type(exc).__name__})"
    ok, doc = jsonable(raw, MAX_DOCUMENT_NODES, MAX_DOCUMENT_DEPTH)
    if not ok:
        return None, "expands to too many values (YAML aliases) or nests too deeply"
    return doc, None


def _yaml_problem(text: str) -> str | None:
    """Why a YAML text is refused before it is loaded (None when it may be): too many events, too
    deep a nesting (libyaml slows down badly on deep flow nesting), or too many aliases."""
    events = aliases = depth = 0
    try:
        for event in yaml.parse(text, Loader=SafeLoader):
            events += 1
            if events > MAX_YAML_EVENTS:
                return "too many YAML events"
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return "YAML nests too deeply"
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_YAML_ALIASES:
                    return "too many YAML aliases"
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return f"not JSON or YAML ({type(exc).__name__})"
    return None


class _Exhausted(Exception):
    pass


class Refs:
    """Local JSON-pointer $refs of one document (never anything remote)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.budget = MAX_DOCUMENT_INLINE_NODES  # inlining spent on the whole document
        self.cache: dict[str, Any] = {}  # inlined schema per top-level "$ref"
        self._sizes: dict[int, int | None] = {}
        self._sized: list[Any] = []  # keeps sized objects alive, so their ids stay theirs

    def size(self, value: Any) -> int | None:
        """Bytes of a value's compact JSON (None when not JSON), computed once per object: inlined
        schemas and document values are shared between operations."""
        if not isinstance(value, dict | list):
            return json_size(value)
        key = id(value)
        if key not in self._sizes:
            self._sizes[key] = json_size(value)
            self._sized.append(value)
        return self._sizes[key]

    def lookup(self, ref: Any) -> Any:
        """The value a local ref ("#/components/schemas/X") points at, or None."""
        if not isinstance(ref, str) or not ref.startswith("#/") or len(ref) > 1000:
            return None
        node: Any = self.doc
        for part in ref[2:].split("/"):
            key = unquote(part).replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict):
                node = node.get(key)
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        return node

    def deref(self, node: Any) -> Any:
        """A value with its own $ref chain followed (parameters, request bodies, examples)."""
        for _ in range(MAX_REF_HOPS):
            if not (isinstance(node, dict) and "$ref" in node):
                return node
            node = self.lookup(node["$ref"])
        return None if isinstance(node, dict) and "$ref" in node else node

    def inline(self, schema: Any) -> Any:
        """A copy of a schema with every local $ref replaced by its target; a cycle or a remote ref
        becomes {} (anything goes). None when the result would be too large or deep."""
        ref = schema.get("$ref") if isinstance(schema, dict) and len(schema) == 1 else None
        if isinstance(ref, str) and ref in self.cache:
            return self.cache[ref]
        if self.budget <= 0:
            return None
        budget = [min(MAX_INLINE_NODES, self.budget)]
        start = budget[0]
        try:
            result = self._inline(schema, 0, (), budget)
        except _Exhausted:
            result = None
        self.budget -= start - max(budget[0], 0)
        if isinstance(ref, str):
            self.cache[ref] = result
        return result

    def _inline(self, node: Any, depth: int, stack: tuple[str, ...], budget: list[int]) -> Any:
        budget[0] -= 1
        if budget[0] < 0 or depth > MAX_INLINE_DEPTH:
            raise _Exhausted
        if isinstance(node, list):
            return [self._inline(v, depth + 1, stack, budget) for v in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            target = self.lookup(ref) if isinstance(ref, str) and ref not in stack else None
            resolved = self._inline(target, depth + 1, (*stack, ref), budget) if isinstance(target, dict) else {}
            siblings = {k: self._inline(v, depth + 1, stack, budget) for k, v in node.items() if k != "$ref"}
            return {**resolved, **siblings} if isinstance(resolved, dict) else siblings
        return {k: self._inline(v, depth + 1, stack, budget) for k, v in node.items()}
