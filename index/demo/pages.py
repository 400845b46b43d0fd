"""HTML pages each fleet origin serves: a homepage (title, description, OpenGraph, JSON-LD, favicon,
a link to the docs) and a docs page written like real x402 endpoint docs.

Per endpoint the docs page has a `METHOD /path` heading, a field table with `*` marking required
fields (an HTML table, or on the ai origin a markdown table inside <pre>, as docs generators emit),
a curl example whose body is the resource's example body (or whose URL carries the example query),
and a JSON response example. The ai docs page also names an alternative to paying (an API key).
The weather homepage carries one malformed JSON-LD block next to a good one.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from index.demo.spec import DemoOrigin, DemoResource

# A 1x1 PNG, served as the favicon.
FAVICON_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

# Origins whose homepage carries a malformed JSON-LD block, and origins whose docs use markdown tables.
MALFORMED_LD_ORIGINS = frozenset({"weather"})
MARKDOWN_TABLE_ORIGINS = frozenset({"ai"})
# Origins whose docs name a way to skip payment, as seeds 003/004 do.
API_KEY_ORIGINS = frozenset({"ai"})


def _ld_text(obj: dict[str, Any]) -> str:
    """JSON for a <script> element: `<` escaped, so no `</script>` can close it early."""
    return json.dumps(obj).replace("<", "\\u003c")


def _ld_script(text: str) -> str:
    return f'<script type="application/ld+json">{text}</script>'


def json_ld_blocks(origin: DemoOrigin, base: str) -> list[str]:
    """The homepage's JSON-LD <script> elements: an Organization, and on MALFORMED_LD_ORIGINS a
    WebAPI block cut off mid-object (as a broken template would leave it)."""
    org = {"@context": "https://schema.org", "@type": "Organization", "name": origin.name, "url": base,
           "description": origin.tagline, "logo": f"{base}/favicon.png"}
    blocks = [_ld_script(_ld_text(org))]
    if origin.key in MALFORMED_LD_ORIGINS:
        api = {"@context": "https://schema.org", "@type": "WebAPI", "name": f"{origin.name} API",
               "documentation": f"{base}/docs", "provider": {"@type": "Organization", "name": origin.name}}
        text = _ld_text(api)
        blocks.append(_ld_script(text[: len(text) * 2 // 3]))
    return blocks


def homepage(origin: DemoOrigin, base: str) -> str:
    items = "".join(
        f"<li><code>{escape(r.method)} {escape(r.route)}</code> — {escape(r.description)}</li>"
        for r in origin.resources if r.paid
    )
    ld = "\n".join(json_ld_blocks(origin, base))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(origin.name)}</title>
<meta name="description" content="{escape(origin.tagline)}">
<meta property="og:title" content="{escape(origin.name)}">
<meta property="og:description" content="{escape(origin.tagline)}">
<meta property="og:type" content="website">
<meta property="og:url" content="{escape(base)}/">
<meta name="keywords" content="{escape(', '.join(origin.tags))}">
<link rel="icon" type="image/png" href="/favicon.png">
<link rel="canonical" href="{escape(base)}/">
{ld}
</head><body>
<h1>{escape(origin.name)}</h1><p>{escape(origin.tagline)}</p>
<h2>Endpoints</h2><ul>{items}</ul>
<p><a href="/docs">API docs</a></p>
</body></html>"""


def curl_example(res: DemoResource, base: str) -> str:
    """A curl call of the resource: its example body as JSON for POST-like methods, else its URL
    with the example query string."""
    url = base + res.path
    if res.body_example is not None:
        return (f"curl -i -X {res.method} \"{url}\" \\\n  -H \"Content-Type: application/json\" \\\n"
                f"  -d '{json.dumps(res.body_example)}'")
    return f"curl -i \"{url}\""


