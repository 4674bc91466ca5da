"""Per-connection request limits, so one bundle cannot flood a bpm'online instance.

- concurrency: at most `max_concurrency` requests in flight per connection per process;
- rate: at most `max_requests_per_second` per connection across all processes, counted in
  one-second windows in Redis (a request over the budget waits for the next window).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("bpmlink.bpmonline.limits")

# Requests of this process waiting for a rate window right now (any connection): the worker's batcher
# lets its batches grow while some do, as a request saved is worth more then than latency.
_rate_waiting = 0


def rate_waiting() -> bool:
    """Whether some request of this process is waiting for its connection's rate window."""
    return _rate_waiting > 0


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
        while True:
            now = time.time()
            window = int(now)
            key = f"bpmlink:rps:{self.connection_id}:{window}"
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, 2)
                    count, _ = await pipe.execute()
            except RedisError:  # without Redis the per-process concurrency limit still holds
                log.warning("rate limit unavailable (Redis); sending without it", exc_info=True)
                return
            if int(count) <= self.max_rps:
                return
            global _rate_waiting
            _rate_waiting += 1
            try:
                await asyncio.sleep(window + 1 - now + random.uniform(0, 0.02))
            finally:
                _rate_waiting -= 1
