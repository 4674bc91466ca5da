"""Redis clients for the services (redis.asyncio) and arq's settings from REDIS_URL."""

from __future__ import annotations

import json
from typing import Any

import redis.asyncio as aioredis
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import ConnectionPool

from bpmlink.settings import Settings


def create_redis(settings: Settings) -> aioredis.Redis:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set")
    return aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)


def job_serializer(data: dict[str, Any]) -> bytes:
    """Jobs travel as JSON, not pickle: a queue entry can never run code when it is read.
    Anything not JSON (an exception kept as a job result) is stored as its text."""
    return json.dumps(data, default=str, separators=(",", ":")).encode()


def job_deserializer(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(raw)
    return value


SERIALIZERS: dict[str, Any] = {"job_serializer": job_serializer, "job_deserializer": job_deserializer}


def arq_queue(pool: ConnectionPool) -> ArqRedis:
    """An arq client over an existing connection pool, with bpmlink's job serializer."""
    return ArqRedis(pool, **SERIALIZERS)


def arq_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def create_arq_pool(settings: Settings) -> ArqRedis:
    """An arq pool that does not block start-up when Redis is down (it reconnects per command)."""
    redis_settings = arq_settings(settings)
    redis_settings.conn_retries = 0
    try:
        return await create_pool(redis_settings, **SERIALIZERS)
    except Exception:  # noqa: BLE001 - start anyway; enqueues fail and the sweeper catches up
        return arq_queue(ConnectionPool.from_url(settings.redis_url))
