"""A webhook URL's request limit, and the count of requests refused over it: what the api and the gateway share.

The limit is requests per minute per webhook token. A bundle may set its own
(`Bundle.webhook_rate_per_minute`, HOOK_RATE_MIN..HOOK_RATE_MAX); null means the default, the setting
`BPMLINK_HOOK_RATE_PER_MINUTE` (0: no limit). The gateway reads the column with the bundle's other
columns into its per-token cache, so a new limit reaches it without a query per request.

Every refused request is counted per bundle in Redis, in hourly buckets kept a little over a day
(`count_refusal`, one pipelined round trip, only on a refusal); the api sums the last 24 buckets for the
bundle's read (`refusals_last_day`). A bundle id is never a Prometheus label: the metric counts by where
the limit came from (`bpmlink_webhook_rate_limited_total{limit="default"|"bundle"}`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence

import redis.asyncio as aioredis

HOOK_RATE_MIN = 60  # one a second: below it a form's own retries would be refused
HOOK_RATE_MAX = 600_000  # 10,000 a second, beyond what one gateway takes
HOUR_SECONDS = 3600
DAY_HOURS = 24
# The bucket of the hour 24 hours back must still be there when the api reads it.
_BUCKET_TTL = (DAY_HOURS + 1) * HOUR_SECONDS


def effective_limit(own: int | None, default: int) -> int:
    """The requests per minute a bundle's URL takes: its own, else the default (0: no limit)."""
    return own if own is not None else default


def _bucket(bundle_id: uuid.UUID, hour: int) -> str:
    return f"bpmlink:hook-refused:{bundle_id}:{hour}"


async def count_refusal(redis: aioredis.Redis, bundle_id: uuid.UUID, now: float | None = None) -> None:
    """One more request of the bundle refused as over its limit (the caller handles a Redis error)."""
    key = _bucket(bundle_id, int((time.time() if now is None else now) // HOUR_SECONDS))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(key)
        pipe.expire(key, _BUCKET_TTL)
        await pipe.execute()


async def refusals_last_day(
    redis: aioredis.Redis, bundle_ids: Sequence[uuid.UUID], now: float | None = None
) -> dict[uuid.UUID, int]:
    """Requests refused as over the limit in the last 24 hours (by the hour: the current one and the 23
    before), per bundle that had any; one MGET for the page."""
    if not bundle_ids:
        return {}
    hour = int((time.time() if now is None else now) // HOUR_SECONDS)
    hours = range(hour - DAY_HOURS + 1, hour + 1)
    keys = [_bucket(bundle_id, h) for bundle_id in bundle_ids for h in hours]
    values = await redis.mget(keys)
    counts: dict[uuid.UUID, int] = {}
    for index, bundle_id in enumerate(bundle_ids):
        total = sum(int(v) for v in values[index * DAY_HOURS : (index + 1) * DAY_HOURS] if v is not None)
        if total:
            counts[bundle_id] = total
    return counts
