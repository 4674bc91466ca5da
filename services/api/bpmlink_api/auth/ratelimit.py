"""Fixed-window counters in Redis for the public auth endpoints (failed logins, mail-sending POSTs)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from bpmlink.kit.settings import Settings
from bpmlink.kit.web import TooManyRequests


@dataclass(frozen=True)
class Limit:
    key: str
    max_hits: int
    window_seconds: int


def login_limits(settings: Settings, email: str, client_ip: str) -> list[Limit]:
    """Failed logins (and failed password checks of an invitation accept), per address and per IP."""
    n, window = settings.login_max_attempts, settings.login_window_seconds
    return [
        Limit(f"bpmlink:login-fail:email:{email}", n, window),
        Limit(f"bpmlink:login-fail:ip:{client_ip}", n, window),
    ]


def mail_limits(settings: Settings, kind: str, email: str, client_ip: str) -> list[Limit]:
    """Requests that may send an e-mail (sign-up, forgotten password), per address and per IP."""
    window = settings.mail_window_seconds
    return [
        Limit(f"bpmlink:mail:{kind}:email:{email}", settings.mail_max_per_address, window),
        Limit(f"bpmlink:mail:ip:{client_ip}", settings.mail_max_per_ip, window),
    ]


async def check(redis: aioredis.Redis, limits: list[Limit], message: str) -> None:
    """429 with Retry-After when any counter reached its maximum."""
    counts = await redis.mget([limit.key for limit in limits])
    full = [limit for limit, count in zip(limits, counts, strict=True) if count and int(count) >= limit.max_hits]
    if full:
        ttl = max([await redis.ttl(limit.key) for limit in full] + [1])
        raise TooManyRequests(message, headers={"Retry-After": str(ttl)})


async def hit(redis: aioredis.Redis, limits: list[Limit]) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for limit in limits:
            # SET NX EX starts the window on the first hit (EXPIRE NX needs Redis 7).
            pipe.set(limit.key, 0, ex=limit.window_seconds, nx=True)
            pipe.incr(limit.key)
        await pipe.execute()


async def reset(redis: aioredis.Redis, limit: Limit) -> None:
    await redis.delete(limit.key)
