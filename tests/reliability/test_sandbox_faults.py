"""bpm'online misbehaves while a real worker process works through a batch (invariant 7, then 2 and 3).

- a full outage for 20 s (every request 503), then back;
- sessions that expire every fraction of a second (every few requests), answered 401 or 302 to the login page;
- a 429 storm with Retry-After (the next 40 requests).
After each: every event delivered exactly once — one terminal operation, one record per e-mail.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.events import enqueue_event
from tests.fixtures.pipeline import make_bundle, post_event

from .conftest import Service, all_final, assert_delivered_once, wait_until

FAULTS = {
    "outage_20s": {"outage_seconds": 20},
    "sessions_expire_401": {"session_timeout_seconds": 0.3, "expiry_mode": "401", "latency_ms": 50},
    "sessions_expire_302": {"session_timeout_seconds": 0.3, "expiry_mode": "302", "latency_ms": 50},
    # Deterministic, so CI never flakes: the next 40 requests (two tries' worth of the batch) are 429s.
    "429_storm": {"fail_next": 40, "fail_next_kind": "429", "throttle_retry_after": 2},
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_events_are_delivered_once_through_the_fault(
    fault: str,
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
    worker = services("bpmlink_worker", service_env, "BPMLINK_WORKER_PORT", BPMLINK_WORKER_CONCURRENCY="8")
    await worker.wait_ready()
    stamp = uuid.uuid4().hex[:6]
    accepted: dict[uuid.UUID, str] = {}
    for i in range(10):
        pairs = ((upsert, f"k{i % 3}.{stamp}@example.com"), (always, f"a{i}.{stamp}@example.com"))
        for bundle, email in pairs:
            eid = await post_event(sessionmaker, bundle["id"], {"first_name": "F", "last_name": str(i), "email": email})
            accepted[eid] = email
    sandbox.set_faults(**FAULTS[fault])
    for eid in accepted:
        await enqueue_event(arq_pool, eid)
    # Backoff is exponential from 1–2 s with jitter: a 20 s outage ends within the fifth or sixth try.
    await wait_until(lambda: all_final(sessionmaker, bundles, len(accepted)), 150, f"delivery through {fault}", 0.5)
    sandbox.clear_faults()
    ops = await assert_delivered_once(sessionmaker, sandbox, accepted, bundles)
    if fault in ("outage_20s", "429_storm"):
        assert any(op.attempts > 1 for op in ops), "the fault must have been met and retried"
    counts = sandbox.counts()
    assert counts["total"] > 0
