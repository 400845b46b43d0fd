"""HTML pages each fleet origin serves: a homepage (title, description, OpenGraph, JSON-LD, favicon)
and a docs page with a curl example per paid resource."""

from __future__ import annotations

import base64
import json
from html import escape

from index.demo.spec import DemoOrigin

# A 1x1 PNG, served as the favicon.
FAVICON_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def homepage(origin: DemoOrigin, base: str) -> str:
    ld = {"@context": "https://schema.org", "@type": "Organization", "name": origin.name, "url": base,
          "description": origin.tagline, "logo": f"{base}/favicon.png"}
    items = "".join(
        f"<li><code>{escape(r.method)} {escape(r.route)}</code> — {escape(r.description)}</li>"
        for r in origin.resources if r.paid
    )
    ld_text = json.dumps(ld).replace("<", "\\u003c")
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
<script type="application/ld+json">{ld_text}</script>
</head><body>
<h1>{escape(origin.name)}</h1><p>{escape(origin.tagline)}</p>
<h2>Endpoints</h2><ul>{items}</ul>
<p><a href="/docs">API documentation</a></p>
</body></html>"""


def docs_page(origin: DemoOrigin, base: str) -> str:
    sections = []
    for r in origin.resources:
        if not r.paid:
            continue
        url = base + r.path
        if r.body_example is not None:
            curl = (f"curl -i -X {r.method} {url} \\\n  -H \"Content-Type: application/json\" \\\n"
                    f"  -d '{json.dumps(r.body_example)}'")
        else:
            curl = f"curl -i {url}"
        props = (r.body_schema or r.query_schema).get("properties") or {}
        required = set((r.body_schema or r.query_schema).get("required") or [])
        rows = "".join(
            f"<tr><td>{escape(k)}{' *' if k in required else ''}</td><td>{escape(str(v.get('type', '')))}</td>"
            f"<td>{escape(str(v.get('description', '')))}</td></tr>" for k, v in props.items()
        )
        sections.append(f"""<section id="{escape(r.route.strip('/').replace('/', '-'))}">
<h2>{escape(r.method)} {escape(r.route)}</h2><p>{escape(r.description)}</p>
<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>{rows}</tbody></table>
<pre><code>{escape(curl)}</code></pre>
<p>Response:</p><pre><code>{escape(json.dumps(r.output_example, indent=2))}</code></pre>
</section>""")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(origin.name)} API docs</title>
<meta name="description" content="API reference for {escape(origin.name)}"></head>
<body><h1>{escape(origin.name)} API reference</h1>
<p>Every endpoint answers <code>402 Payment Required</code> with x402 payment terms until paid.</p>
{''.join(sections)}</body></html>"""
