"""Query a published build: index.json (or catalog.jsonl), local or remote. Pure filters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from index.networks import to_caip2
from index.record import CatalogRecord, index_entry

MAX_REMOTE_BYTES = 64 * 1024 * 1024


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _fetch(url: str) -> str:
    import httpx

    with httpx.Client(timeout=30, follow_redirects=True, verify=True) as client:
        resp = client.get(url, headers={"Accept": "application/json"})
        resp.raise_for_status()
        if len(resp.content) > MAX_REMOTE_BYTES:
            raise ValueError(f"{url}: index larger than {MAX_REMOTE_BYTES} bytes")
        return resp.text


def _entries_from_jsonl(text: str) -> list[dict[str, Any]]:
    return [index_entry(CatalogRecord.model_validate_json(line)).model_dump(mode="json")
            for line in text.splitlines() if line.strip()]


def load_entries(location: str | Path) -> list[dict[str, Any]]:
    """Index entries from a build folder, an index.json / catalog.jsonl file, or their URL."""
    loc = str(location)
    if _is_url(loc):
        if loc.endswith("/"):
            loc += "index.json"
        text = _fetch(loc)
    else:
        path = Path(loc)
        if path.is_dir():
            path = path / "index.json"
        if not path.exists():
            raise FileNotFoundError(f"no index at {path} (run `x402-index build` first)")
        text = path.read_text(encoding="utf-8")
        loc = str(path)
    if loc.endswith(".jsonl"):
        return _entries_from_jsonl(text)
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("resources"), list):
        raise ValueError(f"{loc} is not an x402-index index.json")
    return data["resources"]


def filter_entries(
    entries: list[dict[str, Any]],
    q: str | None = None,
    category: str | None = None,
    network: str | None = None,
    max_price: float | None = None,
) -> list[dict[str, Any]]:
    """Entries matching every given filter. `network` takes CAIP-2 or a v1 name; `max_price` is USD
    and excludes entries whose price in USD is unknown."""
    words = [w for w in (q or "").lower().split() if w]
    wanted_net = to_caip2(network) if network else None
    if network and wanted_net is None:
        raise ValueError(f"unknown network {network!r}")
    out = []
    for e in entries:
        if words:
            text = " ".join(str(e.get(k) or "") for k in ("title", "summary", "url", "category", "origin")).lower()
            if not all(w in text for w in words):
                continue
        if category and e.get("category") != category.lower():
            continue
        if wanted_net and wanted_net not in (e.get("networks") or []):
            continue
        if max_price is not None and (e.get("price_usd") is None or e["price_usd"] > max_price):
            continue
        out.append(e)
    return out
