"""Inline SVG charts for the stats page, drawn at build time (pure: numbers in, markup out).

No script, no external asset, no inline `style` attribute (the pages' CSP has no 'unsafe-inline' for
styles): colours and fonts are presentation attributes and CSS classes from static/style.css. Every
label is XML-escaped. Each chart carries a <title> and a <desc> for screen readers, and the page puts
the same figures in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

BAR_HEIGHT = 22
BAR_GAP = 6
LABEL_WIDTH = 170
CHART_WIDTH = 640
VALUE_WIDTH = 60


def _num(value: float) -> str:
    """A coordinate with at most one decimal: stable across platforms."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def bar_chart(title: str, items: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per (label, count), longest first as given."""
    bars = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    top = max((n for _, n in items), default=0) or 1
    height = max(1, len(items)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {CHART_WIDTH} {height}" width="{CHART_WIDTH}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             # an f-string, not "<desc>" + escape(…): a str added to a Markup is escaped, tags and all
             f'<desc>{escape("; ".join(f"{label}: {n}" for label, n in items) or "no data")}</desc>']
    for i, (label, n) in enumerate(items):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        w = bars * n / top
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{_num(y + BAR_HEIGHT * 0.7)}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{_num(max(w, 1))}" height="{BAR_HEIGHT}" rx="3"/>'
            f'<text class="value" x="{_num(LABEL_WIDTH + max(w, 1) + 6)}" y="{_num(y + BAR_HEIGHT * 0.7)}">{n}</text>')
    if not items:
        parts.append(f'<text class="label" x="{LABEL_WIDTH}" y="{BAR_HEIGHT}">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def quantiles(values: Sequence[float]) -> tuple[float, float, float, float, float]:
    """(min, p25, median, p75, max) by linear interpolation; `values` must be non-empty."""
    xs = sorted(values)

    def q(p: float) -> float:
        pos = (len(xs) - 1) * p
        lo = math.floor(pos)
        hi = min(lo + 1, len(xs) - 1)
        return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)

    return xs[0], q(0.25), q(0.5), q(0.75), xs[-1]


def _log_range(values: Sequence[float]) -> tuple[int, int]:
    lo = math.floor(math.log10(min(values)))
    hi = math.ceil(math.log10(max(values)))
    return lo, max(hi, lo + 1)


def _usd_tick(exp: int) -> str:
    value = 10.0 ** exp
    if exp >= 0:
        return f"${value:,.0f}"
    return "$" + f"{value:.{-exp}f}"


def log_box_chart(title: str, groups: Sequence[tuple[str, Sequence[float]]]) -> Markup:
    """One box per (label, prices): whiskers min–max, box p25–p75, a tick at the median, on a log10
    axis of USD. Non-positive prices are left out (a log scale has no place for them)."""
    rows = [(label, [v for v in values if v > 0]) for label, values in groups]
    rows = [(label, values) for label, values in rows if values]
    axis_h = 28
    height = max(1, len(rows)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP + axis_h
    plot_w = CHART_WIDTH - LABEL_WIDTH - 20
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {CHART_WIDTH} {height}" width="{CHART_WIDTH}" '
             f'height="{height}" xmlns="http://www.w3.org/2000/svg">', f"<title>{escape(title)}</title>"]
    if not rows:
        parts.append("<desc>no prices</desc>")
        parts.append(f'<text class="label" x="{LABEL_WIDTH}" y="{BAR_HEIGHT}">no prices</text></svg>')
        return Markup("".join(parts))
    lo, hi = _log_range([v for _, values in rows for v in values])

    def x(value: float) -> float:
        return LABEL_WIDTH + plot_w * (math.log10(value) - lo) / (hi - lo)

    stats = [(label, quantiles(values), len(values)) for label, values in rows]
    desc = "; ".join(f"{label}: {n} prices, median ${q[2]:.6g}, from ${q[0]:.6g} to ${q[4]:.6g}" for label, q, n in stats)
    parts.append(f"<desc>{escape(desc)}</desc>")
    bottom = height - axis_h
    for exp in range(lo, hi + 1):
        gx = _num(x(10.0 ** exp))
        parts.append(f'<line class="grid" x1="{gx}" y1="0" x2="{gx}" y2="{bottom}"/>'
                     f'<text class="tick" x="{gx}" y="{bottom + 18}" text-anchor="middle">{escape(_usd_tick(exp))}</text>')
    for i, (label, (mn, p25, med, p75, mx), n) in enumerate(stats):
        y = BAR_GAP + i * (BAR_HEIGHT + BAR_GAP)
        mid = _num(y + BAR_HEIGHT / 2)
        parts.append(
            f'<text class="label" x="{LABEL_WIDTH - 8}" y="{_num(y + BAR_HEIGHT * 0.7)}" text-anchor="end">{escape(label)} ({n})</text>'
            f'<line class="whisker" x1="{_num(x(mn))}" y1="{mid}" x2="{_num(x(mx))}" y2="{mid}"/>'
            f'<rect class="box" x="{_num(x(p25))}" y="{y + 3}" width="{_num(max(x(p75) - x(p25), 2))}" '
            f'height="{BAR_HEIGHT - 6}"/>'
            f'<line class="median" x1="{_num(x(med))}" y1="{y}" x2="{_num(x(med))}" y2="{y + BAR_HEIGHT}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
