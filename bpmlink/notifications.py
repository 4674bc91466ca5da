"""Incidents and their delivery: one message per incident, by e-mail and/or a JSON POST.

An incident is opened with a unique key (e.g. the bundle and the moment it went to `error`,
or the bundle and the hour its failures passed the threshold); opening it twice is a no-op,
so however many events fail the same way, people get one message.

The incident's words are a code with params (`incident_*` in `locales/<lang>/mail.json`) beside its
English `message`: each e-mail recipient reads them in their language, a webhook gets the code.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, EmailStr, Field, HttpUrl
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Bundle, Incident, Membership, Operation, OperationStatus, Role, User, Workspace
from bpmlink.kit import mail
from bpmlink.kit.messages import DEFAULT_LANGUAGE, Message, message, render
from bpmlink.kit.net import GuardedTransport
from bpmlink.kit.settings import Settings

log = logging.getLogger("bpmlink.notifications")

DEFAULT_FAILURES_PER_HOUR = 20


class NotificationSettings(BaseModel):
    """A workspace's `notifications` JSON."""

    emails: list[EmailStr] = Field(default_factory=list, max_length=20)
    webhook_url: HttpUrl | None = None
    failures_per_hour: int = Field(DEFAULT_FAILURES_PER_HOUR, ge=1, le=100_000)


async def open_incident(session: AsyncSession, bundle: Bundle, *, kind: str, key: str, words: Message) -> int | None:
    """Insert the incident; its id if it is new, None if this incident was already opened."""
    statement = (
        insert(Incident)
        .values(
            workspace_id=bundle.workspace_id,
            bundle_id=bundle.id,
            key=key,
            kind=kind,
            message=words.text,
            message_code=words.code,
            message_params=words.params,
        )
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
            words=message(
                "incident_failures",
                f"{count} operations of the bundle «{bundle.name}» failed in the last hour",
                count=count,
                bundle=bundle.name,
            ),
        )
        if incident_id is not None:
            opened.append(incident_id)
    return opened


def _words(incident: Incident) -> Message:
    # An incident opened before codes has its English text only: it is its own code's fallback.
    return Message(code=incident.message_code or "", params=incident.message_params or {}, text=incident.message)


def _payload(incident: Incident, bundle: Bundle) -> dict[str, Any]:
    words = _words(incident)
    text = f"bpmlink: {incident.message}"
    return {
        "text": text,  # what Slack/Mattermost/Teams-style chat webhooks display
        "kind": incident.kind,
        "bundle": {"id": str(bundle.id), "name": bundle.name, "status": bundle.status},
        "message": incident.message,
        "words": {"code": words.code, "params": words.params, "text": words.text},  # to render in a reader's language
        "at": incident.created_at.isoformat() if incident.created_at else None,
    }


async def _post(settings: Settings, url: str, payload: dict[str, Any]) -> None:
    # User-configured URL: the same outbound guard as every other request to the outside.
    async with httpx.AsyncClient(transport=GuardedTransport(settings), timeout=20, trust_env=False) as client:
        response = await client.post(url, json=payload)
        response.raise_for_status()


async def recipient_languages(session: AsyncSession, workspace_id: uuid.UUID, addresses: list[str]) -> dict[str, str]:
    """Each address's language: a member's profile language; an address of no member (a shared mailbox)
    reads the owner's, who typed it into the settings and so speaks for it (English with no owner)."""
    owner = await session.scalar(
        select(User.language)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner)
        .order_by(Membership.created_at)
        .limit(1)
    )
    members: dict[str, str] = dict(
        (
            await session.execute(
                select(func.lower(User.email), User.language)
                .join(Membership, Membership.user_id == User.id)
                .where(
                    Membership.workspace_id == workspace_id, func.lower(User.email).in_([a.lower() for a in addresses])
                )
            )
        ).all()
    )
    return {a: members.get(a.lower(), owner or DEFAULT_LANGUAGE) for a in addresses}


async def _email(session: AsyncSession, settings: Settings, incident: Incident, bundle: Bundle, to: list[str]) -> None:
    """One e-mail per language among the recipients."""
    by_language: dict[str, list[str]] = {}
    for address, language in (await recipient_languages(session, incident.workspace_id, to)).items():
        by_language.setdefault(language, []).append(address)
    words = _words(incident)
    for language, addresses in by_language.items():
        params = {"bundle": bundle.name, "bundle_id": str(bundle.id), "status": bundle.status, "message": words}
        subject = render("mail_incident_subject", params, language)
        await mail.send_mail(settings, addresses, subject, render("mail_incident_body", params, language))


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
                await _email(session, settings, incident, bundle, [str(e) for e in config.emails])
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
