"""SIGKILL a worker process mid-batch (slow sandbox), start a new one: invariants 1, 2 and 3 hold.

Twelve events of an update_if_found bundle (four e-mails, three events each) and twelve of an
always_create bundle are queued; the worker is killed while it holds several jobs. With the default job
timeout (300 s), arq alone would keep the dead worker's jobs for 310 s: they are taken over once their
lease ends (BPMLINK_JOB_LEASE_SECONDS, issue #19 §6), and each event still makes one record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from arq.constants import in_progress_key_prefix
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import OperationStatus
from bpmlink.events import enqueue_event, process_job_id
from tests.fixtures.pipeline import make_bundle, post_event

from .conftest import Service, all_final, assert_delivered_once, operations, wait_until

LEASE_SECONDS = 3
JOB_TIMEOUT_SECONDS = 300  # the default


async def test_sigkill_mid_batch_then_restart_delivers_each_event_once(
    client: httpx.AsyncClient,
    owner: Any,
    connection_id: str,
    sandbox: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: Any,
    service_env: dict[str, str],
    services: Callable[..., Service],
) -> None:
    upsert = await make_bundle(client, connection_id, name="Upsert")
    always = await make_bundle(client, connection_id, name="Always", dedup={"mode": "always_create"})
    bundles = [upsert["id"], always["id"]]
    stamp = uuid.uuid4().hex[:6]
    accepted: dict[uuid.UUID, str] = {}
    for i in range(12):
        email = f"k{i % 4}.{stamp}@example.com"
        eid = await post_event(sessionmaker, upsert["id"], {"first_name": "Kim", "last_name": str(i), "email": email})
        accepted[eid] = email
        email = f"a{i}.{stamp}@example.com"
        eid = await post_event(sessionmaker, always["id"], {"first_name": "Al", "last_name": str(i), "email": email})
        accepted[eid] = email
    sandbox.set_faults(latency_ms=400)  # every bpm'online call takes 0.4 s: jobs are in flight when killed

    env = {
        **service_env,
        "BPMLINK_JOB_TIMEOUT_SECONDS": str(JOB_TIMEOUT_SECONDS),
        "BPMLINK_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "BPMLINK_WORKER_CONCURRENCY": "8",
    }
    worker = services("bpmlink_worker", env, "BPMLINK_WORKER_PORT")
    await worker.wait_ready()
    for eid in accepted:
        await enqueue_event(arq_pool, eid)

    async def some_in_flight() -> bool:
        ops = await operations(sessionmaker, bundles)
        return sum(op.status == OperationStatus.processing for op in ops) >= 3

    await wait_until(some_in_flight, 60, "jobs in flight")
    worker.sigkill()
    in_flight = [op for op in await operations(sessionmaker, bundles) if op.status == OperationStatus.processing]
    assert in_flight, "the kill must land while jobs are running"
    # What the dead worker left: marks that end with its lease (arq's own would last 310 s).
    ttls = [await arq_pool.pttl(in_progress_key_prefix + process_job_id(op.event_id)) for op in in_flight]
    assert all(ttl <= LEASE_SECONDS * 1000 for ttl in ttls), ttls

    replacement = services("bpmlink_worker", env, "BPMLINK_WORKER_PORT")
    await replacement.wait_ready()
    await wait_until(lambda: all_final(sessionmaker, bundles, len(accepted)), 120, "every operation terminal")
    sandbox.clear_faults()

    ops = await assert_delivered_once(sessionmaker, sandbox, accepted, bundles)
    # The jobs cut by the kill were run again (a second attempt), and still made no second record.
    rerun = {op.id for op in ops if op.attempts >= 2}
    assert {op.id for op in in_flight} <= rerun
    created = [op for op in ops if op.bundle_id == uuid.UUID(upsert["id"]) and op.status == OperationStatus.created]
    assert len(created) == 4, "one create per distinct match key"
