"""Redis clients for the services (redis.asyncio) and arq's settings from REDIS_URL."""

from __future__ import annotations

import redis.asyncio as aioredis
from arq.connections import ArqRedis, RedisSettings, create_pool

from bpmlink.settings import Settings


def create_redis(settings: Settings) -> aioredis.Redis:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    return aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)


def arq_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def create_arq_pool(settings: Settings) -> ArqRedis:
    """An arq pool that does not block start-up when Redis is down (it reconnects per command)."""
    redis_settings = arq_settings(settings)
    redis_settings.conn_retries = 0
    try:
        return await create_pool(redis_settings)
    except Exception:  # noqa: BLE001 - start anyway; enqueues fail and the sweeper catches up
        return ArqRedis.from_url(settings.redis_url)
