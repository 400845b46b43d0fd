"""Read a 402 answer (v1 JSON body, v2 base64 header) into a Challenge.

`parse_challenge(status, headers, body, probed_url=None)` never raises on hostile input: whatever the
server sent, the result is a Challenge whose `findings` say what was wrong. `challenge_from_object`
reads a decoded challenge (or a facilitator discovery item); each accept goes through
index.protocol.normalize, the discovery hints through index.protocol.hints. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from index.findings import finding
from index.protocol.hints import extract_hints
from index.protocol.models import Accept, Challenge, ResourceInfo
from index.protocol.networks import address_key, lookup_network, to_caip2
from index.protocol.normalize import MAX_SHORT_TEXT, description_text, json_text, normalize_accept, resource_url
from index.protocol.scripts import mixed_script_findings
from index.protocol.wire import MAX_HEADER_VALUES, PAYMENT_REQUIRED, decode_header_json, header_values
from index.untrusted import clean_text, safe_json_loads
from index.urls import MAX_URL, canonical_url, is_canonical_http

MAX_ACCEPTS = 20

# Service metadata limits of the bazaar spec ("Service Metadata"); invalid values are dropped, not cut.
MAX_SERVICE_NAME = 32
MAX_TAGS = 5
MAX_TAG = 32


def parse_challenge(status: int, headers: Mapping[str, Any], body: bytes, probed_url: str | None = None) -> Challenge:
    """Read a 402 answer. The v2 header wins; a v1 body (or a v2 body without header) is the fallback.

    `probed_url` is the URL we requested; when given, the challenge's resource URL is compared with it.
    """
    findings: list[dict[str, Any]] = []
    header_obj: dict[str, Any] | None = None
    values = header_values(headers, PAYMENT_REQUIRED)
    if values:
        try:
            header_obj = decode_header_json(values[0], findings)
        except ValueError as exc:
            findings.append(finding(str(exc), PAYMENT_REQUIRED))
        if len(values) > 1:
            _repeated_header(values, header_obj, findings)
    body_obj = _body_json(body, findings)
    body_is_challenge = isinstance(body_obj, dict) and "x402Version" in body_obj and "accepts" in body_obj

    if header_obj is not None:
        if body_is_challenge and _comparable(body_obj) != _comparable(header_obj):
            findings.append(finding("header_body_conflict"))
        return challenge_from_object(header_obj, "header", findings, probed_url)
    if body_is_challenge:
        if body_obj.get("x402Version") == 2:
            findings.append(finding("v2_in_body_only"))
        return challenge_from_object(body_obj, "body", findings, probed_url)
    if status == 402 and not any(f.get("where") == PAYMENT_REQUIRED for f in findings):  # a broken header is its own finding
        findings.append(finding("no_challenge"))
    return Challenge(findings=findings)


def challenge_from_object(obj: Mapping[str, Any], source: str, findings: list[dict[str, Any]] | None = None,
                          probed_url: str | None = None) -> Challenge:
    """Normalize a decoded challenge object (v1 or v2, or a discovery item) into a Challenge."""
    findings = findings if findings is not None else []
    if not isinstance(obj, Mapping):
        obj = {}
    version = obj.get("x402Version")
    if isinstance(version, bool) or version not in (1, 2):
        findings.append(finding("version_unsupported", detail=json_text(version, 20)))
        version = None
    raw_accepts = obj.get("accepts")
    if not isinstance(raw_accepts, list) or not raw_accepts:
        findings.append(finding("accepts_empty"))
        raw_accepts = []
    if len(raw_accepts) > MAX_ACCEPTS:
        findings.append(finding("accepts_too_many", detail=str(len(raw_accepts))))
        raw_accepts = raw_accepts[:MAX_ACCEPTS]
    indexed = [(i, a) for i, e in enumerate(raw_accepts) if (a := normalize_accept(e, i, version, findings))]
    accepts = [a for _, a in indexed]
    _duplicates(indexed, findings)
    extensions = obj.get("extensions") if isinstance(obj.get("extensions"), dict) else {}
    resource = _resource_info(obj, accepts, findings)
    if not resource.url:
        findings.append(finding("resource_missing"))
    elif probed_url:
        for url in dict.fromkeys([resource.url] + [a.resource_url for a in accepts if a.resource_url]):
            _check_resource_url(url, probed_url, "resource.url", findings)
    if not resource.description:
        findings.append(finding("description_missing"))
    findings.extend(mixed_script_findings(_shown_text(obj, resource, accepts)))
    if not resource.mime_type:
        findings.append(finding("mime_type_missing"))
    usable = [a for a in accepts if a.usable]
    if usable and all(_on_testnet(a) for a in usable):
        findings.append(finding("testnet_only", detail=", ".join(sorted({a.network_caip2 or "" for a in usable}))))
    if version == 1:
        findings.append(finding("v1_only"))
    return Challenge(
        x402_version=version,
        source=source,
        error=clean_text(obj.get("error"), MAX_SHORT_TEXT),
        resource=resource,
        accepts=_with_resource_text(accepts, resource),
        extensions=extensions,
        hints=extract_hints(extensions, raw_accepts, findings),
        findings=findings,
    )


def _shown_text(obj: Mapping[str, Any], resource: ResourceInfo, accepts: list[Accept]) -> dict[str, Any]:
    """The challenge's text a catalog shows as names and descriptions, by where it was found."""
    texts: dict[str, Any] = {"resource.description": resource.description, "error": clean_text(obj.get("error"), MAX_SHORT_TEXT)}
    for i, acc in enumerate(accepts):
        if acc.description and acc.description != resource.description:
            texts[f"accepts[{i}].description"] = acc.description
        name = acc.extra.get("name")
        if isinstance(name, str):
            texts[f"accepts[{i}].extra.name"] = name[:MAX_SHORT_TEXT]
    return texts


