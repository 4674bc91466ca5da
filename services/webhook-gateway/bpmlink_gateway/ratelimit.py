"""Per-token rate limit: a fixed one-minute window counted in Redis (INCR + EXPIRE, one round trip).

It fails open: when Redis is unreachable the request goes on, because refusing webhooks
for a cache outage would drop customers' leads that PostgreSQL could still store.
"""

from __future__ import annotations

import hashlib
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .breaker import RedisBreaker

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, per_minute: int, breaker: RedisBreaker | None = None) -> None:
        self.redis = redis
        self.per_minute = per_minute
        self.breaker = breaker or RedisBreaker()

    async def retry_after(self, token: str) -> int | None:
        """Count one request; the seconds to wait when the token is over its rate, else None."""
        if self.per_minute <= 0 or self.breaker.is_open:
            return None
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        # The key holds a digest, not the token: the token is a credential.
        key = f"bpmlink:hook-rate:{hashlib.sha256(token.encode()).hexdigest()[:32]}:{window}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, WINDOW_SECONDS + 5)
                count, _ = await pipe.execute()
        except (RedisError, OSError, TimeoutError) as exc:
            self.breaker.failed(exc)
            return None
        if int(count) <= self.per_minute:
            return None
        return max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
