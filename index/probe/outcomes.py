"""Probe outcomes: one coded result per probe attempt, decided by pure rules.

An unreachable or misbehaving endpoint is data, not a crawl failure: every attempt gets one of these.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    PAID = "paid"  # 402 with a usable x402 challenge
    PAID_INVALID = "paid_invalid"  # 402 without a usable challenge
    OTHER_PROTOCOL = "other_protocol"  # 402 in another payment protocol (L402, MPP), no usable x402 challenge
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
    BAD_ENCODING = "bad_encoding"  # a body its Content-Encoding cannot decode (corrupt gzip, brotli, ...)
    BLOCKED = "blocked"  # refused by our own SSRF guard


# Outcomes in which the server answered HTTP at all (so "last seen" moves).
ANSWERED = frozenset({
    Outcome.PAID, Outcome.PAID_INVALID, Outcome.OTHER_PROTOCOL, Outcome.FREE, Outcome.AUTH_REQUIRED, Outcome.NOT_FOUND,
    Outcome.METHOD_NOT_ALLOWED, Outcome.UNPROBEABLE, Outcome.RATE_LIMITED, Outcome.SERVER_ERROR,
    Outcome.OTHER_STATUS, Outcome.BAD_ENCODING,
})


def outcome_for_status(status: int, usable_challenge: bool, other_protocol: bool = False) -> Outcome:
    """The outcome of an HTTP answer. A usable x402 challenge wins over another protocol's."""
    if status == 402:
        if usable_challenge:
            return Outcome.PAID
        return Outcome.OTHER_PROTOCOL if other_protocol else Outcome.PAID_INVALID
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
    if 500 <= status <= 599:
        return Outcome.SERVER_ERROR
    return Outcome.OTHER_STATUS


def unhandled_status(status: int) -> tuple[Outcome, str]:
    """Outcome and error code of an answer the crawl refused to read on (Scrapy's HttpError):
    a redirect it did not follow, or a status HTTP does not define (e.g. 999)."""
    if not 100 <= status <= 599:
        return Outcome.OTHER_STATUS, "unknown_status"
    if 300 <= status <= 399:
        return Outcome.OTHER_STATUS, "redirect_not_followed"
    return outcome_for_status(status, False), f"status_{status}"


# Exception class names (Twisted, Scrapy, OpenSSL and our middlewares) → (outcome, error code). Names,
# not classes, so this module stays free of network libraries. First match along the chain wins.
_ERROR_RULES: tuple[tuple[str, Outcome, str], ...] = (
    ("BlockedRequest", Outcome.BLOCKED, "ssrf"),
    ("BlockedAddress", Outcome.BLOCKED, "ssrf"),
    ("TooManyRedirects", Outcome.OTHER_STATUS, "too_many_redirects"),
    # our download handler's limits (crawler.download), before the data loss they cause
    ("HeadersTooLarge", Outcome.TOO_LARGE, "headers_too_large"),
    ("BodyTooFragmented", Outcome.TOO_LARGE, "body_too_fragmented"),
    ("BodyWireTooLarge", Outcome.TOO_LARGE, "too_large"),
    ("ResponseTooLarge", Outcome.TOO_LARGE, "too_large"),
    ("_DecompressionMaxSizeExceeded", Outcome.TOO_LARGE, "too_large"),  # Scrapy's bomb stop, the cause of its IgnoreRequest
    # a body its Content-Encoding cannot decode (Scrapy lets zlib's and brotli's errors through)
    ("zlib.error", Outcome.BAD_ENCODING, "bad_encoding"),
    ("brotli.error", Outcome.BAD_ENCODING, "bad_encoding"),
    ("gzip.BadGzipFile", Outcome.BAD_ENCODING, "bad_encoding"),
    ("compression.zstd.ZstdError", Outcome.BAD_ENCODING, "bad_encoding"),
    ("backports.zstd.ZstdError", Outcome.BAD_ENCODING, "bad_encoding"),
    ("DownloadCancelledError", Outcome.TOO_LARGE, "too_large"),
    ("OpenSSL.SSL.Error", Outcome.TLS_INVALID, "tls"),
    ("CertificateError", Outcome.TLS_INVALID, "tls"),
    ("VerificationError", Outcome.TLS_INVALID, "tls"),
    ("SSLError", Outcome.TLS_INVALID, "tls"),
    ("DownloadTimeoutError", Outcome.TIMEOUT, "timeout"),
    ("TimeoutError", Outcome.TIMEOUT, "timeout"),
    ("TCPTimedOutError", Outcome.TIMEOUT, "timeout"),
    ("UserTimeoutError", Outcome.TIMEOUT, "timeout"),
    ("DNSLookupError", Outcome.UNREACHABLE, "dns"),
    ("CannotResolveHostError", Outcome.UNREACHABLE, "dns"),
    ("ConnectionRefusedError", Outcome.UNREACHABLE, "connection_refused"),
    ("DownloadConnectionRefusedError", Outcome.UNREACHABLE, "connection_refused"),
    ("NoRouteError", Outcome.UNREACHABLE, "no_route"),
    ("_DataLoss", Outcome.UNREACHABLE, "data_loss"),
    ("ResponseDataLossError", Outcome.UNREACHABLE, "data_loss"),
    ("PotentialDataLoss", Outcome.UNREACHABLE, "data_loss"),
    ("ConnectionAborted", Outcome.UNREACHABLE, "connection_lost"),
)

