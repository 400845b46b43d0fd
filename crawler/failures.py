"""What a failed download was, as exception class names for index.probe.outcomes.classify_failure."""

from __future__ import annotations

from typing import Any

from twisted.python.failure import Failure


def exception_names(failure: Failure) -> list[str]:
    """Class names along a failure's chain: the exception, its causes, and the reasons Twisted's
    HTTP client wraps (ResponseNeverReceived / ResponseFailed keep the real errors in `reasons`)."""
    names: list[str] = []
    pending: list[Any] = [failure.value]
    seen = 0
    while pending and seen < 20:
        exc = pending.pop(0)
        seen += 1
        if isinstance(exc, Failure):
            exc = exc.value
        for cls in type(exc).__mro__:
            names += [cls.__name__, f"{cls.__module__}.{cls.__name__}"]
        pending.extend(getattr(exc, "reasons", None) or [])
        for linked in (exc.__cause__, exc.__context__):
            if linked is not None:
                pending.append(linked)
    return names
