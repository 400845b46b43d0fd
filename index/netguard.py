"""Which URLs and addresses the crawler must never fetch: pure rules behind the SSRF guard."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_EXTRA_BLOCKED = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "169.254.0.0/16", "fc00::/7", "fe80::/10",
)]
_BLOCKED_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def _unwrap(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address hidden in an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address, if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def ip_block_reason(address: str) -> str | None:
    """None when an address is global unicast; else a short reason code."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "bad_address"
    ip = _unwrap(ip)
    if ip.is_loopback:
        return "loopback"
    if ip.is_multicast:
        return "multicast"
    if any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version):
        return "reserved"
    if ip.is_private or ip.is_link_local or ip.is_reserved or ip.is_unspecified or not ip.is_global:
        return "private"
    return None


def _literal_ip(host: str) -> str | None:
    """The address a host string denotes when it is an IP literal in any form inet_aton accepts
    (dotted, decimal 2130706433, hex 0x7f.1, short 127.1) or an IPv6 literal."""
    if ":" in host:
        return host
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def host_block_reason(url: str, allow_private: bool = False) -> str | None:
    """Why a URL must not be fetched before any connection: scheme, userinfo, IP-literal forms."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "bad_url"
    if parts.scheme not in ALLOWED_SCHEMES:
        return "bad_scheme"
    if not host:
        return "bad_url"
    if parts.username is not None or parts.password is not None:
        return "userinfo"
    if allow_private:
        return None
    if host.rstrip(".") in _BLOCKED_NAMES or host.endswith(".localhost"):
        return "loopback"
    literal = _literal_ip(host)
    if literal:
        return ip_block_reason(literal)
    return None
