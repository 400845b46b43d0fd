"""Garbage-collector policy of the crawl's processes (the crawl and its database writer).

CPython starts a young-generation collection every 700 net allocations of container objects, and
each full collection walks every live object: the crawl's thousands of queued requests, and everything
imported at start-up. In the probe bench that was about 6 % of the crawl process's CPU. Inside
`fewer_collections()`, what start-up allocated is frozen (never walked again) and young collections
wait for GEN0_THRESHOLD allocations. Reference counting still frees almost everything at once;
cyclic garbage waits a little longer, a bounded amount (at most GEN0_THRESHOLD objects).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GEN0_THRESHOLD = 50_000


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The policy above for the duration of the block; the interpreter's own settings after it."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GEN0_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
