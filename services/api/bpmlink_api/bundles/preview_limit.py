"""A per-user limit on `POST /bundles/{id}/preview`, which runs user code (templates, filters).

A fixed window in Redis, counted first and atomically (INCR, then compare), so concurrent
requests cannot slip past it: the request that makes the count exceed the maximum is refused."""

from __future__ import annotations

import uuid
from typing import Final

import redis.asyncio as aioredis

from bpmlink.kit.messages import message
from bpmlink.kit.web import TooManyRequests

PREVIEWS_PER_WINDOW: Final = 30
WINDOW_SECONDS: Final = 60


class PreviewRateLimited(TooManyRequests):
    code = "preview_rate_limited"


class PreviewBusy(TooManyRequests):
    """The workspace's previews are busy with earlier ones (`bpmlink.mapping.budget.Busy`)."""

    code = "preview_busy"


async def count_preview(redis: aioredis.Redis, user_id: uuid.UUID) -> None:
    """Count this preview for the user; 429 (with Retry-After) past PREVIEWS_PER_WINDOW in the window."""
    key = f"bpmlink:preview:user:{user_id}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)  # the first preview of a window starts it
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = await pipe.execute()
    if int(count) > PREVIEWS_PER_WINDOW:
        raise PreviewRateLimited(
            message(
                "previews_rate_limited",
                f"more than {PREVIEWS_PER_WINDOW} previews in {WINDOW_SECONDS} s: try again in a moment",
                max=PREVIEWS_PER_WINDOW,
                seconds=WINDOW_SECONDS,
            ),
            details={"max": PREVIEWS_PER_WINDOW, "window_seconds": WINDOW_SECONDS},
            headers={"Retry-After": str(max(int(ttl), 1))},
        )