# What the docs say of fields whose schema has no description.
FIELD_NOTES = {
    "model": "Model id, e.g. lexa-small", "messages": "Chat messages: [{role, content}]",
    "stream": "Stream partial responses as server-sent events", "input": "Text to embed",
    "prompt": "What the image should show", "text": "The document to summarize",
    "city": "City name", "from": "First day (YYYY-MM-DD)", "to": "Last day (YYYY-MM-DD), default today",
    "region": "Region slug, e.g. iberia", "symbol": "Asset ticker, e.g. ETH", "topic": "News topic, e.g. defi",
    "address": "EVM address",
}


def _fields(res: DemoResource) -> tuple[str, list[tuple[str, str, str]]]:
    """(where the fields go, [(name with ' *' when required, type, description)])."""
    schema = res.body_schema if res.body_example is not None else res.query_schema
    where = "Request body (application/json)" if res.body_example is not None else "Query parameters"
    required = set(schema.get("required") or [])
    rows = [(f"{name} *" if name in required else name, str(spec.get("type", "")),
             str(spec.get("description") or FIELD_NOTES.get(name, "")))
            for name, spec in (schema.get("properties") or {}).items()]
    return where, rows


def _html_table(rows: list[tuple[str, str, str]]) -> str:
    body = "".join(f"<tr><td>{escape(n)}</td><td>{escape(t)}</td><td>{escape(d)}</td></tr>" for n, t, d in rows)
    return f"<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>{body}</tbody></table>"


def _markdown_table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| Field | Type | Description |", "|---|---|---|", *(f"{n} | {t} | {d} |" for n, t, d in rows)]
    text = "\n".join(lines)
    return f"<pre>{escape(text)}</pre>"


def _price_note(res: DemoResource) -> str:
    if not res.paid:
        return "<p>Free: no payment needed.</p>"
    terms = " or ".join(f"${p.usd} USDC on {p.network_name}" for p in res.prices)
    return f"<p>Price: {escape(terms)} per call, paid over x402.</p>"


def _section(origin: DemoOrigin, res: DemoResource, base: str) -> str:
    where, rows = _fields(res)
    if not rows:
        table = "<p>No parameters.</p>"
    elif origin.key in MARKDOWN_TABLE_ORIGINS:
        table = _markdown_table(rows)
    else:
        table = _html_table(rows)
    output = res.output_example if res.status == 402 else {"ok": True, "service": "up"}
    return f"""<section id="{escape(res.route.strip('/').replace('/', '-'))}">
<h2>{escape(res.method)} {escape(res.route)}</h2><p>{escape(res.description)}</p>
{_price_note(res)}
<h3>{escape(where)}</h3>
{table}
<h3>Example request</h3>
<pre><code class="language-bash">{escape(curl_example(res, base))}</code></pre>
<h3>Response</h3>
<pre><code class="language-json">{escape(json.dumps(output, indent=2))}</code></pre>
</section>"""


def _auth_note(origin: DemoOrigin) -> str:
    if origin.key not in API_KEY_ORIGINS:
        return ""
    return """<section id="authentication"><h2>Authentication</h2>
<p>Every endpoint accepts either of:</p>
<ol><li><strong>x402 payment</strong>: call without credentials, get <code>402 Payment Required</code>,
pay with any x402 client and retry.</li>
<li><strong>API key</strong>: API-key holders can skip payment by sending
<code>Authorization: Bearer &lt;key&gt;</code>.</li></ol></section>"""


def docs_page(origin: DemoOrigin, base: str) -> str:
    """Every live endpoint (paid or free) of the origin; never the retired one."""
    sections = "\n".join(_section(origin, r, base) for r in origin.resources if r.status in (402, 200))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(origin.name)} API docs</title>
<meta name="description" content="API reference for {escape(origin.name)}"></head>
<body><h1>{escape(origin.name)} API reference</h1>
<p>Every paid endpoint answers <code>402 Payment Required</code> with x402 payment terms until paid.</p>
{_auth_note(origin)}
{sections}
<p><a href="/">Home</a></p></body></html>"""
