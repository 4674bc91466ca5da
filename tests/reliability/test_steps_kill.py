"""SIGKILL a worker between the steps of a contact → lead → task bundle, start a new one: each event
still has exactly one Contact (per e-mail), one Lead linked to it and one Activity linked to both."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.events import enqueue_event
from tests.fixtures.pipeline import post_event, sandbox_rows
from tests.steps.flows import make_lead_flow

from .conftest import Service, all_final, assert_delivered_once, wait_until

LEASE_SECONDS = 3


async def test_sigkill_between_steps_then_restart_leaves_one_of_each(
    client: httpx.AsyncClient,
    owner: Any,
    connection_id: str,
    sandbox: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    arq_pool: Any,
    service_env: dict[str, str],
    services: Callable[..., Service],
) -> None:
    bundle = await make_lead_flow(client, connection_id)
    stamp = uuid.uuid4().hex[:6]
    accepted: dict[uuid.UUID, str] = {}
    for i in range(8):
        email = f"s{i % 4}.{stamp}@example.com"  # two events per e-mail: the second updates the contact
        item = {"first_name": "Sam", "last_name": str(i), "email": email}
        accepted[await post_event(sessionmaker, bundle["id"], item)] = email
    sandbox.set_faults(latency_ms=400)  # each bpm'online call takes 0.4 s: the kill lands mid-run

    env = {**service_env, "BPMLINK_JOB_LEASE_SECONDS": str(LEASE_SECONDS), "BPMLINK_WORKER_CONCURRENCY": "8"}
    worker = services("bpmlink_worker", env, "BPMLINK_WORKER_PORT")
    await worker.wait_ready()
    for event_id in accepted:
        await enqueue_event(arq_pool, event_id)

    async def between_steps() -> bool:  # contacts made, their tasks not all yet
        contacts = sandbox_rows(sandbox, "Contact", f"endswith(Email, '{stamp}@example.com')")
        return bool(contacts) and len(sandbox_rows(sandbox, "Activity", "startswith(Title, 'Перезвонить: Sam')")) < 8

    await wait_until(between_steps, 60, "contacts created, tasks not yet")
    worker.sigkill()
    assert len(sandbox_rows(sandbox, "Activity", "startswith(Title, 'Перезвонить: Sam')")) < 8

    replacement = services("bpmlink_worker", env, "BPMLINK_WORKER_PORT")
    await replacement.wait_ready()
    await wait_until(lambda: all_final(sessionmaker, [bundle["id"]], len(accepted)), 120, "every operation terminal")
    sandbox.clear_faults()

    await assert_delivered_once(sessionmaker, sandbox, accepted, [bundle["id"]])  # one Contact per e-mail
    for email in set(accepted.values()):
        [contact] = sandbox_rows(sandbox, "Contact", f"Email eq '{email}'")
        leads = sandbox_rows(sandbox, "Lead", f"QualifiedContact/Id eq {contact['Id']}")
        tasks = sandbox_rows(sandbox, "Activity", f"Contact/Id eq {contact['Id']}")
        assert len(leads) == 2, f"{len(leads)} leads for {email}"  # one per event
        assert len(tasks) == 2 and {t["LeadId"] for t in tasks} == {lead["Id"] for lead in leads}
