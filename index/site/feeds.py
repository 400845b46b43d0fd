"""Changes (added, price and payTo changes, removals), sitemaps, robots.txt and llms.txt (pure: data in,
text out). The Atom feed is a template (site_templates/changes.atom) fed by `changes()`."""

from __future__ import annotations

import heapq
from typing import Any
from xml.sax.saxutils import escape

from index.site.files import SCHEMAS
from index.catalog.trust import TIERS

MAX_CHANGES = 500  # entries in changes.json and on the changes page
MAX_FEED = 100  # entries in the Atom feed
MAX_REMOVED = 500  # removals remembered between builds
SITEMAP_MAX = 50_000  # URLs per sitemap file (sitemaps.org)


def changes(summaries: list[dict[str, Any]], removed: list[dict[str, Any]], limit: int = MAX_CHANGES) -> list[dict[str, Any]]:
    """Newest first: resources added (by first_seen), terms changes seen by our probes, removals."""
    out: list[dict[str, Any]] = []
    added = heapq.nlargest(limit, (s for s in summaries if s.get("first_seen")),
                           key=lambda s: (s["first_seen"], s["entry"]["slug"]))
    for s in added:
        e = s["entry"]
        out.append({"kind": "added", "at": s["first_seen"], "slug": e["slug"], "title": e["title"], "url": e["url"],
                    "page": e["page"], "before": [], "after": []})
    for s in summaries:
        e = s["entry"]
        for c in s.get("changes") or []:
            out.append({"kind": c["field"], "at": c["at"], "slug": e["slug"], "title": e["title"], "url": e["url"],
                        "page": e["page"], "before": list(c.get("before") or []), "after": list(c.get("after") or [])})
    out.extend(removed)
    out.sort(key=lambda c: (c.get("at") or "", c["kind"], c["slug"]), reverse=True)
    return out[:limit]


def site_url(base_url: str, path: str) -> str:
    """A page's URL in sitemaps and feeds: absolute when the build knows its public URL."""
    return f"{base_url}/{path}" if base_url else f"/{path}"


def sitemaps(paths: list[str], base_url: str) -> dict[str, str]:
    """{file name: XML}: one sitemap.xml, or past SITEMAP_MAX URLs a sitemap index in sitemap.xml over
    sitemap-1.xml … sitemap-N.xml."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'

    def urlset(chunk: list[str]) -> str:
        body = "".join(f"<url><loc>{escape(site_url(base_url, p))}</loc></url>\n" for p in chunk)
        return f"{head}<urlset {ns}>\n{body}</urlset>\n"

    if len(paths) <= SITEMAP_MAX:
        return {"sitemap.xml": urlset(paths)}
    files: dict[str, str] = {}
    for k, lo in enumerate(range(0, len(paths), SITEMAP_MAX), 1):
        files[f"sitemap-{k}.xml"] = urlset(paths[lo:lo + SITEMAP_MAX])
    index = "".join(f"<sitemap><loc>{escape(site_url(base_url, name))}</loc></sitemap>\n" for name in files)
    files["sitemap.xml"] = f"{head}<sitemapindex {ns}>\n{index}</sitemapindex>\n"
    return files


def robots(base_url: str) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if base_url:
        lines.append(f"Sitemap: {base_url}/sitemap.xml")
    return "\n".join(lines) + "\n"


def llms_txt(base_url: str, counts: dict[str, Any], generated_at: str | None) -> str:
    """How an agent should use this site's machine files (llmstxt.org layout)."""
    root = base_url or ""
    schemas = ", ".join(f"[{name}]({root}/{rel})" for name, rel in SCHEMAS.items())
    return f"""# x402-index

> A free catalog of x402 paid endpoints (HTTP 402 Payment Required, paid per call in stablecoins),
> probed by our own crawler. {counts['resources']} resources on {counts['origins']} origins, data as of {generated_at or 'never'}.

Every number was measured by our crawler; a field that was never measured is null, and the record's
`null_reasons` says why. Fields we derived rather than read are listed in `derived_fields`.

## Machine files

- [index.json]({root}/index.json): schema_version, generated_at, counts, and one compact entry per resource
  (slug, url, method, title, summary, category, tags, networks, price_usd, status, trust_tier, verified,
  last_verified, retired, x402_version, origin, `href` of its JSON twin, `page` of its HTML page). Start here: filter
  the entries, then fetch the twins you need. `retired` entries failed every probe for a week; they
  stay listed and are still probed now and then.
- r/<slug>.json: the full catalog record of one resource (accepts with payTo, asset, amounts in atomic
  and human units and USD, input/output hints, an example request, conformance findings, health,
  trust tier and reasons, risk notes, sources). Its schema: [schema/catalog-record.schema.json]({root}/schema/catalog-record.schema.json).
- [catalog.jsonl]({root}/catalog.jsonl): every full record, one per line, for a bulk mirror.
- [categories.json]({root}/categories.json), [metrics.json]({root}/metrics.json): the catalog by facet.
- [changes.json]({root}/changes.json) and [changes.atom]({root}/changes.atom): resources added, price and payTo changes, removals.
- The JSON Schema of each: {schemas}.

## How to pay

A resource answers `402 Payment Required` with its terms; the `accepts` of its record are what our
probe saw. Check `trust_tier` (best first: {" > ".join(TIERS)}) and `risk_notes` before paying,
and compare the live 402 with the record: terms can change. A record's `test_buy` has the commands
of our CLI (`pip install` this project): `crawl_command` once, to put the resource in a local
catalog, then `command`, a dry run that prints what would be signed, and `pay_command`, which pays
once within a cap (default $0.10).

## Human pages

- [Home]({root}/index.html): search, filters and the table of every resource.
- [Methodology]({root}/methodology.html): how every derived field, tier and finding is decided.
"""
