"""The crawl processes' GC policy applies inside its block only."""

from __future__ import annotations

import gc

from crawler.gcpolicy import GEN0_THRESHOLD, fewer_collections


def test_fewer_collections_inside_the_block_only() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == GEN0_THRESHOLD
        assert gc.get_threshold()[1:] == before[1:]
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
