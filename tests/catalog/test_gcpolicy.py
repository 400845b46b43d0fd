"""The GC policies apply inside their blocks only."""

from __future__ import annotations

import gc

from index.gcpolicy import GEN0_THRESHOLD, fewer_collections, no_collections


def test_fewer_collections_inside_the_block_only() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_no_collections_inside_the_block_only() -> None:
    assert gc.isenabled()
    with no_collections():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:  # a caller that had it off keeps it off
        with no_collections():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
