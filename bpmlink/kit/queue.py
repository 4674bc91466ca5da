"""Redis clients for the services (redis.asyncio) and arq's settings from REDIS_URL."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import redis.asyncio as aioredis
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import ConnectionPool

from bpmlink.kit.settings import Settings


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


@dataclass(frozen=True)
class Job:
    """One arq job to enqueue: function name, arguments, id, and when to run (ms since the epoch)."""

    function: str
    args: tuple[Any, ...]
    job_id: str
    run_at_ms: int


SCRIPT_BATCH = 1000  # jobs per script call: a bounded time inside Redis, which runs a script alone
JOB_EXPIRES_MS = 86_400_000  # arq's default: a job not started within a day (after its run time) is dropped

# arq's enqueue_job for many jobs in one call: a job whose id is waiting, running or kept as a
# result is left alone, as enqueue_job's WATCH/EXISTS check does for one (a script runs atomically).
_ENQUEUE_SCRIPT = """
local added = 0
for i = 3, #ARGV, 4 do
    local id, score, expires, job = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    if redis.call('EXISTS', ARGV[1] .. id, ARGV[2] .. id) == 0 then
        redis.call('PSETEX', ARGV[1] .. id, expires, job)
        redis.call('ZADD', KEYS[1], score, id)
        added = added + 1
    end
end
return added
"""


async def enqueue_jobs(pool: ArqRedis, jobs: Sequence[Job]) -> int:
    """Enqueue many jobs in one round trip per SCRIPT_BATCH (arq's enqueue_job costs three per job);
    returns how many were new. The payloads are arq's own, so arq's workers run them unchanged."""
    added = 0
    for start in range(0, len(jobs), SCRIPT_BATCH):
        now_ms = int(time.time() * 1000)
        args: list[Any] = [job_key_prefix, result_key_prefix]
        for job in jobs[start : start + SCRIPT_BATCH]:
            payload = serialize_job(job.function, job.args, {}, None, now_ms, serializer=pool.job_serializer)
            expires_ms = max(job.run_at_ms - now_ms, 0) + JOB_EXPIRES_MS
            args += [job.job_id, job.run_at_ms, expires_ms, payload]
        added += int(await cast(Awaitable[int], pool.eval(_ENQUEUE_SCRIPT, 1, default_queue_name, *args)))
    return added


def arq_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis_url)


async def create_arq_pool(settings: Settings) -> ArqRedis:
    """An arq pool that does not block start-up when Redis is down (it reconnects per command)."""
    redis_settings = arq_settings(settings)
    redis_settings.conn_retries = 0
    try:
        return await create_pool(redis_settings, **SERIALIZERS)
    except Exception:
        return arq_queue(ConnectionPool.from_url(settings.redis_url))
