"""Handing stored events to Redis off the request path, in batches, then marking them `queued`.

The event is committed before the 202; the hand-off follows at once in a background task, so
one script call queues every event that arrived meanwhile (under load a batch grows by
itself) and one UPDATE per FLUSH_SECONDS marks them `queued`. Nothing here can lose an
event: one that is not handed over (Redis down, gateway killed after its 202) stays `pending`
and the sweeper queues it; its deterministic job id makes a second enqueue a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

import asyncpg
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from bpmlink.events import enqueue_events

from .breaker import RedisBreaker

log = logging.getLogger("bpmlink.gateway")

FLUSH_SECONDS = 0.25
# At most one Redis call per PACE_SECONDS: events that arrive within it share the next call (one event per
# call cost ~13% of the gateway's CPU at one sender). The delay to the queue is that much at most.
PACE_SECONDS = 0.005
MAX_BATCH = 2000
DB_TIMEOUT_SECONDS = 10.0  # a PostgreSQL that does not answer must not hold the loop (or a shutdown)
DB_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

_MARK_QUEUED = """
UPDATE events SET state = 'queued', enqueued_at = now()
WHERE id = ANY($1::uuid[]) AND state = 'pending'
"""


class Handoff:
    def __init__(
        self,
        db: asyncpg.Pool,
        queue: ArqRedis,
        breaker: RedisBreaker,
        interval: float = FLUSH_SECONDS,
        pace: float = PACE_SECONDS,
    ) -> None:
        self.db = db
        self.queue = queue
        self.breaker = breaker
        self.interval = interval
        self.pace = pace
        self._waiting: list[uuid.UUID] = []  # stored, not yet in Redis
        self._queued: list[uuid.UUID] = []  # in Redis, not yet marked
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # One round at a time: a flush() waits for the loop's round in progress (whose batch left
        # _waiting but is not in _queued yet), so what was added before the flush is marked by it.
        self._round = asyncio.Lock()

    def add(self, event_id: uuid.UUID) -> None:
        self._waiting.append(event_id)
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="gateway-handoff")

    async def stop(self) -> None:
        """End the loop after its current round (no cancellation: a cancel that meets the loop's own
        timeout can be taken for that timeout and lost), then hand over what is left."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> int:
        """Enqueue what waits and mark what is queued; returns how many rows were marked."""
        async with self._round:
            await self._enqueue()
            return await self._mark()

    async def _enqueue(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            if self.breaker.is_open:
                log.info("%d events stored, not queued while Redis is down; the sweeper queues them", len(batch))
                continue
            try:
                await enqueue_events(self.queue, batch)
            except (RedisError, OSError, TimeoutError) as exc:
                self.breaker.failed(exc)
                log.warning("%d events stored but not queued (Redis: %s); the sweeper queues them", len(batch), exc)
                continue
            self._queued += batch

    async def _mark(self) -> int:
        marked = 0
        while self._queued:
            batch, self._queued = self._queued[:MAX_BATCH], self._queued[MAX_BATCH:]
            try:
                result = await self.db.execute(_MARK_QUEUED, batch, timeout=DB_TIMEOUT_SECONDS)
            except DB_ERRORS as exc:
                # Left pending: the sweeper re-enqueues them (a no-op in Redis) and marks them.
                log.warning("could not mark %d events queued: %s", len(batch), exc)
                continue
            marked += int(result.rsplit(" ", 1)[-1])
        return marked

    async def _run(self) -> None:
        next_mark = time.monotonic() + self.interval
        last_round = 0.0
        while not self._stopping:
            if not self._waiting:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.001, next_mark - time.monotonic())):
                        await self._wake.wait()
            delay = last_round + self.pace - time.monotonic()
            if delay > 0 and self._waiting and not self._stopping:
                await asyncio.sleep(delay)  # let the events arriving meanwhile join this round's call
            last_round = time.monotonic()
            self._wake.clear()
            try:
                async with self._round:
                    await self._enqueue()
                    if time.monotonic() >= next_mark:
                        await self._mark()
                        next_mark = time.monotonic() + self.interval
            except Exception:  # a bug here must not end the hand-off; the sweeper covers what it missed
                log.exception("event hand-off failed")
