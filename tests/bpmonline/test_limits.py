import asyncio
import time
from collections import Counter

import redis.asyncio as aioredis

from bpmlink.bpmonline.limits import RequestLimits, rate_waiting


async def test_requests_per_second_are_capped_across_clients(redis_url):
    redis = aioredis.Redis.from_url(redis_url)
    # Two clients of one connection (as two worker processes would have) share the budget.
    limits = [RequestLimits("conn-1", max_concurrency=50, max_rps=4, redis=redis) for _ in range(2)]
    windows: list[int] = []

    async def request(limit: RequestLimits) -> None:
        async with limit.slot():
            windows.append(int(time.time()))

    await asyncio.gather(*(request(limits[i % 2]) for i in range(10)))
    await redis.aclose()
    per_second = Counter(windows)
    assert sum(per_second.values()) == 10
    assert max(per_second.values()) <= 4


async def test_concurrency_is_capped_per_process(redis_url):
    limit = RequestLimits("conn-2", max_concurrency=3, max_rps=0, redis=None)
    in_flight = 0
    peak = 0

    async def request() -> None:
        nonlocal in_flight, peak
        async with limit.slot():
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1

    await asyncio.gather(*(request() for _ in range(20)))
    assert peak == 3


async def test_connection_params_set_the_limits():
    from bpmlink.bpmonline.connection import BpmConnection

    conn = BpmConnection.from_params(
        "c", {"domain": "https://x.creatio.com", "max_concurrency": 2, "max_requests_per_second": 0}, {}
    )
    assert conn.max_concurrency == 2 and conn.max_requests_per_second == 0
    default = BpmConnection.from_params("c", {"domain": "https://x.creatio.com"}, {})
    assert default.max_concurrency == 8 and default.max_requests_per_second == 25


async def test_the_http_pool_never_caps_below_the_connections_concurrency():
    from bpmlink.bpmonline.client import BpmClient
    from bpmlink.bpmonline.connection import BpmConnection

    for concurrency in (2, 32):
        conn = BpmConnection.from_params("c", {"domain": "https://x.creatio.com", "max_concurrency": concurrency}, {})
        async with BpmClient(conn) as client:
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            assert pool._max_connections > concurrency  # one spare for a login, which takes no slot


async def test_a_request_over_the_rate_says_so_while_it_waits(redis_url):
    """`rate_waiting` (what lets the worker's batches grow) is true exactly while a request waits."""
    redis = aioredis.Redis.from_url(redis_url)
    limit = RequestLimits("conn-3", max_concurrency=10, max_rps=1, redis=redis)
    assert not rate_waiting()
    async with limit.slot():
        pass
    # The window's one request is spent: of two more, at least one waits (even across a window's end).
    more = asyncio.gather(_one(limit), _one(limit))
    await asyncio.sleep(0.05)
    assert rate_waiting()
    await more
    assert not rate_waiting()
    await redis.aclose()


async def _one(limit: RequestLimits) -> None:
    async with limit.slot():
        pass
