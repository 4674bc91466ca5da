"""Incidents and their delivery: one message per incident, by e-mail and/or a JSON POST.

An incident is opened with a unique key (e.g. the bundle and the moment it went to `error`,
or the bundle and the hour its failures passed the threshold); opening it twice is a no-op,
so however many events fail the same way, people get one message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, EmailStr, Field, HttpUrl
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Bundle, Incident, Operation, OperationStatus, Workspace
from bpmlink.kit import mail
from bpmlink.kit.net import GuardedTransport
from bpmlink.kit.settings import Settings

log = logging.getLogger("bpmlink.notifications")

DEFAULT_FAILURES_PER_HOUR = 20


class NotificationSettings(BaseModel):
    """A workspace's `notifications` JSON."""

    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
    webhook_url: HttpUrl | None = None
    failures_per_hour: int = Field(DEFAULT_FAILURES_PER_HOUR, ge=1, le=100_000)


async def open_incident(session: AsyncSession, bundle: Bundle, *, kind: str, key: str, message: str) -> int | None:
    """Insert the incident; its id if it is new, None if this incident was already opened."""
    statement = (
        insert(Incident)
        .values(workspace_id=bundle.workspace_id, bundle_id=bundle.id, key=key, kind=kind, message=message)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Incident.id)
    )
    return await session.scalar(statement)


async def failure_incidents(session: AsyncSession, now: datetime | None = None) -> list[int]:
    """Open an incident for each bundle whose failures in the last hour passed its workspace's threshold."""
    now = now or datetime.now(UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    since = now.timestamp() - 3600
    threshold = func.coalesce(Workspace.notifications["failures_per_hour"].as_integer(), DEFAULT_FAILURES_PER_HOUR)
    rows = await session.execute(
        select(Operation.bundle_id, func.count())
        .join(Workspace, Workspace.id == Operation.workspace_id)
        .where(Operation.status == OperationStatus.failed, Operation.created_at >= func.to_timestamp(since))
        .group_by(Operation.bundle_id, threshold)
        .having(func.count() >= threshold)
    )
    opened: list[int] = []
    for bundle_id, count in rows.all():
        bundle = await session.get(Bundle, bundle_id)
        if bundle is None:
            continue
        incident_id = await open_incident(
            session,
            bundle,
            kind="failures",
            key=f"failures:{bundle_id}:{hour.isoformat()}",
            message=f"{count} operations of the bundle «{bundle.name}» failed in the last hour",
        )
        if incident_id is not None:
            opened.append(incident_id)
    return opened


def _payload(incident: Incident, bundle: Bundle) -> dict[str, Any]:
    text = f"bpmlink: {incident.message}"
    return {
        "text": text,  # what Slack/Mattermost/Teams-style chat webhooks display
        "kind": incident.kind,
        "bundle": {"id": str(bundle.id), "name": bundle.name, "status": bundle.status},
        "message": incident.message,
        "at": incident.created_at.isoformat() if incident.created_at else None,
    }


async def _post(settings: Settings, url: str, payload: dict[str, Any]) -> None:
    # User-configured URL: the same outbound guard as every other request to the outside.
    async with httpx.AsyncClient(transport=GuardedTransport(settings), timeout=20, trust_env=False) as client:
        response = await client.post(url, json=payload)
        response.raise_for_status()


async def deliver(session: AsyncSession, settings: Settings, incident_id: int) -> dict[str, str]:
    """Send the incident to its workspace's channels once; returns the outcome per channel."""
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None or incident.sent_at is not None:
        return {}
    workspace = await session.get(Workspace, incident.workspace_id)
    bundle = await session.get(Bundle, incident.bundle_id)
    assert workspace is not None and bundle is not None
    config = NotificationSettings.model_validate(workspace.notifications or {})
    outcome: dict[str, str] = {}
    if config.emails:
        if not mail.configured(settings):
            outcome["email"] = "not sent: BPMLINK_SMTP_HOST is not set"
        else:
            try:
                body = f"{incident.message}\n\nBundle: {bundle.name} ({bundle.id})\nStatus: {bundle.status}\n"
                await mail.send_mail(settings, [str(e) for e in config.emails], f"bpmlink: {bundle.name}", body)
                outcome["email"] = "sent"
            except mail.MAIL_ERRORS as exc:
                outcome["email"] = f"failed: {exc}"
    if config.webhook_url:
        try:
            await _post(settings, str(config.webhook_url), _payload(incident, bundle))
            outcome["webhook"] = "sent"
        except httpx.HTTPError as exc:
            outcome["webhook"] = f"failed: {exc}"
    incident.delivery = outcome
    incident.sent_at = datetime.now(UTC)
    log.info("incident %s delivered: %s", incident.key, outcome)
    return outcome


def incident_job_id(incident_id: int) -> str:
    return f"incident:{incident_id}"


DELIVER_INCIDENT = "incident.deliver"