# Wrappers that report many causes: used only when neither a specific class nor the message says more.
_WRAPPER_RULES: tuple[tuple[str, Outcome, str], ...] = (
    ("ConnectionLost", Outcome.UNREACHABLE, "connection_lost"),
    ("ConnectionDone", Outcome.UNREACHABLE, "connection_lost"),
    ("ResponseNeverReceived", Outcome.UNREACHABLE, "no_response"),
    ("ResponseFailed", Outcome.UNREACHABLE, "response_failed"),
    ("ConnectError", Outcome.UNREACHABLE, "connect_error"),
    ("DownloadFailedError", Outcome.UNREACHABLE, "download_failed"),
)

# Message fragments for failures whose class says little (e.g. a plain IgnoreRequest), checked in order.
_MESSAGE_RULES: tuple[tuple[str, Outcome, str], ...] = (
    ("max redirections", Outcome.OTHER_STATUS, "too_many_redirects"),
    ("certificate", Outcome.TLS_INVALID, "tls"),
    ("ssl", Outcome.TLS_INVALID, "tls"),
    ("tls", Outcome.TLS_INVALID, "tls"),
    ("maxsize", Outcome.TOO_LARGE, "too_large"),
    ("larger than", Outcome.TOO_LARGE, "too_large"),
    ("too large", Outcome.TOO_LARGE, "too_large"),
    ("during decompression", Outcome.TOO_LARGE, "too_large"),
    ("decompress", Outcome.BAD_ENCODING, "bad_encoding"),  # "Error -3 while decompressing data: ..."
    ("timed out", Outcome.TIMEOUT, "timeout"),
    ("timeout", Outcome.TIMEOUT, "timeout"),
)


def classify_failure(exception_names: list[str], message: str = "") -> tuple[Outcome, str]:
    """The outcome and error code of a failed download, from the exception class names found along
    its chain (outermost first, wrapped reasons after) and its message."""
    # The most specific cause wins over the wrapper that reported it.
    names = set(exception_names)
    for name, outcome, code in _ERROR_RULES:
        if name in names:
            return outcome, code
    lowered = message.lower()
    for fragment, outcome, code in _MESSAGE_RULES:
        if fragment in lowered:
            return outcome, code
    for name, outcome, code in _WRAPPER_RULES:
        if name in names:
            return outcome, code
    return Outcome.UNREACHABLE, "error"
