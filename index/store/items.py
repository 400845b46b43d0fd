"""The contract between the crawl and the store: the items a spider yields, as typed dicts, and the
check the crawl's pipeline runs on each before it goes to the database writer.

Three kinds, told apart by `kind`: a probe attempt (`ProbeItem`), a page read from an origin
(`PageItem`), and a source that named a resource after its probe was already recorded in this crawl
(`SourceItem`). Items stay plain dicts (they are pickled to the writer process in batches); the
TypedDicts say what each holds, and `invalid_fields` checks it at run time from the same
annotations, so the contract has one home. (No `from __future__ import annotations` here: the
checker reads the annotations as objects.)
"""

import types
import typing
from collections.abc import Callable
from typing import Any, Literal, NotRequired, TypedDict, Union

from index.probe.outcomes import Outcome
from index.urls import canonical_url


class ProbeItem(TypedDict):
    """One attempt of a probe (crawler.spiders.probe): what was asked, what came back, its outcome."""

    kind: Literal["probe"]
    url: str  # canonical URL of the resource
    method: str  # this attempt's method
    attempt: int  # position in the probe plan (index.probe.plan)
    attempt_why: str | None
    robots: str  # the robots.txt policy applied (recorded on the observation)
    final_url: str | None  # where redirects ended, when not at `url`
    observed_at: str  # ISO-8601 with offset
    outcome: str  # an index.probe.outcomes.Outcome value
    http_status: int | None
    latency_ms: float | None
    error_code: str | None
    headers: dict[str, str | list[str]]  # lower-case name -> value, capped; a repeated header: every value
    body: str | None  # capped at X402_RAW_BODY_LIMIT
    challenge: dict[str, Any] | None  # index.protocol.x402.Challenge.model_dump(mode="json")
    sources: list[dict[str, Any]]  # [{kind, url, declared?}]
    resource_method: NotRequired[str]  # the resource's method (a GET refused then paid by POST is POST's)
    final: NotRequired[bool]  # the probe's last attempt (earlier ones are history only)


class PageItem(TypedDict):
    """A file read from an origin: homepage, docs page, well-known file, OpenAPI, llms.txt, favicon."""

    kind: Literal["page"]
    origin: str
    url: str
    page_kind: str  # homepage, parent_homepage, docs, well_known, openapi, llms_txt, favicon
    fetched_at: str  # ISO-8601 with offset
    status: int | None  # None: not fetched (error_code says why)
    error_code: str | None
    content_type: str | None
    extracted: dict[str, Any]  # what was read from it ({} when nothing)


class SourceItem(TypedDict):
    """A source that named an already probed resource: merged into that resource's sources."""

    kind: Literal["source"]
    url: str
    method: str
    source: dict[str, Any]  # {kind, url, declared?}
    seen_at: str  # ISO-8601 with offset


StoreItem = ProbeItem | PageItem | SourceItem
ITEM_TYPES: dict[str, Any] = {"probe": ProbeItem, "page": PageItem, "source": SourceItem}
_OUTCOMES = frozenset(o.value for o in Outcome)


def _storable_url(value: str) -> bool:
    """An http(s) URL the writer can canonicalize."""
    if not value.startswith(("http://", "https://")):
        return False
    try:
        canonical_url(value)
    except ValueError:
        return False
    return True


# Values the writer would refuse, which would fail the whole batch the item is in.
_VALUES = {"outcome": lambda v: v in _OUTCOMES, "url": _storable_url, "origin": _storable_url}


def _check(hint: Any) -> Callable[[Any], bool]:
    """A test of a value against a type hint of the forms used above, made once per field. Runs on every
    item of a crawl: unions are plain `or`s, not a generator."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return lambda v: True
    if origin in (Union, types.UnionType):
        tests = [_check(h) for h in args if h is not type(None)]
        if len(tests) == 1:
            test = tests[0]
        elif len(tests) == 2:
            a, b = tests
            test = lambda v: a(v) or b(v)  # noqa: E731
        else:
            test = lambda v: any(t(v) for t in tests)  # noqa: E731
        if type(None) in args:
            return lambda v: v is None or test(v)
        return test
    if origin is Literal:
        return lambda v: v in args
    if hint is type(None):
        return lambda v: v is None
    if hint is int:
        return lambda v: isinstance(v, int) and not isinstance(v, bool)
    if hint is float:
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    if origin is dict:
        key_ok, value_ok = _check(args[0]), _check(args[1])
        if args[1] is Any:
            return lambda v: isinstance(v, dict) and all(map(key_ok, v))
        return lambda v: isinstance(v, dict) and all(key_ok(k) and value_ok(x) for k, x in v.items())
    if origin is list:
        item_ok = _check(args[0])
        return lambda v: isinstance(v, list) and all(map(item_ok, v))
    return lambda v: isinstance(v, hint)


def invalid_fields(item: Any) -> list[str]:
    """The fields of `item` that break its kind's contract (missing, or of the wrong type or value), in
    declaration order; ["kind"] for an item of no known kind. [] for a valid item."""
    if not isinstance(item, dict) or item.get("kind") not in ITEM_TYPES:
        return ["kind"]
    bad = []
    for name, test, required in _FIELDS[item["kind"]]:
        if name not in item:
            if required:
                bad.append(name)
            continue
        value = item[name]
        if not test(value) or (name in _VALUES and isinstance(value, str) and not _VALUES[name](value)):
            bad.append(name)
    return bad


_FIELDS = {kind: [(name, _check(hint), name in cls.__required_keys__) for name, hint in typing.get_type_hints(cls).items()]
           for kind, cls in ITEM_TYPES.items()}
