"""The aggregate pages and machine files of a build, made from per-resource summaries
(`index.site.layout.summary_of`): home, list pages, origins, categories, stats, changes, methodology, 404,
index.json, categories.json, metrics.json, changes.json, the Atom feed, sitemaps, robots.txt, llms.txt.
Rebuilt on every build; the writer skips files whose content hash did not change."""

from __future__ import annotations

import hashlib
import os
import statistics
from collections.abc import Callable
from collections import Counter
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

from index import findings
from index.site import feeds
from index.site import svg
from index.catalog import trust
from index.catalog.categories import titles
from index.paths import ROOT
from index.catalog.record import SCHEMA_ID, SCHEMA_VERSION
from index.site.coarse import day, origin_view
from index.site.layout import PAGE_ROWS, SORTS, dumps, rows_markup
from index.site.layout import compact_json as _json
from index.site.render import environment, network_name
from index.site.files import ORIGIN_SCHEMA, origin_schema
from index.site.origins import origin_summary
from index.site.writer import Share, SiteWriter, run_shares, safe_name

METHODOLOGY = ROOT / "docs" / "methodology.md"
LISTING = ROOT / "docs" / "listing.md"  # how to get listed or corrected: listing.html
ORIGIN_SHARES = 4  # origin pages are written in this many shares
STATUS_ORDER = ("paid", "paid_invalid", "other_protocol", "unreachable", "timeout", "down", "stale", "unknown")


def _ordered(counter: Counter[str], order: list[str] | tuple[str, ...] | None = None) -> dict[str, int]:
    if order is None:
        return dict(sorted(counter.items()))
    known = [k for k in order if counter.get(k)]
    return {**{k: counter[k] for k in known}, **{k: counter[k] for k in sorted(counter) if k not in order}}


