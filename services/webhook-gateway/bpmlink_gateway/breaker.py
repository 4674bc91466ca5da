"""A circuit breaker for Redis: after a failure, skip Redis for a few seconds.

While Redis is down every request would otherwise wait for a connection attempt twice (rate
limit, enqueue) — up to the connect timeout each when Redis is unreachable rather than
refusing. Events stored meanwhile stay `pending` and the sweeper queues them.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("bpmlink.gateway")

OPEN_SECONDS = 5.0


class RedisBreaker:
    def __init__(self, open_seconds: float = OPEN_SECONDS) -> None:
        self.open_seconds = open_seconds
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        """True while Redis is presumed down (skip it)."""
        return time.monotonic() < self._open_until

    def failed(self, exc: BaseException) -> None:
        if not self.is_open:
            log.warning("Redis unreachable (%s); skipped for %.0f s, the sweeper queues events", exc, self.open_seconds)
        self._open_until = time.monotonic() + self.open_seconds

    def reset(self) -> None:
        self._open_until = 0.0
