"""Garbage-collector policies: the crawl's processes (the crawl and its database writer), and the
catalog and site builds.

CPython starts a young-generation collection every 700 net allocations of container objects, and
each full collection walks every live object: the crawl's thousands of queued requests, and everything
imported at start-up: a measurable share of the crawl process's CPU (bench/README.md). Inside
`fewer_collections()`, what start-up allocated is frozen (never walked again) and young collections
wait for GEN0_THRESHOLD allocations. Reference counting still frees almost everything at once;
cyclic garbage waits a little longer, a bounded amount (at most GEN0_THRESHOLD objects).

The builds (`index.catalog.build`, `index.site.build.build_site`) hold hundreds of thousands of
long-lived objects (the plan, the build state, every record's summary; `build_records` every record),
and make a range of records and the decoded rows they come from at a time: each full collection would
walk them again and again, most of a build's time when every record was held (bench/catalog.py; the
figures are in bench/README.md). Nothing they make is cyclic garbage worth collecting meanwhile (about
150 objects per range of 1,000 records), so `no_collections()` turns the collector off for the block.
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


@contextmanager
def no_collections() -> Iterator[None]:
    """The cyclic collector off for the block, back as it was after it (reference counting still frees
    everything that is not in a cycle)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