def _with_resource_text(accepts: list[Accept], resource: ResourceInfo) -> list[Accept]:
    """Accepts whose missing description / mime type is the resource's: v2 moved both from each accept
    to `resource`, and every accept still sells that resource. An accept's own text is kept."""
    out = []
    for acc in accepts:
        update = {k: getattr(resource, k) for k in ("description", "mime_type") if getattr(acc, k) is None}
        out.append(acc.model_copy(update=update) if any(update.values()) else acc)
    return out


def _body_json(body: bytes, findings: list[dict[str, Any]]) -> Any:
    if not body or not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        findings.append(finding("invalid_encoding", "body"))
        return None
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None  # HTML paywall or plain text: not a JSON challenge, and not an error by itself
    try:
        return safe_json_loads(text)
    except ValueError:
        findings.append(finding("body_invalid_json", "body"))
        return None


def _repeated_header(values: list[str | bytes], first: dict[str, Any] | None, findings: list[dict[str, Any]]) -> None:
    """PAYMENT-REQUIRED sent more than once. Copies of one challenge (the same JSON, however encoded)
    are harmless; values that say different things, or do not decode, make the challenge ambiguous:
    a client pays whichever it reads (reference clients join the lines and read neither), and we could
    show one price while the server asks another. We keep the first value's terms and flag the rest."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1:
        return
    shown = [f"value 1: {_terms_text(first)}"]
    for number, value in enumerate(distinct[1:MAX_HEADER_VALUES], start=2):
        try:
            obj: dict[str, Any] | None = decode_header_json(value)
        except ValueError as exc:
            obj, text = None, f"not a challenge ({exc})"
        else:
            text = _terms_text(obj)
        if obj is None or obj != first:
            shown.append(f"value {number}: {text}")
    more = len(distinct) - MAX_HEADER_VALUES
    if len(shown) == 1 and more <= 0:
        return
    detail = "; ".join(shown)
    detail = detail if len(detail) <= 500 else detail[:499] + "…"
    tail = f"; {more} more not read" if more > 0 else ""
    findings.append(finding("header_ambiguous", PAYMENT_REQUIRED, f"{len(values)} values: {detail}{tail}"))


def _terms_text(obj: Mapping[str, Any] | None) -> str:
    """What a challenge asks, in a finding's words: amount, asset, payTo of each accept (first three)."""
    if obj is None:
        return "not a challenge"
    rows = _comparable(obj) if isinstance(obj.get("accepts"), list) else []
    if not rows:
        return "no accepts"
    parts = [f"{amount[:80]} of {asset[:44]} on {network[:40]} to {pay_to[:64]}" for network, amount, pay_to, asset in rows[:3]]
    return ", ".join(parts) + (f" (+{len(rows) - 3} accepts)" if len(rows) > 3 else "")


