"""A webhook URL's request limit: the bundle's own or the default, its 429 naming the limit, and every
refusal counted (the metric by the limit's source, the bundle's count in Redis for its read)."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from bpmlink_gateway import ratelimit
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from bpmlink.hook_limits import refusals_last_day
from bpmlink.kit import embedded
from bpmlink.kit.settings import Settings
from tests.fixtures.app import make_settings

from .conftest import MakeBundle, running_gateway


def refused(limit: str) -> float:
    return REGISTRY.get_sample_value("bpmlink_webhook_rate_limited_total", {"limit": limit}) or 0.0


@pytest.fixture(autouse=True)
def _one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # One fixed minute throughout: a minute that turned between requests would reset the count.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))


async def test_a_bundles_own_limit_refuses_past_it_with_the_limit_named(
    settings: Settings, make_bundle: MakeBundle, queue: ArqRedis
) -> None:
    limited, token = await make_bundle(rate_per_minute=60)
    other, other_token = await make_bundle()  # the default, 6,000 a minute
    before = (refused("bundle"), refused("default"))
    async with running_gateway(settings) as hook:
        answers = {(await hook.post(f"/hooks/{token}", json={"n": n})).status_code for n in range(60)}
        assert answers == {202}
        response = await hook.post(f"/hooks/{token}", json={"n": 61})
        assert response.status_code == 429
        error = response.json()["error"]
        assert error["code"] == "rate_limited"
        assert error["details"] == {"reason": "hook_rate_limit", "limit": 60, "retry_after": 30}
        assert response.headers["Retry-After"] == "30"  # to the window's end
        assert (await hook.post(f"/hooks/{other_token}", json={})).status_code == 202
    assert (refused("bundle"), refused("default")) == (before[0] + 1, before[1])
    assert await refusals_last_day(queue, [limited, other], now=1_800_000_030.0) == {limited: 1}


async def test_the_default_limit_counts_as_default_and_an_own_limit_above_it_wins(
    settings: Settings, make_bundle: MakeBundle, queue: ArqRedis
) -> None:
    plain, token = await make_bundle()
    roomy, roomy_token = await make_bundle(rate_per_minute=600)
    strict = make_settings(settings.database_url, settings.redis_url, BPMLINK_HOOK_RATE_PER_MINUTE=2)
    before = (refused("bundle"), refused("default"))
    async with running_gateway(strict) as hook:
        answers = [(await hook.post(f"/hooks/{token}", json={"n": n})).status_code for n in range(4)]
        assert answers == [202, 202, 429, 429]
        assert (await hook.post(f"/hooks/{token}", json={})).json()["error"]["details"]["limit"] == 2
        roomy_answers = {(await hook.post(f"/hooks/{roomy_token}", json={"n": n})).status_code for n in range(4)}
        assert roomy_answers == {202}
    assert (refused("bundle"), refused("default")) == (before[0], before[1] + 3)
    assert await refusals_last_day(queue, [plain, roomy], now=1_800_000_030.0) == {plain: 3}


async def test_concurrent_requests_to_one_url_share_a_round_trip_and_the_limit_stays_exact(
    settings: Settings, make_bundle: MakeBundle, queue: ArqRedis
) -> None:
    # 90 requests at once against a limit of 60: the counts they get are 1…90 (one pipeline per loop turn),
    # so exactly 60 pass, as if each had counted alone.
    limited, token = await make_bundle(rate_per_minute=60)
    async with running_gateway(settings) as hook:
        answers = await asyncio.gather(*(hook.post(f"/hooks/{token}", json={"n": n}) for n in range(90)))
    codes = [a.status_code for a in answers]
    assert (codes.count(202), codes.count(429)) == (60, 30)
    assert await refusals_last_day(queue, [limited], now=1_800_000_030.0) == {limited: 30}


async def test_window_counts_give_each_caller_its_own_count_in_one_round_trip_and_fail_open_together(
    queue: ArqRedis,
) -> None:
    a, b = f"count:{uuid.uuid4()}", f"count:{uuid.uuid4()}"
    await queue.set(a, 7)
    pipelines: list[object] = []
    real_pipeline = queue.pipeline

    def counted(*args: Any, **kwargs: Any) -> Any:
        pipelines.append(args)
        return real_pipeline(*args, **kwargs)

    counts = ratelimit.WindowCounts(queue)
    queue.pipeline = counted  # type: ignore[method-assign]
    got = await asyncio.gather(*(counts.incr(key) for key in (a, b, a, a)))
    assert got == [8, 1, 9, 10]  # "a" stood at 7
    assert len(pipelines) == 1 and int(await queue.get(a)) == 10
    # Redis unreachable: every request of the turn gets the connection error (the limiter then fails open).
    down = ratelimit.WindowCounts(aioredis.Redis(port=embedded.free_port(), socket_connect_timeout=1))
    results = await asyncio.gather(down.incr(a), down.incr(b), return_exceptions=True)
    assert len(results) == 2 and all(isinstance(r, RedisConnectionError) for r in results)
