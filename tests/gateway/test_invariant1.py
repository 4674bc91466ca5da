"""Invariant 1: no acknowledged event is lost.

(a) Redis down → 202 anyway, the event waits as `pending`, and the sweeper queues it exactly
once when Redis is back; (b) PostgreSQL down → 503 in the error shape; (c) 50 concurrent
resends with one Idempotency-Key → one event.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import asyncpg
import pytest
from arq.connections import ArqRedis
from bpmlink_gateway.breaker import RedisBreaker
from bpmlink_gateway.handoff import Handoff
from bpmlink_worker.main import build_worker
from bpmlink_worker.sweeper import sweep_unqueued
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import BundleStatus, Event, EventState
from bpmlink.events import PROCESS_EVENT, process_job_id
from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings
from tests.fixtures.app import make_settings

from .conftest import GatewayClient, MakeBundle, running_gateway
from .support import events_of, operations_of


async def test_redis_down_still_answers_202_and_the_sweeper_queues_the_event_once(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    no_redis = make_settings(settings.database_url, f"redis://127.0.0.1:{free_port()}/0")
    async with running_gateway(no_redis) as hook:
        response = await hook.post(f"/hooks/{token}", json={"name": "Ann"})
        assert response.status_code == 202, response.text
        # Later requests skip Redis for a while instead of waiting on it each time.
        assert hook.gateway.breaker.is_open
        again = await hook.post(f"/hooks/{token}", json={"name": "Ann"}, headers={"Idempotency-Key": "k1"})
        assert again.status_code == 202
    event_id = response.json()["event_id"]
    events = {str(e.id): e for e in await events_of(sm, bundle_id)}
    assert set(events) == {event_id, again.json()["event_id"]}
    assert {(e.state, e.enqueued_at) for e in events.values()} == {(EventState.pending, None)}
    assert await queue.queued_jobs() == []

    # Redis is back (the suite's own server): a young event is left to the gateway's enqueue...
    assert await sweep_unqueued(sm, queue) == 0
    # ...one older than the sweep delay is queued, exactly once however often the sweeper runs.
    assert await sweep_unqueued(sm, queue, older_than=timedelta(0)) == 2
    assert await sweep_unqueued(sm, queue, older_than=timedelta(0)) == 0
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    jobs = await queue.queued_jobs()
    assert sorted((j.function, j.args[0], j.job_id) for j in jobs) == sorted(
        (PROCESS_EVENT, str(e.id), process_job_id(e.id)) for e in events.values()
    )
    assert {(e.state, e.enqueued_at is not None) for e in await events_of(sm, bundle_id)} == {(EventState.queued, True)}


async def test_sweeper_does_not_queue_twice_when_only_the_queued_mark_was_lost(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    response = await hook.post(f"/hooks/{token}", json={"name": "Ann"})
    assert response.status_code == 202
    # The job is in Redis but the row still says pending (the batched mark never ran).
    async with sm() as session:
        await session.execute(update(Event).where(Event.bundle_id == bundle_id).values(state=EventState.pending))
        await session.commit()
    await sweep_unqueued(sm, queue, older_than=timedelta(0))
    [event] = await events_of(sm, bundle_id)
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    assert [j.job_id for j in await queue.queued_jobs()] == [process_job_id(event.id)]
    assert event.state == EventState.queued


async def test_sweeper_leaves_held_events_alone(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle(status=BundleStatus.stopped)
    assert (await hook.post(f"/hooks/{token}", json={"name": "Ann"})).status_code == 202
    await sweep_unqueued(sm, queue, older_than=timedelta(0))
    assert await queue.queued_jobs() == []
    assert [e.state for e in await events_of(sm, bundle_id)] == [EventState.held]


def test_the_worker_runs_the_sweeper_every_minute(settings: Settings) -> None:
    worker = build_worker(settings)
    [sweep] = [job for job in worker.cron_jobs if job.name == "event.sweep"]
    assert sweep.unique and sweep.minute is None and sweep.second == {20}


async def test_postgres_down_answers_503_in_the_error_shape(settings: Settings) -> None:
    no_db = make_settings(f"postgresql://bpmlink:x@127.0.0.1:{free_port()}/bpmlink", settings.redis_url)
    async with running_gateway(no_db) as hook:
        response = await hook.post("/hooks/" + "t" * 43, json={"name": "Ann"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert "retry" in response.json()["error"]["message"]


async def test_postgres_lost_after_the_token_lookup_answers_503_and_queues_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    assert (await hook.post(f"/hooks/{token}", json={"n": 1})).status_code == 202  # the bundle is now cached
    dead = await asyncpg.create_pool(f"postgresql://bpmlink:x@127.0.0.1:{free_port()}/bpmlink", min_size=0)
    live = hook.gateway.db
    hook.gateway.db = dead
    try:
        response = await hook.post(f"/hooks/{token}", json={"n": 2})
    finally:
        hook.gateway.db = live
        await dead.close()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert len(await events_of(sm, bundle_id)) == 1
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    assert len(await queue.queued_jobs()) == 1


async def test_fifty_concurrent_resends_with_one_idempotency_key_store_one_event(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    responses = await asyncio.gather(
        *[
            hook.post(f"/hooks/{token}", json={"attempt": n}, headers={"Idempotency-Key": "payment-7"})
            for n in range(50)
        ]
    )
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["event_id"] for r in responses}) == 1
    [event] = await events_of(sm, bundle_id)
    assert str(event.id) == responses[0].json()["event_id"]
    assert len(await operations_of(sm, bundle_id)) == 1
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    assert [j.job_id for j in await queue.queued_jobs()] == [process_job_id(event.id)]


async def test_the_hand_off_stops_promptly_however_often_its_loop_is_mid_wait(
    settings: Settings, queue: ArqRedis
) -> None:
    """stop() ends the loop without cancelling it, wherever the loop is: 100 start/stop rounds at a
    1 ms interval. (The cancel-based stop it replaces hung now and then in a gateway's shutdown —
    tests/deploy/test_rotation.py timed out in 1 of 2 runs — when a cancel met the loop's own timeout.)"""
    pool = await asyncpg.create_pool(settings.database_url, min_size=0)
    try:
        for _ in range(100):
            handoff = Handoff(pool, queue, RedisBreaker(), interval=0.001)
            handoff.start()
            await asyncio.sleep(0.002)
            await asyncio.wait_for(handoff.stop(), timeout=5)
    finally:
        await pool.close()


async def test_the_hand_off_paces_its_redis_calls_so_events_share_them(
    settings: Settings, queue: ArqRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events added a millisecond apart share calls (at most one per `pace`), and every one is handed over."""
    import uuid

    from bpmlink_gateway import handoff as handoff_module

    calls: list[list[uuid.UUID]] = []

    async def enqueue_events(_: object, event_ids: list[uuid.UUID]) -> int:
        calls.append(list(event_ids))
        return len(event_ids)

    monkeypatch.setattr(handoff_module, "enqueue_events", enqueue_events)
    pool = await asyncpg.create_pool(settings.database_url, min_size=0)
    try:
        handoff = Handoff(pool, queue, RedisBreaker(), interval=60, pace=0.05)
        handoff.start()
        added = [uuid.uuid4() for _ in range(40)]
        started = time.monotonic()
        for event_id in added:
            handoff.add(event_id)
            await asyncio.sleep(0.001)
        elapsed = time.monotonic() - started
        await asyncio.wait_for(handoff.stop(), timeout=5)
    finally:
        await pool.close()
    assert sorted(e for call in calls for e in call) == sorted(added)
    # Unpaced, each add would wake the loop for a call of its own (about 40 calls).
    assert len(calls) <= elapsed / 0.05 + 2, (elapsed, [len(c) for c in calls])
