"""bpm'online down for longer than the fast tries, then up: the operations wait parked, and when the
connection answers the probe retries them at once, each event delivered once and in order per match key:
each key's record ends with its last event's values (issue #19 §10; retried as separate jobs, a CI run
once ended with the sixth event's values instead of the tenth's).
A worker pool runs in-process with its parking crons; the fast tries' backoff and the
workspace's slow schedule are shortened (the slow one so long that only the probe can bring them back)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import httpx
import pytest
from bpmlink_worker import failures, process
from bpmlink_worker.jobs import CRON_JOBS
from bpmlink_worker.main import build_worker
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import OperationStatus, Workspace
from bpmlink.events import enqueue_event
from bpmlink.kit.settings import Settings
from tests.fixtures.pipeline import make_bundle, post_event, sandbox_rows

from .conftest import all_final, assert_delivered_once, operations, wait_until

PARKING_CRONS = ("operation.retry_parked", "connection.probe")


KEYS = 4
EVENTS_PER_KEY = 5


async def test_an_outage_longer_than_the_fast_tries_ends_with_every_event_delivered_once_in_order(
    client: httpx.AsyncClient,
    owner: Any,
    connection_id: str,
    sandbox: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: Any,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(failures, "BACKOFF_BASE", 0.01)  # the fast tries in well under a second
    monkeypatch.setattr(failures, "BACKOFF_CAP", 0.05)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Workspace)
            .where(Workspace.id == owner.workspace_id)
            .values(retry_schedule={"delays_seconds": [3600], "give_up_after_seconds": 7200})
        )
    bundle = await make_bundle(client, connection_id)
    stamp = uuid.uuid4().hex[:6]
    accepted: dict[uuid.UUID, str] = {}
    last_of: dict[str, str] = {}
    for i in range(KEYS * EVENTS_PER_KEY):  # the keys' events interleaved, as they would arrive
        email = f"o{i % KEYS}.{stamp}@example.com"
        event_id = await post_event(
            sessionmaker, bundle["id"], {"first_name": "Olga", "last_name": f"N{i}", "email": email}
        )
        accepted[event_id] = email
        last_of[email] = f"Olga N{i}"
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")

    crons = [c for c in CRON_JOBS if c.name in PARKING_CRONS]
    worker = build_worker(settings, poll_delay=0.05, cron_jobs=crons)
    running = asyncio.create_task(worker.main())
    try:
        for event_id in accepted:
            await enqueue_event(arq_pool, event_id)

        async def all_parked() -> bool:
            ops = await operations(sessionmaker, [bundle["id"]])
            return len(ops) == len(accepted) and all(op.next_attempt_at is not None for op in ops)

        await wait_until(all_parked, 60, "every operation parked after its fast tries")
        ops = await operations(sessionmaker, [bundle["id"]])
        assert all(op.status == OperationStatus.retrying and op.attempts >= process.MAX_TRIES for op in ops)

        sandbox.clear_faults()  # up again: the probe (once a minute) finds it and queues them all
        await wait_until(lambda: all_final(sessionmaker, [bundle["id"]], len(accepted)), 120, "delivered")
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        with contextlib.suppress(asyncio.CancelledError):  # jobs cut by the cancel
            await worker.close()

    ops = await assert_delivered_once(sessionmaker, sandbox, accepted, [bundle["id"]])
    assert all(op.next_attempt_at is None for op in ops)
    names = {}
    for email in last_of:  # one record per key
        [row] = sandbox_rows(sandbox, "Contact", f"Email eq '{email}'")
        names[email] = row["Name"]
    assert names == last_of  # each holding its last event's values: the key's events were pushed in order