def counts_of(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    nets: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    status: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    for s in summaries:
        e = s["entry"]
        nets.update(e["networks"])
        cats[e["category"]] += 1
        status[e["status"]] += 1
        tiers[e["trust_tier"]] += 1
    return {
        "resources": len(summaries),
        "origins": len({s["origin"]["slug"] for s in summaries}),
        "by_network": _ordered(nets),
        "by_category": _ordered(cats, list(titles())),
        "by_status": _ordered(status, STATUS_ORDER),
        "by_trust_tier": _ordered(tiers, trust.TIERS),
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 6) if values else None


def methodology_html(path: Path | None = None) -> Markup:
    """docs/methodology.md (or another page of docs/) as HTML (CommonMark + tables); raw HTML in it is
    escaped, not passed on."""
    path = path or METHODOLOGY  # read at call time: tests point it elsewhere
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        text = f"*docs/{path.name} was not found when this site was built.*"
    return Markup(md.render(text))


def write_pages(writer: SiteWriter, summaries: list[dict[str, Any]], generated_at: str | None, base_url: str,
                removed_log: list[dict[str, Any]], keys: tuple[list[bytes], list[bytes]] | None = None,
                workers: int = 1, extra: list[Share] | None = None, meanwhile: Callable[[], None] | None = None) -> None:
    """`keys`, when given, are two hashes per summary, keyed with the build fingerprint: the hash of what
    its row shows (the record's page view, index.site.coarse) and the hash of its record. List and
    category pages (made of rows) whose members' row keys and context are the last build's, and origin
    pages and twins (exact aggregates) whose members' record keys and context are, are then not
    rendered again (SiteWriter.write_keyed). HTML pages show the build's day, machine files its time.

    The work is cut into shares (category pages with categories.json and stats, each sort order's list
    pages, home with index.json, origin pages in slices, changes and the small pages, sitemaps) that
    `run_shares` spreads over `workers` forked processes; `extra` shares run beside them, and
    `meanwhile` in this process."""
    env = environment()
    counts = counts_of(summaries)
    cat_titles = titles()
    base = {"base_url": base_url, "generated_at": day(generated_at), "schema_version": SCHEMA_VERSION}
    ok = keys is not None and all(len(k) == len(summaries) for k in keys)
    row_key = {id(s): k for s, k in zip(summaries, keys[0])} if keys is not None and ok else None
    record_key = {id(s): k for s, k in zip(summaries, keys[1])} if keys is not None and ok else None
    context = repr((sorted(base.items()), sorted(cat_titles.items()), PAGE_ROWS)).encode()

    def write(w: SiteWriter, rel: str, members: list[dict[str, Any]], extra: Any, make: Callable[[], str],
              exact: bool = False) -> None:
        key_of = record_key if exact else row_key
        if key_of is None:
            w.write(rel, make())
            return
        h = hashlib.blake2b(context + repr(extra).encode(), digest_size=16)
        for m in members:
            h.update(key_of[id(m)])
        w.write_keyed(rel, h.hexdigest(), make)
    entries = [s["entry"] for s in summaries]

    # orders of the big table: JS sorts in place; these pages make sorting work without it
    by_title = sorted(summaries, key=lambda s: (s["entry"]["title"].casefold(), s["entry"]["slug"]))
    orders: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "title": lambda: by_title,
        "price": lambda: sorted(summaries, key=lambda s: (s["entry"]["price_usd"] is None, s["entry"]["price_usd"] or 0,
                                                          s["entry"]["title"].casefold(), s["entry"]["slug"])),
        # most reliable first; too few probes for a percentage after every percentage, by probes answered
        "uptime": lambda: sorted(summaries, key=lambda s: (s["entry"]["uptime_7d_pct"] is None, -(s["entry"]["uptime_7d_pct"] or 0),
                                                           -s["entry"]["up_7d"], s["entry"]["title"].casefold(), s["entry"]["slug"])),
    }
    assert set(orders) == set(SORTS)
    n_pages = max(1, -(-len(summaries) // PAGE_ROWS))
    origins: dict[str, list[dict[str, Any]]] = {}
    by_cat: dict[str, list[dict[str, Any]]] = {}
    for s in by_title:
        origins.setdefault(safe_name(s["origin"]["slug"]), []).append(s)
        by_cat.setdefault(safe_name(s["entry"]["category"]), []).append(s)
    prices = [e["price_usd"] for e in entries if e["price_usd"] is not None]
    versions = Counter("unknown" if e["x402_version"] is None else str(e["x402_version"]) for e in entries)
    metrics = {"schema_version": SCHEMA_VERSION, "generated_at": generated_at, "resources": counts["resources"],
               "origins": counts["origins"], "verified": sum(1 for e in entries if e["verified"]),
               "by_network": counts["by_network"], "by_category": counts["by_category"],
               "by_status": counts["by_status"], "by_version": dict(sorted(versions.items())),
               "by_trust_tier": counts["by_trust_tier"], "priced_usd": len(prices), "median_price_usd": _median(prices)}

    def category_infos() -> list[dict[str, Any]]:
        infos = []
        for name in counts["by_category"]:
            members = by_cat[name]
            prices = [s["entry"]["price_usd"] for s in members if s["entry"]["price_usd"] is not None]
            infos.append({"name": name, "title": cat_titles.get(name, name), "resources": len(members),
                          "origins": len({s["origin"]["slug"] for s in members}),
                          "min_price_usd": min(prices) if prices else None, "median_price_usd": _median(prices),
                          "page": f"c/{name}.html"})
        return infos

    def list_pages(sort: str) -> Share:
        def share(w: SiteWriter) -> None:
            ordered = orders[sort]()
            tpl = env.get_template("list.html")
            for k in range(1, n_pages + 1):
                chunk = ordered[(k - 1) * PAGE_ROWS: k * PAGE_ROWS]
                write(w, f"list/{sort}-{k}.html", chunk, (sort, k, n_pages, counts), lambda: tpl.render(
                    root="../", rows=rows_markup((s["row"] for s in chunk), 1), sort=sort, page=k, pages=n_pages,
                    shown=len(chunk), counts=counts, **base))
        return share

    def origin_pages(slugs: list[str]) -> Share:
        def share(w: SiteWriter) -> None:
            tpl = env.get_template("origin.html")
            for slug in slugs:
                members = origins[slug]
                info = origin_summary(members, generated_at)  # cheap beside rendering; the twin needs it anyway
                doc = {"schema_version": SCHEMA_VERSION, **info}
                write(w, f"o/{slug}.json", members, ("json", generated_at), lambda: _json(doc), exact=True)
                shown = origin_view(info)  # the page: coarse health (index.site.coarse), keyed on it and the rows
                write(w, f"o/{slug}.html", members, shown["health"], lambda: tpl.render(
                    root="../", origin=info["origin"], info=shown, slug=slug,
                    rows=rows_markup((s["row"] for s in members), 1), n=len(members), cat_titles=cat_titles, **base))
        return share

    def category_files(w: SiteWriter) -> None:
        """Category pages, categories.json and the stats page (its charts are by category)."""
        cat_infos = category_infos()
        tpl = env.get_template("category.html")
        for info in cat_infos:
            members = by_cat[info["name"]]
            write(w, info["page"], members, info, lambda: tpl.render(
                root="../", cat=info, rows=rows_markup((s["row"] for s in members), 1), **base))
        w.write("categories.json", _json({"schema_version": SCHEMA_VERSION, "generated_at": generated_at,
                                          "categories": cat_infos}))
        by_price_cat = [(info["title"], [s["entry"]["price_usd"] for s in by_cat[info["name"]]
                                         if s["entry"]["price_usd"] is not None]) for info in cat_infos]
        charts = {
            "network": svg.bar_chart("Resources by network", [(network_name(k), v) for k, v in counts["by_network"].items()]),
            "category": svg.bar_chart("Resources by category", [(cat_titles.get(k, k), v) for k, v in counts["by_category"].items()]),
            "status": svg.bar_chart("Resources by status of the latest probe", list(counts["by_status"].items())),
            "tier": svg.bar_chart("Resources by trust tier", list(counts["by_trust_tier"].items())),
            "price": svg.log_box_chart("Price per call (USD, log scale) by category", by_price_cat),
        }
        w.write("stats.html", env.get_template("stats.html").render(
            root="", charts=charts, counts=counts, metrics=metrics, cat_infos=cat_infos, **base))

    def home_and_index(w: SiteWriter) -> None:
        facets = {
            "categories": [(name, cat_titles.get(name, name), n) for name, n in counts["by_category"].items()],
            "networks": [(caip2, network_name(caip2), n) for caip2, n in counts["by_network"].items()],
            "statuses": list(counts["by_status"].items()),
            "tiers": list(counts["by_trust_tier"].items()),
        }
        # retired resources (index.schedule.rules) leave the default view; their pages and the list pages keep them
        home_rows = [s for s in by_title if not s["entry"].get("retired")][:PAGE_ROWS]
        w.write("index.html", env.get_template("index.html").render(
            root="", rows=rows_markup((s["row"] for s in home_rows), 0), shown=len(home_rows), pages=n_pages,
            retired=sum(1 for e in entries if e.get("retired")),
            counts=counts, facets=facets, cat_titles=cat_titles, **base))
        w.write("index.json", _json({
            "schema_version": SCHEMA_VERSION, "generated_at": generated_at, "record_schema": SCHEMA_ID,
            "catalog": "catalog.jsonl", "counts": counts, "resources": entries}))
        w.write("metrics.json", _json(metrics))

    def changes_and_small_pages(w: SiteWriter) -> None:
        changes = feeds.changes(summaries, removed_log)
        w.write("changes.json", _json({"schema_version": SCHEMA_VERSION, "generated_at": generated_at,
                                       "changes": changes}))
        w.write("changes.atom", env.get_template("changes.atom").render(
            changes=changes[: feeds.MAX_FEED], feed_url=feeds.site_url(base_url, "changes.atom"),
            # an Atom id is an absolute IRI: the feed's URL when the build knows it, else a URN
            feed_id=feeds.site_url(base_url, "changes.atom") if base_url else "urn:x402-index:changes",
            home=feeds.site_url(base_url, "index.html"), link=lambda p: feeds.site_url(base_url, p),
            **{**base, "generated_at": generated_at}))  # a feed's <updated> is the exact time
        w.write("changes.html", env.get_template("changes.html").render(root="", changes=changes, **base))
        w.write("methodology.html", env.get_template("methodology.html").render(
            root="", body=methodology_html(), findings=findings.table(), risks=trust.RISKS, tiers=trust.TIERS,
            page_rows=PAGE_ROWS, **base))
        w.write("listing.html", env.get_template("listing.html").render(root="", body=methodology_html(LISTING), **base))
        w.write("404.html", env.get_template("404.html").render(root=f"{base_url}/", **base))
        w.write(ORIGIN_SCHEMA, dumps(origin_schema(base_url)))
        w.write("robots.txt", feeds.robots(base_url))
        w.write("llms.txt", feeds.llms_txt(base_url, counts, generated_at))

    def sitemaps(w: SiteWriter) -> None:  # for crawlers
        pages = ["index.html", "stats.html", "changes.html", "methodology.html", "listing.html",
                 *(f"c/{name}.html" for name in counts["by_category"]), *(f"o/{slug}.html" for slug in origins),
                 *(e["page"] for e in entries)]
        # sitemaps.org wants absolute URLs: a build that does not know its public URL publishes none
        maps = feeds.sitemaps(pages, base_url) if base_url else {}
        for name, xml in maps.items():
            w.write(name, xml)
        _remove_old_sitemaps(w, set(maps))

    # the largest shares first, so that the last to finish are short ones
    slugs = list(origins)
    cut = max(1, -(-len(slugs) // ORIGIN_SHARES))
    shares: list[Share] = [category_files, list_pages("price"), *(extra or []), home_and_index, list_pages("title"),
                           list_pages("uptime"),
                           *(origin_pages(slugs[lo:lo + cut]) for lo in range(0, len(slugs), cut)),
                           changes_and_small_pages, sitemaps]
    run_shares(writer, shares, workers, meanwhile)


def _remove_old_sitemaps(w: SiteWriter, keep: set[str]) -> None:
    """Sitemaps an earlier build wrote and this one did not (a file of that name put there by someone
    else stays)."""
    for name in os.listdir(w.root):
        if (name == "sitemap.xml" or name.startswith("sitemap-")) and name.endswith(".xml") and name not in keep \
                and (w.owned is None or name in w.owned):
            os.unlink(w.root / name)
