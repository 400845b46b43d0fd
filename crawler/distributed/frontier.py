"""The shared frontier in Redis: one run's keys, the claims that keep a resource probed once by the
whole fleet, leases that keep nothing lost when a worker dies, and the bookkeeping the coordinator
reads to know the run is over.

A worker takes a request with LMOVE from the run's queue into its own `working` list (the lease)
and removes it from there only when the request's callback has run, what it yielded is in the
frontier, and the items it yielded are in the database. So at every moment a piece of work is in
exactly one of: `tasks`, `queue`, a `working` list. The coordinator puts the working list of a
worker whose heartbeat stopped back into the queue, minus the probes the database already holds.

Every script keeps its read-modify-write atomic. _OUTSTANDING reads the working lists of the workers
it finds registered, keys it is not given: fine on one Redis server, not on a Redis Cluster.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

PREFIX = "x402"
TASK = b"task:"  # working-list entries that are tasks (a candidate, a facilitator, an origin), not requests
CLAIMED, DUPLICATE, SIGHTING = 1, 0, 2

# A resource's verdict: already finished in this run (or known and not due) -> a sighting; else its
# source joins the ones its probe will carry (a hash: canonical JSON -> the source as sent, key order
# kept, since an example body's order shows in the catalog); the first claim wins the probe.
_CLAIM = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 2 end
if ARGV[2] ~= '' then redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[4]) end
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
  return 1
end
return 0
"""
# A probe's end: finished (also under the method its resource is stored as); the sources to store.
_FINISH = """
redis.call('SADD', KEYS[2], ARGV[1])
if ARGV[2] ~= ARGV[1] then
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[2], ARGV[2])
end
return redis.call('HGETALL', KEYS[3])
"""
_ORIGIN = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0
"""
# A docs page of an origin, within the origin's budget: 1 claimed, 0 already queued, 2 the budget
# turned it away for the first time (the origin's `discovery_capped` finding), 3 again.
_DOCS = """
local left = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if left <= 0 then
  if redis.call('SADD', KEYS[3], ARGV[1]) == 1 then return 2 end
  return 3
end
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
redis.call('SADD', KEYS[1], ARGV[2])
return 1
"""
DOCS_CLAIMED, DOCS_CAPPED_FIRST, DOCS_CAPPED = 1, 2, 3
# Take work: the entry moves into this worker's working list, and the worker is (again) registered,
# in one step, so work a worker holds is always visible to the coordinator (even right after Redis
# came back empty and before the worker's next heartbeat).
_TAKE = """
local entry = redis.call('LMOVE', KEYS[1], KEYS[2], ARGV[1], 'LEFT')
if entry then redis.call('SADD', KEYS[3], ARGV[2]) end
return entry
"""
# Work left: tasks, queued requests and every registered worker's leases, counted in one step.
_OUTSTANDING = """
local n = redis.call('LLEN', KEYS[1]) + redis.call('LLEN', KEYS[2])
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  n = n + redis.call('LLEN', ARGV[1] .. worker)
end
return n
"""
# A per-host slot for the whole fleet: holders expire (a dead worker's slots come back), Redis' clock.
_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3])) + 60)
  return 1
end
return 0
"""


def connect(url: str, *, patience: float = 30.0) -> redis.Redis:
    """A client that rides out a Redis restart: each command retries with backoff for about
    `patience` seconds before it gives up."""
    retries = max(1, int(patience / 0.5))
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=5,
                                retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries),
                                retry_on_error=[redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError])


def key_text(key: tuple[str, str]) -> str:
    url, method = key
    return f"{method} {url}"


def key_of(text: str) -> tuple[str, str]:
    method, _, url = text.partition(" ")
    return url, method


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def current_run(server: redis.Redis) -> int | None:
    """The run workers should work on, if one is open."""
    value = server.get(f"{PREFIX}:current")
    return int(value) if value else None


