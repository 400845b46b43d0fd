"""Seed lists: data/seeds.yaml and --seed/--facilitator arguments → checked Sources for a crawl."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from crawler.discovery import HTTP_METHODS, Candidate, split_method


def seed_candidate(entry: str | dict[str, Any], source_url: str) -> Candidate:
    """One seed entry: "URL", "METHOD URL", or {url, method?, body?}."""
    if isinstance(entry, dict):
        method, url = split_method(str(entry["url"]))
        method = (entry.get("method") or method or None)
        cand: Candidate = {"url": url, "method": method.upper() if method else None,
                           "source": {"kind": "seed", "url": source_url}}
        if "body" in entry:
            cand["body"] = entry["body"]
        return cand
    method, url = split_method(entry)
    return {"url": url, "method": method, "source": {"kind": "seed", "url": source_url}}


def is_origin_seed(entry: str) -> bool:
    """A bare origin URL ("https://api.example.com" or with a trailing slash, no method, no query):
    a place to discover resources, not a resource to probe."""
    method, url = split_method(entry)
    if method is not None:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.path in ("", "/") and not parts.query


def load_seeds_file(path: Path) -> dict[str, list[Any]]:
    """Read a seeds file: {resources: [...], origins: [...], facilitators: [...]} (each optional)."""
    raw = yaml.safe_load(path.read_text()) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping with resources / origins / facilitators")
    source = f"file://{path.resolve()}"
    resources = [seed_candidate(e, source) for e in raw.get("resources") or []]
    facilitators = [str(f["url"] if isinstance(f, dict) else f) for f in raw.get("facilitators") or []]
    origins = [str(o["url"] if isinstance(o, dict) else o) for o in raw.get("origins") or []]
    return {"resources": resources, "facilitators": facilitators, "origins": origins}


class SeedError(ValueError):
    """A --seed or --facilitator value that cannot be crawled (the message names it)."""


def seed_problem(entry: str) -> str | None:
    """Why `entry` ("URL" or "METHOD URL") is not a seed we can probe, or None when it is."""
    parts = entry.strip().split(None, 1)
    if len(parts) == 2 and "://" in parts[1] and "://" not in parts[0] and parts[0].upper() not in HTTP_METHODS:
        return f"unknown method {parts[0]!r} (one of {', '.join(HTTP_METHODS)})"
    _, url = split_method(entry)
    return url_problem(url)


def url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL with a host and a valid port, or None."""
    if not url or any(c.isspace() for c in url):
        return "not a URL (expected http://… or https://…)"
    parts = urlsplit(url)
    if not parts.scheme:
        return "not a URL (expected http://… or https://…)"
    if parts.scheme.lower() not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    if not parts.hostname:
        return "no host"
    try:
        parts.port
    except ValueError:
        return "port is not a number from 0 to 65535"
    return None


@dataclass
class Sources:
    """What a crawl is asked to read: resources to probe, origins to discover from, facilitators to
    list. `explicit`: named on the command line (read now, whatever the schedule says)."""

    candidates: list[Candidate] = field(default_factory=list)
    facilitators: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    explicit: bool = False


def assemble(seeds: list[str] | None, facilitators: list[str] | None, seeds_file: Path | None,
             default_file: Path | None) -> Sources:
    """--seed values, --facilitator URLs and a seeds file → Sources. The default file is read only
    when nothing was named. Every value is checked first: SeedError names the first bad one."""
    for value in seeds or []:
        if problem := seed_problem(value):
            raise SeedError(f"--seed {value!r}: {problem}")
    for value in facilitators or []:
        if problem := url_problem(value.strip()):
            raise SeedError(f"--facilitator {value!r}: {problem}")
    explicit = bool(seeds or facilitators or seeds_file)
    out = Sources(explicit=explicit)
    out.origins = [s.strip() for s in seeds or [] if is_origin_seed(s)]
    out.candidates = [seed_candidate(s, "cli:--seed") for s in seeds or [] if not is_origin_seed(s)]
    out.facilitators = [f.strip() for f in facilitators or []]
    if seeds_file is None and not explicit:
        seeds_file = default_file
    if seeds_file is not None:
        loaded = load_seeds_file(seeds_file)
        out.candidates += loaded["resources"]
        out.facilitators += loaded["facilitators"]
        out.origins += loaded["origins"]
    return out
