"""Per-token rate limit: a fixed one-minute window counted in Redis (INCR + EXPIRE, one round trip).

The limit is the bundle's own or the default (`bpmlink.hook_limits`), read from the cached target. A
refused request is counted for the bundle's read (`hook_limits.count_refusal`, a second round trip on a
refusal only) and in `bpmlink_webhook_rate_limited_total{limit}`.

It fails open: when Redis is unreachable the request goes on, because refusing webhooks
for a cache outage would drop customers' leads that PostgreSQL could still store.
"""

from __future__ import annotations

import hashlib
import time
import uuid

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bpmlink import hook_limits
from bpmlink.kit import metrics

from .breaker import RedisBreaker

WINDOW_SECONDS = 60


class RateLimiter:
    def __init__(self, redis: aioredis.Redis, per_minute: int, breaker: RedisBreaker | None = None) -> None:
        self.redis = redis
        self.per_minute = per_minute  # the default: a bundle without a limit of its own gets it
        self.breaker = breaker or RedisBreaker()

    async def retry_after(self, token: str, bundle_id: uuid.UUID, own: int | None) -> tuple[int, int] | None:
        """Count one request; (the limit, the seconds to wait) when the token is over its rate, else None."""
        limit = hook_limits.effective_limit(own, self.per_minute)
        if limit <= 0 or self.breaker.is_open:
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
        if int(count) <= limit:
            return None
        metrics.observe_hook_rate_limited("default" if own is None else "bundle")
        try:
            await hook_limits.count_refusal(self.redis, bundle_id, now)
        except (RedisError, OSError, TimeoutError) as exc:
            self.breaker.failed(exc)  # the 429 stands: the request was over the limit
        return limit, max(1, int((window + 1) * WINDOW_SECONDS - now + 0.999))
