"""Jobs that tell people about incidents: deliver one, and the failure-threshold check every 5 minutes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bpmlink.notifications import DELIVER_INCIDENT, deliver, failure_incidents, incident_job_id

from .jobs import JobRun, cron_job, job

if TYPE_CHECKING:
    from .context import Transaction


def request_delivery(tx: Transaction, incident_id: int) -> None:
    """Deliver the incident once `tx` has committed (one job per incident, whoever asks twice)."""
    tx.enqueue(DELIVER_INCIDENT, incident_id, job_id=incident_job_id(incident_id))


@job(DELIVER_INCIDENT, max_tries=5)
async def deliver_incident(run: JobRun, incident_id: int) -> dict[str, str]:
    """arq job `incident.deliver`."""
    return await deliver(run.tx.session, run.context.settings, incident_id)


@cron_job("cron:check_failures", minute=set(range(0, 60, 5)), unique=True, run_at_startup=False)
async def check_failures(run: JobRun) -> int:
    """Open one incident per bundle and hour whose failures pass the workspace threshold."""
    opened = await failure_incidents(run.tx.session)
    for incident_id in opened:
        request_delivery(run.tx, incident_id)
    return len(opened)