class Frontier:
    """One run's keys and operations, for a worker (`worker` set) or the coordinator."""

    def __init__(self, server: redis.Redis, run_id: int, worker: str | None = None) -> None:
        self.server = server
        self.run_id = run_id
        self.worker = worker
        base = f"{PREFIX}:run:{run_id}"
        self.base = base
        self.meta_key, self.state_key = f"{base}:meta", f"{base}:state"
        self.tasks, self.queue, self.workers = f"{base}:tasks", f"{base}:queue", f"{base}:workers"
        self.claimed, self.finished, self.cands = f"{base}:claimed", f"{base}:finished", f"{base}:cands"
        self.origins, self.docs, self.budget = f"{base}:origins", f"{base}:docs", f"{base}:budget"
        self.sightings, self.stats = f"{base}:sightings", f"{base}:stats"
        self.dupefilter = f"{base}:dupefilter"
        self._claim = server.register_script(_CLAIM)
        self._finish = server.register_script(_FINISH)
        self._origin = server.register_script(_ORIGIN)
        self._docs = server.register_script(_DOCS)
        self._slot = server.register_script(_SLOT)
        self._take = server.register_script(_TAKE)
        self._outstanding = server.register_script(_OUTSTANDING)

    def working(self, worker: str | None = None) -> str:
        return f"{self.base}:working:{worker or self.worker}"

    def alive(self, worker: str | None = None) -> str:
        return f"{self.base}:alive:{worker or self.worker}"

    def sources_key(self, key: str) -> str:
        return f"{self.base}:src:{key}"

    # -- the run ------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any] | None:
        raw = self.server.get(self.meta_key)
        return json.loads(raw) if raw else None

    def done(self) -> bool:
        return self.server.get(self.state_key) == b"done"

    # -- resources ----------------------------------------------------------------------------

    def claim(self, key: tuple[str, str], source: dict[str, Any] | None, cand: dict[str, Any]) -> int:
        text = key_text(key)
        canonical = json.dumps(source, sort_keys=True) if source else ""
        return int(self._claim(keys=[self.claimed, self.finished, self.sources_key(text), self.cands],
                               args=[text, canonical, json.dumps(cand), json.dumps(source)]))

    def unclaim(self, key: tuple[str, str]) -> None:
        self.server.srem(self.claimed, key_text(key))

    def finish(self, key: tuple[str, str], stored_as: tuple[str, str]) -> list[dict[str, Any]]:
        text = key_text(key)
        raw = self._finish(keys=[self.claimed, self.finished, self.sources_key(text)], args=[text, key_text(stored_as)])
        pairs = sorted(zip(raw[::2], raw[1::2], strict=True))  # (canonical, as sent), in canonical order
        return [json.loads(sent) for _, sent in pairs]

    def add_sighting(self, sighting: dict[str, Any]) -> None:
        self.server.rpush(self.sightings, json.dumps(sighting))

    def claim_origin(self, origin: str, docs_budget: int) -> bool:
        return bool(self._origin(keys=[self.origins, self.budget], args=[origin, docs_budget]))

    def claim_docs(self, origin: str, url: str) -> int:
        return int(self._docs(keys=[self.docs, self.budget, f"{self.base}:capped"], args=[origin, url]))

    def take_slot(self, host: str, limit: int, holder: str, ttl: float) -> bool:
        return bool(self._slot(keys=[f"{PREFIX}:slots:{host}"], args=[limit, holder, ttl]))

    def give_slot(self, host: str, holder: str) -> None:
        self.server.zrem(f"{PREFIX}:slots:{host}", holder)

    # -- work ---------------------------------------------------------------------------------

    def push_tasks(self, tasks: Iterable[dict[str, Any]]) -> int:
        n = 0
        for chunk in _chunks([TASK + json.dumps(t).encode() for t in tasks], 1000):
            self.server.rpush(self.tasks, *chunk)
            n += len(chunk)
        return n

    def take_task(self) -> tuple[bytes, dict[str, Any]] | None:
        """A task, leased: moved into this worker's working list (ack it when its requests are queued)."""
        raw = self.take(self.tasks, "LEFT")
        if raw is None:
            return None
        return raw, json.loads(raw[len(TASK):])

    def take(self, source: str, end: str) -> bytes | None:
        """Move one entry from the `end` of list `source` into this worker's working list (a lease)."""
        return self._take(keys=[source, self.working(), self.workers], args=[end, self.worker])

    def ack(self, entry: bytes) -> None:
        self.server.lrem(self.working(), 1, entry)

    def heartbeat(self, ttl: float, stats: dict[str, Any] | None = None) -> None:
        pipe = self.server.pipeline()
        pipe.sadd(self.workers, self.worker)
        pipe.set(self.alive(), "1", px=int(ttl * 1000))
        if stats is not None:
            pipe.hset(self.stats, self.worker, json.dumps(stats, default=str))
        pipe.execute()

    def leave(self, stats: dict[str, Any]) -> None:
        pipe = self.server.pipeline()
        pipe.hset(self.stats, self.worker, json.dumps({**stats, "closed": True}, default=str))
        pipe.delete(self.alive())
        pipe.execute()

    # -- coordinator's view -------------------------------------------------------------------

    def outstanding(self) -> int:
        """Tasks, queued requests and leased work of every registered worker, counted in one step."""
        return int(self._outstanding(keys=[self.tasks, self.queue, self.workers], args=[f"{self.base}:working:"]))

    def dead_workers(self) -> list[str]:
        workers = sorted(w.decode() for w in self.server.smembers(self.workers))
        alive = self.server.mget([self.alive(w) for w in workers]) if workers else []
        return [w for w, a in zip(workers, alive, strict=True) if a is None]

    def live_workers(self) -> list[str]:
        workers = sorted(w.decode() for w in self.server.smembers(self.workers))
        alive = self.server.mget([self.alive(w) for w in workers]) if workers else []
        return [w for w, a in zip(workers, alive, strict=True) if a is not None]

    def leased(self, worker: str) -> list[bytes]:
        return list(self.server.lrange(self.working(worker), 0, -1))

    def release_worker(self, worker: str, requests: list[bytes], tasks: list[bytes]) -> None:
        """A dead worker's leases back into the frontier (what the database already holds left out)."""
        pipe = self.server.pipeline(transaction=True)
        if tasks:
            pipe.lpush(self.tasks, *[t for t in tasks])
        if requests:
            pipe.rpush(self.queue, *requests)  # the queue pops from the right: these go first
        pipe.delete(self.working(worker))
        pipe.srem(self.workers, worker)
        pipe.execute()

    def free_slots_of(self, worker: str) -> int:
        """Give back the per-host slots a dead worker held (they would expire, but only after a
        download timeout and more)."""
        freed = 0
        for key in self.server.scan_iter(f"{PREFIX}:slots:*", count=1000):
            mine = [m for m in self.server.zrange(key, 0, -1) if m.decode().startswith(worker + "|")]
            if mine:
                freed += self.server.zrem(key, *mine)
        return freed

    def claimed_keys(self) -> set[str]:
        return {k.decode() for k in self.server.sscan_iter(self.claimed, count=1000)}

    def candidate_of(self, key: str) -> dict[str, Any] | None:
        raw = self.server.hget(self.cands, key)
        return json.loads(raw) if raw else None

    def reclaimable(self, keys: list[str]) -> None:
        """Forget claims whose probe never reached the database, so pushing them again probes them."""
        for chunk in _chunks(keys, 1000):
            self.server.srem(self.claimed, *chunk)
            self.server.srem(self.finished, *chunk)

    def pop_sightings(self) -> Iterator[dict[str, Any]]:
        while True:
            chunk = self.server.lpop(self.sightings, 1000)
            if not chunk:
                return
            yield from (json.loads(s) for s in chunk)

    def worker_stats(self) -> dict[str, dict[str, Any]]:
        return {w.decode(): json.loads(v) for w, v in self.server.hgetall(self.stats).items()}

    def drop(self) -> None:
        """Delete every key of the run (its slots are the fleet's and expire by themselves)."""
        for chunk in _chunks(list(self.server.scan_iter(f"{self.base}:*", count=1000)), 500):
            self.server.delete(*chunk)


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]
