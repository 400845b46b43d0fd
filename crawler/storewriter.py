"""The crawl's database writer: a process of its own, the only writer of the crawl's database.

The crawl is CPU-bound on one core (the reactor thread). Writing in a thread of the same process
costs the reactor far more than the write itself (every socket call waits for the GIL); here the
writes run on another core and the reactor only pickles each batch.

    python -m crawler.storewriter DB_URL [CRAWL_RUN_ID]

Protocol, in order and one batch at a time: the crawl writes batches to our stdin, each a frame
(8-byte big-endian length, then a pickled list of items, the dicts the spider yields); we write each
with `write_batch` in one go and answer one JSON line on stdout: the counts, or {"error": ...} when
the batch could not be written (the next batches are still tried). End of stdin: we exit 0.

`crawler.pipelines.StorePipeline` is the other end. Nothing here imports Scrapy or Twisted.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Iterator
from typing import Any, BinaryIO

from sqlalchemy.engine import Engine

from index.gcpolicy import fewer_collections
from index.store.engine import init_db
from index.store.items import StoreItem
from index.store.pages import record_origin_pages, record_sources
from index.store.write import record_probes

_LENGTH = struct.Struct("!Q")
MAX_ERROR_CHARS = 8000


def write_batch(engine: Engine, items: list[StoreItem], run_id: int | None) -> dict[str, int]:
    """One batch of crawl items: probe attempts, origin pages, late sources (in that order, each kind in
    its own transaction). Returns counts: observations, new_resources."""
    probes = [i for i in items if i.get("kind", "probe") == "probe"]
    pages = [i for i in items if i.get("kind") == "page"]
    sightings = [i for i in items if i.get("kind") == "source"]
    counts = record_probes(engine, probes, run_id)
    if pages:
        record_origin_pages(engine, pages)
    if sightings:
        record_sources(engine, sightings)
    return counts


def encode_frame(items: list[dict[str, Any]]) -> bytes:
    payload = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(payload)) + payload


def read_frames(stream: BinaryIO) -> Iterator[list[dict[str, Any]]]:
    """Batches from `stream` until it ends; a frame cut short by the end is an error (EOFError)."""
    while True:
        head = stream.read(_LENGTH.size)
        if not head:
            return
        if len(head) < _LENGTH.size:
            raise EOFError("stream ended inside a frame header")
        (size,) = _LENGTH.unpack(head)
        payload = stream.read(size)
        if len(payload) < size:
            raise EOFError("stream ended inside a frame")
        yield pickle.loads(payload)  # noqa: S301 - frames come from our own crawl process, over a pipe


def serve(engine: Engine, run_id: int | None, frames: BinaryIO, replies: BinaryIO) -> None:
    """Write every batch read from `frames`, one reply line each."""
    for items in read_frames(frames):
        try:
            reply: dict[str, Any] = write_batch(engine, items, run_id)
        except Exception as exc:  # noqa: BLE001 - reported to the crawl, which counts and logs it
            reply = {"error": f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS],
                     "traceback": traceback.format_exc()[-MAX_ERROR_CHARS:]}
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    db_url = args[0]
    run_id = int(args[1]) if len(args) > 1 and args[1] else None
    # Ctrl-C reaches the whole process group; the crawl shuts down gracefully and still sends its last
    # batches, so we keep going and stop at the end of stdin (also when the crawl process dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # stdout carries the replies only: anything else printed (a library's warning) goes to stderr
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    engine = init_db(db_url)
    try:
        with fewer_collections():
            serve(engine, run_id, sys.stdin.buffer, replies)
    finally:
        engine.dispose()
        replies.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
