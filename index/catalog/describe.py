"""The words of a record: provider, title, summary, SEO, use cases, buyer, example prompt (pure).

Deterministic templates (data/categories.yaml) filled with what the server and its pages said; no
language model. Fields written here are listed in the record's `derived_fields`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from index.catalog.categories import category
from index.protocol.networks import DEFAULT_NETWORK

MAX_SUMMARY = 300
MAX_SEO_TITLE = 70
MAX_SEO_DESCRIPTION = 200
MAX_PROMPT = 200
_VERSION_SEGMENT = re.compile(r"^(v\d+|api)$", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s+[-–—|·:]\s+")
_PROMPT_KEYS = ("prompt", "query", "q", "question", "text", "input", "content", "message", "instruction", "task")
_SPACE = re.compile(r"\s+")


def clip(text: str, limit: int) -> str:
    """`text` on one line, cut at a word boundary to at most `limit` characters (… when cut)."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + "…"


def readable_path(url: str) -> str:
    """'/v1/chat/completions' → 'Chat completions'; version and 'api' segments are dropped."""
    segments = [s for s in urlsplit(url).path.split("/") if s and not _VERSION_SEGMENT.match(s)]
    if not segments:
        return "Root"
    text = " ".join(re.sub(r"[-_.]+", " ", s) for s in segments[-2:]).strip() or "Root"
    return text[:1].upper() + text[1:]


def provider_name(service_name: str | None, origin_title: str | None, host: str) -> str:
    """The service's own name, else the first part of its homepage title, else the host."""
    for value in (service_name, origin_title):
        if value and value.strip():
            return clip(_TITLE_SPLIT.split(value.strip())[0], 60)
    return host


def title(provider: str, url: str) -> str:
    return clip(f"{provider} · {readable_path(url)}", 120)


def summary(description: str | None, method: str, url: str, host: str) -> tuple[str, bool]:
    """(summary, derived): the server's description, or a plain sentence when it gave none."""
    if description and description.strip():
        return clip(description, MAX_SUMMARY), False
    return f"Paid {method} endpoint {urlsplit(url).path or '/'} on {host}.", True


def price_phrase(price_usd: float | None, amount: str | None, symbol: str | None, atomic: str | None) -> str | None:
    if price_usd is not None:
        return "$" + (f"{price_usd:.6f}".rstrip("0").rstrip(".")) + " per call"
    if amount is not None and symbol:
        return f"{amount} {symbol} per call"
    if atomic is not None:
        return f"{atomic} atomic units per call"
    return None


def seo(provider: str, url: str, summary_text: str, price: str | None, network_names: list[str]) -> dict[str, str]:
    """{title, description} in the seeds' pattern: "<Thing> API | <Provider> | x402" and the summary
    followed by "x402: <price> on <networks>."."""
    head = f"{readable_path(url)} API | {provider} | x402"
    tail = ""
    if price:
        tail = f" x402: {price}" + (f" on {', '.join(network_names)}" if network_names else "") + "."
    room = max(40, MAX_SEO_DESCRIPTION - len(tail))
    text = clip(summary_text, room)
    if tail and not text.endswith((".", "!", "?", "…")):
        text += "."
    return {"title": clip(head, MAX_SEO_TITLE), "description": text + tail}


def use_cases(category_name: str, url: str, provider: str) -> list[str]:
    thing = readable_path(url).lower()
    return [t.format(thing=thing, provider=provider) for t in category(category_name).use_cases]


def ideal_buyer(category_name: str, url: str, provider: str) -> str:
    return category(category_name).buyer.format(thing=readable_path(url).lower(), provider=provider)


def _strings(value: Any, key: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """(key, string) pairs of a JSON value, depth-first, bounded."""
    if depth > 6:
        return
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in list(value.items())[:50]:
            yield from _strings(v, str(k), depth + 1)
    elif isinstance(value, list):
        for v in value[:20]:
            yield from _strings(v, key, depth + 1)


def example_prompt(url: str, example_url: str, body: Any) -> str | None:
    """What a person might ask an agent that would lead to this call: a natural-language string of
    the example (a prompt, a query, a message), else "Get <thing> for <k> <v>, …" from its parameters.
    None when there is no example at all."""
    for key, text in _strings(body):
        if key.lower() in _PROMPT_KEYS and len(text.split()) >= 2:
            return clip(text, MAX_PROMPT)
    params = [(k, v) for k, v in parse_qsl(urlsplit(example_url).query) if v][:4]
    if isinstance(body, dict):
        params += [(str(k), str(v)) for k, v in body.items() if isinstance(v, str | int | float)
                   and not isinstance(v, bool)][: 4 - len(params)]
    if not params:
        return None
    thing = readable_path(url).lower()
    return clip(f"Get {thing} for " + ", ".join(f"{k} {v}" for k, v in params) + ".", MAX_PROMPT)


def test_buy_commands(url: str, method: str, accepts: list[tuple[str | None, bool | None]]) -> tuple[str, str, str]:
    """(crawl, dry run, pay) commands for a resource, given its accepts as (CAIP-2 network, testnet).

    test-buy pays on Base Sepolia unless told otherwise and refuses a mainnet without --mainnet: a
    resource not offered there gets the network of its first accept (and --mainnet when that is not a
    testnet). The target is the URL (and --method when not GET), which a local catalog holds once the
    crawl command has probed it; a slug is only ours."""
    networks = [n for n, _ in accepts if n]
    flags = ""
    if networks and DEFAULT_NETWORK not in networks:
        network, testnet = next((n, t) for n, t in accepts if n)
        flags = f" --network {shlex.quote(network)}" + ("" if testnet else " --mainnet")
    method = (method or "GET").upper()
    target = shlex.quote(url) + ("" if method == "GET" else f" --method {shlex.quote(method)}")
    dry_run = f"x402-index test-buy {target}{flags}"
    return f"x402-index crawl --seed {shlex.quote(f'{method} {url}')}", dry_run, f"{dry_run} --pay"
