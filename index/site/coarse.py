"""What a static page shows of what every crawl moves, and what the search index reads.

Every crawl moves every record's health windows, its probe times and the build's time, so a page
that showed them exactly would change after every crawl, and the scheduled build would rewrite every
page. A page shows them at a coarse, still honest resolution instead (`page_view`): uptime to one
decimal with its window, latency as a band ("100–200 ms"), times as the day ("checked 2026-12-07").
The exact figures stay in the machine files: the JSON twin, catalog.jsonl, index.json, index.sqlite.
A page is rendered from its record's view, and its hash is the view's: a page whose view did not
change is not written again.

The search index (pagefind) reads a resource page's body except the parts marked
data-pagefind-ignore: what a searcher types, `SEARCH_FIELDS` (title, summary, tags, category, URL
and method, the origin's name, networks, which are also a pagefind filter). Prices, terms, health,
times and everything else the page shows sit in data-pagefind-ignore parts. A page's search key
hashes only SEARCH_FIELDS, so a crawl that moves prices or health does not run pagefind again
(tests/site/test_coarse.py holds the templates to it).
"""

from __future__ import annotations

import math
from typing import Any

from index.catalog.record import UPTIME_MIN_PROBES, CatalogRecord

# the fields a resource page shows outside data-pagefind-ignore, as the record's serializer takes them
# (`include`): a page's search key hashes these and nothing else
SEARCH_FIELDS = {"title": True, "summary": True, "tags": True, "category": True, "url": True, "method": True,
                 "networks": True, "origin": {"title": True, "host": True}}
_BANDS = (1, 2, 5)  # latency bands on a 1-2-5 scale: 50–100 ms, 100–200 ms, 200–500 ms, …


def day(stamp: str | None) -> str | None:
    """The day of an ISO-8601 time (UTC, as the catalog writes them): "2026-12-07"."""
    return stamp[:10] if stamp and len(stamp) >= 10 and stamp[4:5] == "-" else stamp


def band_floor(ms: float | None) -> float | None:
    """The lower edge of a latency's band on the 1-2-5 scale (87.3 → 50.0; 130 → 100.0)."""
    if ms is None or ms <= 0:
        return ms
    decade = 10 ** math.floor(math.log10(ms))
    floor = max(b for b in _BANDS if b * decade <= ms * (1 + 1e-9))
    return float(floor * decade)


def band_text(floor: float | None) -> str:
    """A band as a page shows it: "50–100 ms", "1–2 s"; "—" when unknown."""
    if floor is None:
        return "—"
    k = _BANDS.index(round(floor / 10 ** math.floor(math.log10(floor)))) if floor > 0 else 0
    decade = 10 ** math.floor(math.log10(floor)) if floor > 0 else 1
    top = (_BANDS[k + 1] * decade) if k + 1 < len(_BANDS) else 10 * decade
    return f"{_unit(floor)}–{_unit(top)}" if floor > 0 else "—"


def _unit(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def page_view(rec: CatalogRecord) -> CatalogRecord:
    """The record as its page shows it: times as days, uptime to one decimal, latencies as their band's
    lower edge (the templates print the band). Counts are not shown, only whether a window has enough
    probes (UPTIME_MIN_PROBES) for figures: a window with fewer says so and shows none (the
    twin has them). Rendered and hashed, never published: its counts are 0, 1 (some, too few) or
    UPTIME_MIN_PROBES (enough)."""
    update: dict[str, Any] = {k: day(getattr(rec, k)) for k in ("generated_at", "last_seen", "last_probed_at", "last_paid_at")}
    if rec.health is not None:
        windows = []
        for w in rec.health.windows:
            if w.samples >= UPTIME_MIN_PROBES:
                windows.append(w.model_copy(update={
                    "samples": UPTIME_MIN_PROBES, "up": 0,
                    "uptime_pct": None if w.uptime_pct is None else round(w.uptime_pct, 1),
                    "p50_latency_ms": band_floor(w.p50_latency_ms), "p95_latency_ms": band_floor(w.p95_latency_ms)}))
            else:
                windows.append(w.model_copy(update={
                    "samples": min(w.samples, 1), "up": 0, "uptime_pct": None, "p50_latency_ms": None,
                    "p95_latency_ms": None, "reason": w.reason if not w.samples else None}))
        update["health"] = rec.health.model_copy(update={"window_end": day(rec.health.window_end), "windows": windows})
    if rec.sources:
        update["sources"] = [s.model_copy(update={"last_seen": day(s.last_seen)}) for s in rec.sources]
    return rec.model_copy(update=update)


def origin_view(info: dict[str, Any]) -> dict[str, Any]:
    """An origin page's facts (index.site.origins.origin_summary) as the page shows them: its 7-day
    uptime to one decimal, the day of the last check, no probe counts (its twin has them)."""
    h = info["health"]
    probes = h["probes_7d"]
    pct = h["uptime_7d_pct"]
    health = {**h, "probes_7d": UPTIME_MIN_PROBES if probes >= UPTIME_MIN_PROBES else min(probes, 1), "up_7d": 0,
              "uptime_7d_pct": None if pct is None else round(pct, 1), "last_checked": day(h["last_checked"])}
    return {**info, "health": health, "generated_at": day(info.get("generated_at")), "resources": None}
