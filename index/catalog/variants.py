"""Query-string variants of one endpoint (pure): `/api/news` and `/api/news?topic=defi` answering the
same terms are one resource to a buyer. The catalog keeps one record per group (the one stored first,
so its slug stays), whose example request carries a variant's query when its own URL has none."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from urllib.parse import urlsplit, urlunsplit

Terms = frozenset[tuple[str, str, str, str]]  # (network CAIP-2, asset, atomic amount, payTo), case-folded


def terms_of(options: Iterable[object]) -> Terms:
    """The terms of a resource's payment options (PaymentOption rows or objects with the same fields)."""
    def get(o: object, name: str) -> str:
        return str(getattr(o, name, None) or "").lower()
    return frozenset((get(o, "network_caip2"), get(o, "asset"), get(o, "amount_atomic"), get(o, "pay_to")) for o in options)


def _base(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def fold_query_variants(items: Iterable[tuple[Hashable, str, str, Terms]]) -> tuple[set[Hashable], dict[Hashable, str]]:
    """(ids folded into another, kept id → the URL of a variant with a query, for its example).

    `items` are (id, url, method, terms), ids ordered as stored. Resources fold when their URLs differ
    only in the query, the method is the same and the terms are the same and known (no terms: nothing
    to compare)."""
    groups: dict[tuple[str, str, Terms], list[tuple[Hashable, str]]] = {}
    for key, url, method, terms in items:
        if terms:
            groups.setdefault((_base(url), method.upper(), terms), []).append((key, url))
    folded: set[Hashable] = set()
    example_urls: dict[Hashable, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: m[0])  # type: ignore[no-any-return]
        kept, kept_url = members[0]
        folded.update(key for key, _ in members[1:])
        if not urlsplit(kept_url).query:
            example_urls[kept] = next(url for _, url in members[1:] if urlsplit(url).query)
    return folded, example_urls
