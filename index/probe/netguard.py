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
# Well-known ports of services that are not web servers: a URL aimed at one is an attack on whatever
# listens there (mail, databases, caches, control planes), never an x402 endpoint.
BLOCKED_PORTS = frozenset({
    0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103,
    104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 445, 465, 512,
    513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719,
    1720, 1723, 2049, 2375, 2376, 2379, 2380, 3306, 3659, 4045, 4190, 5060, 5061, 5432, 5672, 6000, 6379,
    6443, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 9042, 9200, 9300, 10080, 10250, 11211, 27017,
})


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


def host_block_reason(url: str, allow_private: bool = False, allow_hosts: frozenset[str] = frozenset()) -> str | None:
    """Why a URL must not be fetched before any connection: scheme, userinfo, port, IP-literal forms.

    `allow_private` lifts the address rules (loopback test fleets); `allow_hosts` lifts them for the
    named hosts only (an operator's own facilitator), so everything else stays guarded."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "bad_url"
    if parts.scheme not in ALLOWED_SCHEMES:
        return "bad_scheme"
    if not host:
        return "bad_url"
    if parts.username is not None or parts.password is not None:
        return "userinfo"
    if allow_private or host in allow_hosts:
        return None
    if port is not None and port in BLOCKED_PORTS:
        return "bad_port"
    if host.rstrip(".") in _BLOCKED_NAMES or host.endswith(".localhost"):
        return "loopback"
    literal = _literal_ip(host)
    if literal:
        return ip_block_reason(literal)
    return None
