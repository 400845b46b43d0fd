"""The words of a record: provider, title, summary, SEO, use cases, buyer, example prompt (pure).

Deterministic templates (data/categories.yaml) filled with what the server and its pages said; no
language model. Fields written here are listed in the record's `derived_fields`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from index.catalog.categories import category
from index.paths import WALLET_FILE
from index.probe.netguard import host_block_reason
from index.protocol.networks import DEFAULT_NETWORK

MAX_SUMMARY = 300
MAX_SEO_TITLE = 70
MAX_SEO_DESCRIPTION = 200
MAX_PROMPT = 200
_VERSION_SEGMENT = re.compile(r"^(v\d+|api)$", re.IGNORECASE)
_TITLE_SPLIT = re.compile(r"\s+[-–—|·:]\s+")
_PROMPT_KEYS = ("prompt", "query", "q", "question", "text", "input", "content", "message", "instruction", "task")
_SPACE = re.compile(r"\s+")
_GUARDED = ("loopback", "private", "reserved", "bad_port")  # what --allow-host lets through for one host


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
    """(crawl, dry run, pay) commands for a resource, given its accepts as (CAIP-2 network, testnet),
    that run as printed in a shell.

    test-buy pays on Base Sepolia unless told otherwise and refuses a mainnet without --mainnet: a
    resource not offered there gets the network of its first accept (and --mainnet when that is not a
    testnet). The target is the URL (and --method when not GET), which a local catalog holds once the
    crawl command has probed it; a slug is only ours. A resource on a loopback or private address (the
    demo fleet) is refused by the SSRF guard of both commands unless its host is let through with
    --allow-host. The pay command reads the key `x402-index wallet new` writes (WALLET_FILE)."""
    networks = [n for n, _ in accepts if n]
    flags = ""
    if networks and DEFAULT_NETWORK not in networks:
        network, testnet = next((n, t) for n, t in accepts if n)
        flags = f" --network {shlex.quote(network)}" + ("" if testnet else " --mainnet")
    guard = ""
    if host_block_reason(url) in _GUARDED:
        guard = f" --allow-host {shlex.quote(urlsplit(url).hostname or '')}"
    method = (method or "GET").upper()
    target = shlex.quote(url) + ("" if method == "GET" else f" --method {shlex.quote(method)}")
    dry_run = f"x402-index test-buy {target}{flags}{guard}"
    crawl = f"x402-index crawl --seed {shlex.quote(f'{method} {url}')}{guard}"
    return crawl, dry_run, f"{dry_run} --pay --key-file {WALLET_FILE}"


def agent_prompt(record: Any, when: str | None = None) -> str:
    """A short, self-contained instruction an agent can act on, from measured fields only: what the
    endpoint does (the server's own description; a derived summary is left out), URL and method,
    price and network of the cheapest accept, the example request, and how to pay. `record` is a
    CatalogRecord; `when`, the time of our last check as it should read."""
    accepts = [a for a in record.accepts if a.network_caip2 or a.network]
    priced = sorted(accepts, key=lambda a: (a.price_usd is None, a.price_usd or 0))
    lines = [f"Call this paid HTTP endpoint for me: {record.method} {record.url}"]
    if "summary" not in record.derived_fields and record.summary:
        lines.append(f"What it does, as its provider describes it: {clip(record.summary, MAX_SUMMARY)}")
    if priced:
        a = priced[0]
        amount = f"{a.amount} {a.asset_symbol}" if a.amount is not None and a.asset_symbol else \
            f"{a.max_amount_required_atomic} atomic units of asset {a.asset}"
        usd = f" (${a.price_usd:.6f}".rstrip("0").rstrip(".") + ")" if a.price_usd is not None else ""
        network = f"{a.network_name or a.network} ({a.network_caip2 or a.network})"
        lines.append(f"Price: {amount}{usd} per call on {network}, paid to {a.pay_to}.")
        others = len(accepts) - 1
        if others:
            lines.append(f"It accepts {others} other way{'s' if others != 1 else ''} to pay (other networks or assets).")
    example = record.example_request
    if example is not None:
        text = f"{example.method} {example.url}"
        if example.body is not None:
            body = example.body if isinstance(example.body, str) else json.dumps(example.body, ensure_ascii=False,
                                                                                   separators=(",", ":"))
            text += f" with body {clip(body, 400)}"
        lines.append(f"Example request: {text}")
    network = priced[0].network_name or priced[0].network if priced else "its network"
    lines.append("It uses x402: unpaid, it answers 402 Payment Required with its terms. Pay with an official x402 "
                 "client (the `x402` package for Python, `@x402/fetch` for JavaScript) and a wallet holding the "
                 f"asset on {network}: the client signs the payment and retries the request. Or, through the "
                 f"x402-index MCP server (`x402-index mcp`), call the tool test_buy with resource \"{record.slug}\".")
    cap = f"${priced[0].price_usd:.6f}".rstrip("0").rstrip(".") if priced and priced[0].price_usd is not None else None
    lines.append("Before paying, check that the 402's terms match these" + (f" and never pay more than {cap} a call." if cap else "."))
    if when:
        lines.append(f"(Terms as x402-index measured them on {when}.)")
    return "\n".join(lines)
