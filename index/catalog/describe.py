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

from index.catalog.docs_hints import is_placeholder
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


def summary(options: list[tuple[str | None, str]], method: str, url: str, host: str) -> tuple[str, str]:
    """(summary, where it came from): the first description among `options` ((text, source) pairs, best
    first: the 402's, the docs section's, the OpenAPI operation's, the origin's), else a plain sentence
    ("template")."""
    for text, source in options:
        if isinstance(text, str) and text.strip():
            return clip(text, MAX_SUMMARY), source
    return f"Paid {method} endpoint {urlsplit(url).path or '/'} on {host}.", "template"


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


def _names(items: list[str], limit: int = 4) -> str:
    items = [f"`{i}`" for i in items[:limit]]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def use_cases(url: str, known: dict[str, Any]) -> list[str]:
    """Use cases built from what the record says of this resource (`known`: description, input_fields
    (required first), output_keys, price (phrase), asset (symbol), networks (names)). Empty when we know
    neither its input, its output nor a description: a category's boilerplate would say nothing true
    about this endpoint in particular. Never names an asset or a network the accepts do not carry."""
    thing = readable_path(url).lower()
    fields, outputs = known.get("input_fields") or [], known.get("output_keys") or []
    if not (fields or outputs or known.get("description")):
        return []
    out = []
    if fields:
        out.append(clip(f"Call {thing} from an agent with {_names(fields)}", 160))
    elif known.get("description"):
        out.append(clip(f"Call {thing} from an agent: {known['description']}", 160))
    if outputs:
        out.append(clip(f"Use the {_names(outputs)} of its JSON answer in the next step of a plan", 160))
    if known.get("price") and known.get("asset"):
        where = f" on {', '.join(known['networks'])}" if known.get("networks") else ""
        out.append(clip(f"Pay {known['price']} in {known['asset']}{where} over x402", 160))
    return out


def ideal_buyer(url: str, provider: str, known: dict[str, Any]) -> str | None:
    """Who this resource is for, from the same facts as use_cases; None when nothing specific is known."""
    if not (known.get("input_fields") or known.get("output_keys") or known.get("description")):
        return None
    thing = readable_path(url).lower()
    pay = f", paying {known['price']} in {known['asset']}" if known.get("price") and known.get("asset") else ""
    return clip(f"Agents that need {thing} from {provider} one request at a time{pay}.", 200)


NOTHING_SPECIFIC = "nothing specific is known of its input, output or purpose"


def copy_null_reasons(cases: list[str], buyer: str | None) -> dict[str, str]:
    """null_reasons for the copy fields a record leaves empty, and for axon_deep_link, which ours always is."""
    reasons = {"axon_deep_link": "we publish no link that starts a buy; test_buy holds the test-buy commands"}
    if not cases:
        reasons["use_cases"] = NOTHING_SPECIFIC
    if buyer is None:
        reasons["ideal_buyer"] = NOTHING_SPECIFIC
    return reasons


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


_NOT_USER_KEYS = frozenset({"system", "system_prompt", "systemprompt", "instructions", "developer", "preamble"})


def _message_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": …}, {"type": "image_url", …}]
        return next((p["text"] for p in content[:20] if isinstance(p, dict) and isinstance(p.get("text"), str)), None)
    return None


def user_message(body: Any) -> str | None:
    """The last user message of a chat-shaped body ({"messages": [{role, content}, …]}), when real."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return None
    for m in reversed(messages[:200]):
        if isinstance(m, dict) and m.get("role") == "user":
            text = _message_text(m.get("content"))
            if text and text.strip() and not is_placeholder(text):
                return text
    return None


def _prompt_strings(body: Any) -> Iterator[tuple[str, str]]:
    """(key, string) pairs of a body a user could have written: not a system prompt or instructions,
    not the other roles of a chat, not a docs generator's placeholder."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if str(k).lower() not in _NOT_USER_KEYS and k != "messages"}
    for key, text in _strings(body):
        if not is_placeholder(text):
            yield key, text


def example_prompt(url: str, example_url: str, body: Any) -> str | None:
    """What a person might ask an agent that would lead to this call: the user's message of a chat
    example, else a natural-language string of the example (a prompt, a query), else "Get <thing> for
    <k> <v>, …" from its parameters. Never a system prompt or a placeholder; None when there is no
    example at all."""
    said = user_message(body)
    if said:
        return clip(said, MAX_PROMPT)
    for key, text in _prompt_strings(body):
        if key.lower() in _PROMPT_KEYS and len(text.split()) >= 2:
            return clip(text, MAX_PROMPT)
    params = [(k, v) for k, v in parse_qsl(urlsplit(example_url).query) if v][:4]
    if isinstance(body, dict):
        params += [(str(k), str(v)) for k, v in body.items() if isinstance(v, str | int | float)
                   and not isinstance(v, bool) and str(k).lower() not in _NOT_USER_KEYS
                   and not is_placeholder(v)][: 4 - len(params)]
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
