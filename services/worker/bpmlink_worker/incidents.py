"""Jobs that tell people about incidents: deliver one, and the hourly failure-threshold check."""

from __future__ import annotations

import logging
from typing import Any

from arq import cron
from arq.connections import ArqRedis

from bpmlink.notifications import DELIVER_INCIDENT, deliver, failure_incidents, incident_job_id

log = logging.getLogger("bpmlink.worker.incidents")


async def enqueue_delivery(pool: ArqRedis, incident_id: int) -> None:
    await pool.enqueue_job(DELIVER_INCIDENT, incident_id, _job_id=incident_job_id(incident_id))


async def deliver_incident(ctx: dict[str, Any], incident_id: int) -> dict[str, str]:
    """arq job `incident.deliver`."""
    async with ctx["sessionmaker"]() as session:
        outcome = await deliver(session, ctx["settings"], incident_id)
        await session.commit()
    return outcome


async def check_failures(ctx: dict[str, Any]) -> int:
    """Cron: open one incident per bundle and hour whose failures pass the workspace threshold."""
    async with ctx["sessionmaker"]() as session:
        opened = await failure_incidents(session)
        await session.commit()
    for incident_id in opened:
        await enqueue_delivery(ctx["arq"], incident_id)
    return len(opened)


FAILURES_CRON = cron(check_failures, minute=set(range(0, 60, 5)), unique=True, run_at_startup=False)
