"""DNS TXT `_x402.<domain>`: a domain points at its x402 manifest.

Forms read (any number of records; keys case-insensitive, `;` separated, spaces tolerated):

- draft-jeftovic-x402-dns-discovery and x402scan: `v=x4021;url=https://example.com/.well-known/x402`,
  optionally with `descriptor=api;` (a short free-text token naming the service);
- the x402 foundation's discovery draft: `v=x402-1; wk=https://…` (a relative `wk=/path` is read
  against `https://<domain>`);
- an older x402scan doc: the bare URL as the whole value.

Every URL a record yields passes the same SSRF rules as any other URL we fetch
(index.probe.netguard.host_block_reason), and must name the queried domain or one of its subdomains:
a record speaks for its own domain, as a manifest speaks for its own origin.

`parse_txt` and `pointers_from_txt` are pure. `lookup_txt` is the one function here that does I/O (a
bounded DNS query with dnspython, to the system's resolvers or to the nameservers given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from crawler.discovery import resolve_url
from index.probe.netguard import host_block_reason

TXT_LABEL = "_x402"
MAX_RECORDS = 10
MAX_RECORD_CHARS = 2048
MAX_DESCRIPTOR = 64
DEFAULT_TIMEOUT = 3.0

_VERSIONS = ("x4021", "x402-1", "x402")
_URL_KEYS = ("url", "wk")
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


@dataclass(frozen=True)
class Pointer:
    """One manifest URL a TXT record names, the form it was written in, and its descriptor."""

    url: str
    form: str  # "x4021" | "x402-1" | "bare_url"
    descriptor: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "form": self.form}
        if self.descriptor:
            out["descriptor"] = self.descriptor
        return out


@dataclass
class DnsFound:
    """What `_x402.<domain>` said: pointers to read, and records we could not use (with the reason)."""

    domain: str
    pointers: list[Pointer] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None  # "nxdomain", "no_answer", "timeout", "bad_domain", "error"


def txt_name(domain: str) -> str:
    return f"{TXT_LABEL}.{domain.strip().rstrip('.').lower()}"


def domain_ok(domain: str) -> bool:
    """A DNS name we may query: a plain hostname, not an IP literal, not a name the SSRF guard refuses."""
    host = domain.strip().rstrip(".").lower()
    if not _HOSTNAME.match(host) or "." not in host or host.replace(".", "").isdigit():
        return False
    return host_block_reason(f"https://{host}/") is None


def _fields(text: str) -> dict[str, str] | None:
    """`k=v; k=v` → {k: v} (first value of a key wins); None when the text is not such a list."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            return None
        out.setdefault(key.strip().lower(), value.strip())
    return out or None


def parse_txt(text: str, domain: str, allow_private: bool = False) -> tuple[Pointer | None, str | None]:
    """One TXT value → (pointer, None) or (None, reason). Reasons: not_x402, bad_url, cross_domain,
    blocked:<netguard reason>. `allow_private` lifts the address rules as it does for the crawl
    (X402_ALLOW_PRIVATE, loopback fleets only)."""
    text = text.strip().strip('"').strip()
    if not text or len(text) > MAX_RECORD_CHARS or not text.isprintable():
        return None, "not_x402"
    base = f"https://{domain.strip().rstrip('.').lower()}/"
    fields = _fields(text) if "=" in text.split("://", 1)[0] else None
    if fields is not None:
        version = fields.get("v", "").lower().replace(" ", "")
        if version not in _VERSIONS:
            return None, "not_x402"
        raw = next((fields[k] for k in _URL_KEYS if fields.get(k)), None)
        form = "x402-1" if version == "x402-1" or ("wk" in fields and "url" not in fields) else "x4021"
        descriptor = fields.get("descriptor") or None
        if descriptor and (len(descriptor) > MAX_DESCRIPTOR or not descriptor.isprintable()):
            descriptor = None
    elif text.lower().startswith(("https://", "http://")):
        raw, form, descriptor = text, "bare_url", None
    else:
        return None, "not_x402"
    url = resolve_url(raw, base) if raw else None
    if url is None:
        return None, "bad_url"
    reason = _url_reason(url, domain, allow_private)
    if reason:
        return None, reason
    return Pointer(url, form, descriptor), None


def _url_reason(url: str, domain: str, allow_private: bool) -> str | None:
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    zone = domain.strip().rstrip(".").lower()
    blocked = host_block_reason(url, allow_private=allow_private)
    if blocked:
        return f"blocked:{blocked}"
    if host != zone and not host.endswith("." + zone):
        return "cross_domain"
    return None


def pointers_from_txt(domain: str, records: list[str], allow_private: bool = False) -> DnsFound:
    """Every usable pointer of a domain's TXT records, deduplicated, in record order."""
    found = DnsFound(domain.strip().rstrip(".").lower())
    seen: set[str] = set()
    for record in records[:MAX_RECORDS]:
        pointer, reason = parse_txt(record, found.domain, allow_private)
        if pointer is None:
            if reason != "not_x402":
                found.rejected.append({"record": record[:200], "reason": reason or "unknown"})
            continue
        if pointer.url not in seen:
            seen.add(pointer.url)
            found.pointers.append(pointer)
    return found


def lookup_txt(domain: str, nameservers: list[tuple[str, int]] | None = None,
               timeout: float = DEFAULT_TIMEOUT) -> tuple[list[str], str | None]:
    """The TXT strings at `_x402.<domain>` → (records, error). Each record's character-strings are
    joined (a value over 255 bytes is split into several). `nameservers` [(ip, port)] replaces the
    system's resolvers (tests run a server on loopback). Never raises."""
    import dns.exception
    import dns.resolver

    if not domain_ok(domain):
        return [], "bad_domain"
    resolver = dns.resolver.Resolver(configure=nameservers is None)
    if nameservers:
        resolver.nameservers = [ip for ip, _ in nameservers]
        resolver.port = nameservers[0][1]
    resolver.timeout = resolver.lifetime = timeout
    try:
        answer = resolver.resolve(txt_name(domain), "TXT", raise_on_no_answer=False, search=False)
    except dns.resolver.NXDOMAIN:
        return [], "nxdomain"
    except (dns.resolver.LifetimeTimeout, dns.exception.Timeout):
        return [], "timeout"
    except Exception:  # noqa: BLE001 - no nameservers, refused, malformed answer: no records
        return [], "error"
    if answer.rrset is None:
        return [], "no_answer"
    records: list[str] = []
    for rdata in list(answer.rrset)[:MAX_RECORDS]:
        joined = b"".join(rdata.strings)[:MAX_RECORD_CHARS]
        records.append(joined.decode("utf-8", "replace"))
    return records, None


def discover_domain(domain: str, nameservers: list[tuple[str, int]] | None = None,
                    timeout: float = DEFAULT_TIMEOUT, allow_private: bool = False) -> DnsFound:
    """Look up `_x402.<domain>` and read its records."""
    records, error = lookup_txt(domain, nameservers, timeout)
    found = pointers_from_txt(domain, records, allow_private)
    found.error = error
    return found
