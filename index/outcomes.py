"""Probe outcomes: one coded result per probe attempt, decided by pure rules.

An unreachable or misbehaving endpoint is data, not a crawl failure: every attempt gets one of these.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    PAID = "paid"  # 402 with a usable x402 challenge
    PAID_INVALID = "paid_invalid"  # 402 without a usable challenge
    FREE = "free"  # 2xx: no payment asked
    AUTH_REQUIRED = "auth_required"  # 401 / 403
    NOT_FOUND = "not_found"  # 404 / 410
    METHOD_NOT_ALLOWED = "method_not_allowed"  # 405
    UNPROBEABLE = "unprobeable"  # 400/422 before any paywall, on every method we tried
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    OTHER_STATUS = "other_status"  # 3xx left unresolved, 1xx, other 4xx
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # DNS, connection refused or reset
    TLS_INVALID = "tls_invalid"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"  # refused by our own SSRF guard


# Outcomes in which the server answered HTTP at all (so "last seen" moves).
ANSWERED = frozenset({
    Outcome.PAID, Outcome.PAID_INVALID, Outcome.FREE, Outcome.AUTH_REQUIRED, Outcome.NOT_FOUND,
    Outcome.METHOD_NOT_ALLOWED, Outcome.UNPROBEABLE, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR,
    Outcome.OTHER_STATUS,
})


def outcome_for_status(status: int, usable_challenge: bool) -> Outcome:
    """The outcome of an HTTP answer."""
    if status == 402:
        return Outcome.PAID if usable_challenge else Outcome.PAID_INVALID
    if 200 <= status < 300:
        return Outcome.FREE
    if status in (401, 403):
        return Outcome.AUTH_REQUIRED
    if status in (404, 410):
        return Outcome.NOT_FOUND
    if status == 405:
        return Outcome.METHOD_NOT_ALLOWED
    if status in (400, 422):
        return Outcome.UNPROBEABLE
    if status == 429:
        return Outcome.RATE_LIMITED
    if status >= 500:
        return Outcome.SERVER_ERROR
    return Outcome.OTHER_STATUS


# Exception class names (from Twisted, Scrapy and our middlewares) → outcome. Names, not classes,
# so this module stays free of network libraries.
_ERROR_OUTCOMES = {
    "TimeoutError": Outcome.TIMEOUT,
    "DownloadTimeoutError": Outcome.TIMEOUT,
    "TCPTimedOutError": Outcome.TIMEOUT,
    "UserTimeoutError": Outcome.TIMEOUT,
    "DNSLookupError": Outcome.UNREACHABLE,
    "CannotResolveHostError": Outcome.UNREACHABLE,
    "ConnectionRefusedError": Outcome.UNREACHABLE,
    "ConnectError": Outcome.UNREACHABLE,
    "ConnectionDone": Outcome.UNREACHABLE,
    "ConnectionLost": Outcome.UNREACHABLE,
    "ResponseNeverReceived": Outcome.UNREACHABLE,
    "ResponseFailed": Outcome.UNREACHABLE,
    "DownloadConnectionRefusedError": Outcome.UNREACHABLE,
    "DownloadFailedError": Outcome.UNREACHABLE,
    "ResponseDataLossError": Outcome.UNREACHABLE,
    "SSLError": Outcome.TLS_INVALID,
    "CertificateError": Outcome.TLS_INVALID,
    "VerificationError": Outcome.TLS_INVALID,
    "DownloadCancelledError": Outcome.TOO_LARGE,
    "BlockedRequest": Outcome.BLOCKED,
}


def outcome_for_error(exception_names: list[str], message: str = "") -> Outcome:
    """The outcome of a failed download, from the exception class names along its chain."""
    for name in exception_names:
        if name in _ERROR_OUTCOMES:
            return _ERROR_OUTCOMES[name]
    lowered = message.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return Outcome.TLS_INVALID
    if "maxsize" in lowered or "larger than" in lowered or "too large" in lowered:
        return Outcome.TOO_LARGE
    if "timeout" in lowered or "timed out" in lowered:
        return Outcome.TIMEOUT
    return Outcome.UNREACHABLE
