"""Owner-supplied metadata in an origin's `/.well-known/x402`: read tolerantly, cleaned and bounded.
Pure. What the catalog makes of it (and when it wins over our text) is index.catalog.owner.

Keys read (the published shapes and those seen in the wild; unknown keys are ignored):

- name: `name`, `title`, `serviceName` (the v2 `resource.serviceName`), `service_name`
- description: `description`, `summary`
- categories: `category`, else `categories` or `tags` (as written; the catalog maps them to ours)
- docs URL: `docs`, `docsUrl`, `documentation`, `documentationUrl`, `docs_url`
- logo: `logo`, `logoUrl`, `iconUrl` (the v2 spelling), `icon`, `image`
- per-resource descriptions: `description` on a `resources[]` / `items[]` object (or on its `resource`
  object), and a `descriptions` map of URL (or path) → text

at the top level of the document or under `service`, `serviceInfo`, `info`, `metadata`, `owner` or
`provider` (the top level wins). Text is cleaned and bounded; URLs must be http(s).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from index.untrusted import clean_text
from index.urls import MAX_URL, canonical_url, is_http_url

MAX_NAME = 120
MAX_DESCRIPTION = 1000
MAX_CATEGORY = 60
MAX_RESOURCES = 500
MAX_RESOURCE_DESCRIPTION = 500

_NAME_KEYS = ("name", "title", "serviceName", "service_name")
_DESCRIPTION_KEYS = ("description", "summary")
_DOCS_KEYS = ("docs", "docsUrl", "docsURL", "documentation", "documentationUrl", "docs_url")
_LOGO_KEYS = ("logo", "logoUrl", "logoURL", "iconUrl", "icon", "image")
_NESTED = ("service", "serviceInfo", "info", "metadata", "owner", "provider")
_RESOURCE_LISTS = ("resources", "items", "endpoints")


def _first(scopes: list[dict[str, Any]], keys: tuple[str, ...], limit: int) -> str | None:
    for scope in scopes:
        for key in keys:
            text = clean_text(scope.get(key), limit)
            if text:
                return text
    return None


def _url(scopes: list[dict[str, Any]], keys: tuple[str, ...], base: str) -> str | None:
    for scope in scopes:
        for key in keys:
            value = scope.get(key)
            if isinstance(value, dict):  # {"url": …} as some manifests write links
                value = value.get("url") or value.get("href")
            text = clean_text(value, MAX_URL)
            if not text or any(c.isspace() for c in text):
                continue
            absolute = urljoin(base, text)
            if is_http_url(absolute) and "@" not in absolute.split("/", 3)[2]:
                return absolute
    return None


def _resource_key(url: str, method: str | None = None) -> str | None:
    try:
        key = canonical_url(url)
    except ValueError:
        return None
    return f"{method.upper()} {key}" if method else key


def _resource_descriptions(obj: dict[str, Any], base: str) -> dict[str, str]:
    out: dict[str, str] = {}

    def add(raw_url: Any, method: Any, text: Any) -> None:
        if len(out) >= MAX_RESOURCES or not isinstance(raw_url, str):
            return
        parts = raw_url.strip().split(None, 1)
        if len(parts) == 2 and parts[0].isalpha() and parts[0].isupper():
            method, raw_url = parts[0], parts[1]
        description = clean_text(text, MAX_RESOURCE_DESCRIPTION)
        absolute = urljoin(base, raw_url.strip())
        if not description or not is_http_url(absolute):
            return
        key = _resource_key(absolute, method if isinstance(method, str) and method.isalpha() else None)
        if key:
            out.setdefault(key, description)

    for list_key in _RESOURCE_LISTS:
        entries = obj.get(list_key)
        if not isinstance(entries, list):
            continue
        for entry in entries[:MAX_RESOURCES]:
            if not isinstance(entry, dict):
                continue
            resource = entry.get("resource")
            url = entry.get("url") or entry.get("path") or (resource.get("url") if isinstance(resource, dict) else resource)
            text = entry.get("description")
            if text is None and isinstance(resource, dict):
                text = resource.get("description")
            add(url, entry.get("method"), text)
    mapping = obj.get("descriptions")
    if isinstance(mapping, dict):
        for raw_url, text in list(mapping.items())[:MAX_RESOURCES]:
            add(raw_url, None, text)
    return out


def read_owner_metadata(obj: Any, page_url: str) -> dict[str, Any]:
    """The owner metadata of a well-known document (shape in this module's docstring); {} when none.

    → {"name"?, "description"?, "categories"? (as the owner wrote them), "docs_url"?, "logo_url"?,
       "resources"?: {"<canonical url>" | "<METHOD> <canonical url>": description}}"""
    if not isinstance(obj, dict):
        return {}
    scopes = [obj, *(obj[k] for k in _NESTED if isinstance(obj.get(k), dict))]
    out: dict[str, Any] = {}
    for key, value in (("name", _first(scopes, _NAME_KEYS, MAX_NAME)),
                       ("description", _first(scopes, _DESCRIPTION_KEYS, MAX_DESCRIPTION)),
                       ("docs_url", _url(scopes, _DOCS_KEYS, page_url)),
                       ("logo_url", _url(scopes, _LOGO_KEYS, page_url))):
        if value:
            out[key] = value
    claimed = next((s.get(k) for s in scopes for k in ("category", "categories", "tags") if s.get(k)), None)
    words = [t for t in (clean_text(c, MAX_CATEGORY) for c in (claimed if isinstance(claimed, list) else [claimed])[:20]) if t]
    if words:
        out["categories"] = words
    resources = _resource_descriptions(obj, page_url)
    if resources:
        out["resources"] = resources
    return out


def resource_description(meta: dict[str, Any], url: str, method: str) -> str | None:
    """The owner's description of one resource: for its method, else for its URL."""
    resources = meta.get("resources") or {}
    key = _resource_key(url)
    if key is None:
        return None
    return resources.get(f"{method.upper()} {key}") or resources.get(key)
