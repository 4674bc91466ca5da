"""Per-connection request limits, so one bundle cannot flood a bpm'online instance.

- concurrency: at most `max_concurrency` requests in flight per connection per process;
- rate: at most `max_requests_per_second` per connection across all processes, counted in
  one-second windows in Redis and spread over each second's tenths (a request over the budget
  waits for the next tenth or the next second).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("bpmlink.bpmonline.limits")

# Requests of this process waiting for a rate window right now (any connection), and when a window
# last was more than half spent or a wait ended: the worker's batcher lets its batches grow while a
# limit binds or nearly does, as a request saved is worth more then than latency. (Only "waiting"
# flapped: full batches relieved the limit, the next batches started small and spent it again.)
_rate_waiting = 0
_last_pressed = float("-inf")
RATE_BINDS_FOR = 2.0  # seconds after a pressed window that the limit still counts as binding


def rate_binding() -> bool:
    """Whether a request of this process waits for its connection's rate window, or a window of one
    of its connections was more than half spent within RATE_BINDS_FOR seconds."""
    return _rate_waiting > 0 or time.monotonic() - _last_pressed < RATE_BINDS_FOR


def _pressed() -> None:
    global _last_pressed
    _last_pressed = time.monotonic()


class RequestLimits:
    def __init__(self, connection_id: str, *, max_concurrency: int, max_rps: int, redis: Redis | None) -> None:
        self.connection_id = connection_id
        self.max_rps = max_rps
        self._redis = redis
        self._slots = asyncio.Semaphore(max(1, max_concurrency))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self._slots:
            await self._within_rate()
            yield

    async def _within_rate(self) -> None:
        if self.max_rps <= 0 or self._redis is None:
            return
        slice_budget = math.ceil(self.max_rps / SLICES)
        while True:
            now = time.time()
            window, part = int(now), int(now * SLICES)
            keys = (f"bpmlink:rps:{self.connection_id}:{window}", f"bpmlink:rps:{self.connection_id}:s{part}")
            try:
                verdict, count = await self._redis.eval(  # type: ignore[misc]
                    _TAKE, 2, *keys, str(self.max_rps), str(slice_budget)
                )
            except RedisError:  # without Redis the per-process concurrency limit still holds
                log.warning("rate limit unavailable (Redis); sending without it", exc_info=True)
                return
            if int(count) * 2 > self.max_rps:
                _pressed()
            if int(verdict) == 0:
                return
            # The second's budget spent: its end; only this slice's: the next slice's start.
            until = window + 1 if int(verdict) == 1 else (part + 1) / SLICES
            global _rate_waiting
            _rate_waiting += 1
            try:
                await asyncio.sleep(until - now + random.uniform(0, 0.01))
            finally:
                _rate_waiting -= 1
                _pressed()


# A request's place in its second's budget (at most max_rps) and in its tenth of a second's (at most
# ceil(max_rps / SLICES)), taken only when both have room: the budget is spread over the second
# instead of spent in a burst at its start (every waiter woke on the second and the batches' two
# requests waited up to a second each). Returns (0 taken | 1 second full | 2 slice full, second's count).
SLICES = 10
_TAKE = """
local second = tonumber(redis.call('GET', KEYS[1]) or '0')
if second >= tonumber(ARGV[1]) then return {1, second} end
local slice = tonumber(redis.call('GET', KEYS[2]) or '0')
if slice >= tonumber(ARGV[2]) then return {2, second} end
redis.call('INCR', KEYS[1]); redis.call('EXPIRE', KEYS[1], 2)
redis.call('INCR', KEYS[2]); redis.call('PEXPIRE', KEYS[2], 1000)
return {0, second + 1}
"""