def _comparable(obj: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """What must agree between a header and a body challenge: network, amount, payTo, asset per accept.

    Compared as a v1 body and a v2 header would say the same thing: CAIP-2 network, either amount
    field, EVM addresses in any case.
    """
    out = []
    for a in obj.get("accepts") or []:
        if isinstance(a, dict):
            amount = a.get("amount") if a.get("amount") is not None else a.get("maxAmountRequired")
            network = a.get("network") if isinstance(a.get("network"), str) else None
            out.append((str(to_caip2(network) or network), str(amount),
                        str(address_key(a["payTo"]) if isinstance(a.get("payTo"), str) else a.get("payTo")),
                        str(address_key(a["asset"]) if isinstance(a.get("asset"), str) else a.get("asset"))))
    return out


def _duplicates(accepts: list[tuple[int, Accept]], findings: list[dict[str, Any]]) -> None:
    """One accepts_duplicate per entry that is repeated, naming the repeats."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for index, acc in accepts:
        key = (acc.scheme, acc.network_caip2 or acc.network, address_key(acc.asset), address_key(acc.pay_to),
               acc.amount_atomic or acc.amount_raw)
        groups.setdefault(key, []).append(index)
    for first, *repeats in groups.values():
        if repeats:
            named = ", ".join(f"accepts[{i}]" for i in repeats[:5]) + (", …" if len(repeats) > 5 else "")
            findings.append(finding("accepts_duplicate", f"accepts[{first}]", f"repeated by {named}"))


def _on_testnet(acc: Accept) -> bool:
    net = lookup_network(acc.network_caip2)
    return net is not None and net.testnet


def _resource_info(obj: Mapping[str, Any], accepts: list[Accept], findings: list[dict[str, Any]]) -> ResourceInfo:
    """v2 `resource{…}`, else the top-level fields (discovery items), else the first accept's v1 fields."""
    res = obj.get("resource")
    top: Mapping[str, Any] = res if isinstance(res, Mapping) else obj
    url = resource_url(res) or next((a.resource_url for a in accepts if a.resource_url), None)
    description = description_text(top.get("description"), "resource.description", findings) \
        or next((a.description for a in accepts if a.description), None)
    mime_type = clean_text(top.get("mimeType"), MAX_SHORT_TEXT) or next((a.mime_type for a in accepts if a.mime_type), None)
    service_name, tags, icon_url = _service_metadata(top, findings)
    return ResourceInfo(url=url, description=description, mime_type=mime_type, service_name=service_name,
                        tags=tags, icon_url=icon_url)


def _service_metadata(top: Mapping[str, Any], findings: list[dict[str, Any]]) -> tuple[str | None, list[str], str | None]:
    """serviceName, tags, iconUrl within the bazaar limits; a value that breaks them is dropped whole."""
    dropped: list[str] = []
    name = top.get("serviceName")
    if name is not None and not _service_name_ok(name):
        dropped.append("serviceName")
        name = None
    tags: list[str] = []
    raw_tags = top.get("tags")
    if raw_tags is not None:
        if not isinstance(raw_tags, list) or len(raw_tags) > MAX_TAGS:
            dropped.append("tags")
        else:
            tags = [t for t in raw_tags if _tag_ok(t)]
            if len(tags) != len(raw_tags):
                dropped.append("tags")
    icon = top.get("iconUrl")
    if icon is not None and not icon_url_ok(icon):
        dropped.append("iconUrl")
        icon = None
    if dropped:
        findings.append(finding("service_metadata_invalid", "resource", ", ".join(dropped)))
    return (name or None), tags, (icon or None)


def _service_name_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_SERVICE_NAME and all(" " <= c <= "~" for c in value)


def _tag_ok(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_TAG and clean_text(value, MAX_TAG) == value


def icon_url_ok(value: Any) -> bool:
    """An iconUrl the bazaar spec allows: absolute http(s), ≤ 2048, host not an IP literal nor localhost."""
    if not isinstance(value, str) or len(value) > MAX_URL or clean_text(value, MAX_URL) != value or " " in value:
        return False
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host == "localhost" or host.endswith(".localhost") or ":" in host:  # ':' only in IPv6 literals
        return False
    # dotted or bare numbers are IPv4 in some form (127.1, 2130706433, 0x7f.1): no TLD is all digits
    last = host.rsplit(".", 1)[-1]
    return not (last.isdigit() or last.lower().startswith("0x"))


def _check_resource_url(url: str, probed_url: str, where: str, findings: list[dict[str, Any]]) -> None:
    """Compare a challenge's resource URL with the URL we probed.

    Rule: scheme and host are compared lower-cased, default ports dropped (index.urls.canonical_url);
    paths compared percent-decoded, trailing slashes ignored. The query string is ignored: it is
    per-call input (the reference server echoes the probe's query), not the resource's identity, as
    in our slugs. A relative resource URL is read against the probed URL. An http:// resource for an
    https probe is `resource_insecure` (typically a server behind a TLS proxy), not a mismatch.
    """
    if url == probed_url and ";" not in url and is_canonical_http(url):
        return  # the URL we probed, already canonical (no params, query or fragment): nothing differs
    try:
        ours = urlsplit(canonical_url(probed_url))
        theirs = urlsplit(canonical_url(urljoin(probed_url, url)))
    except ValueError:
        findings.append(finding("resource_url_mismatch", where, url[:200]))
        return
    if theirs.scheme == "http" and ours.scheme == "https":
        findings.append(finding("resource_insecure", where, url[:200]))
    if theirs.scheme not in ("http", "https") or theirs.netloc != ours.netloc or _path_key(theirs.path) != _path_key(ours.path):
        findings.append(finding("resource_url_mismatch", where, url[:200]))


def _path_key(path: str) -> str:
    return unquote(path).rstrip("/") or "/"
