"""The gateway's queries: the token's bundle, sample capture, sample events.

Events to process are stored by `bpmlink.events` (`event_row` + `store_events_now`, through the
group committer), the only writer of event + operation rows; only a captured sample, which has no
operation and is never processed, is inserted here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.catalog.model import WebhookRules
from bpmlink.db.models import Bundle, Event, EventState
from bpmlink.events import EventRow, StoredEvent, store_events
from bpmlink.intake.rules import NotAWebhook, UnknownVerification, webhook_rules
from bpmlink.webhooks import hash_webhook_token, trigger_config

from .verification import header_name


@dataclass(frozen=True)
class HookTarget:
    """What the gateway needs of a bundle, immutable so it can be cached and shared."""

    id: uuid.UUID
    workspace_id: uuid.UUID
    status: str
    config_version: int
    source_app: str
    deleted: bool
    capture_sample: bool
    idempotency_field: str | None
    rules: WebhookRules | None  # None: a stored config that names no verification we know (refuse all)
    config: Mapping[str, Any]  # the trigger's config (header names, networks, a confirmation string)
    secret_header: str | None  # the header holding the secret, left out of the stored request
    secret_encrypted: bytes | None
    rate_per_minute: int | None  # the URL's own limit; None: the setting's (bpmlink.hook_limits)


_TARGET_COLUMNS = (
    Bundle.id,
    Bundle.workspace_id,
    Bundle.status,
    Bundle.config_version,
    Bundle.source_app,
    Bundle.deleted_at,
    Bundle.capture_sample,
    Bundle.config,
    Bundle.webhook_secret_encrypted,
    Bundle.webhook_rate_per_minute,
)


async def find_target(session: AsyncSession, token: str) -> HookTarget | None:
    """The token's bundle when its trigger is a webhook (of any app of the catalog), else None."""
    statement = select(*_TARGET_COLUMNS).where(Bundle.webhook_token_hash == hash_webhook_token(token))
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        return None
    config = trigger_config(row.config)
    source = row.config.get("source") if isinstance(row.config, dict) else None
    trigger_key = str(source.get("trigger") or "") if isinstance(source, dict) else ""
    rules: WebhookRules | None
    try:
        rules = webhook_rules(row.source_app, trigger_key, config)
    except NotAWebhook:
        return None
    except UnknownVerification:
        rules = None
    idempotency_field = config.get("idempotency_field")
    return HookTarget(
        id=row.id,
        workspace_id=row.workspace_id,
        status=row.status,
        config_version=row.config_version,
        source_app=row.source_app,
        deleted=row.deleted_at is not None,
        capture_sample=row.capture_sample,
        idempotency_field=idempotency_field if isinstance(idempotency_field, str) and idempotency_field else None,
        rules=rules,
        config=config,
        secret_header=header_name(rules.verification, config) if rules is not None else None,
        secret_encrypted=row.webhook_secret_encrypted,
        rate_per_minute=row.webhook_rate_per_minute,
    )


async def store_test(
    session: AsyncSession, bundle_id: uuid.UUID, row: EventRow, sample: dict[str, Any]
) -> StoredEvent | None:
    """A test request's event (status `test`), and the bundle's sample when it has none and is not waiting
    for one: one transaction (the caller commits). While the wizard waits for a sample it shows the test
    as received and goes on waiting for a real request (a test's `test=test` is no sample to map from)."""
    await session.execute(
        update(Bundle)
        # No sample: SQL NULL, or JSON null (what the ORM writes for None).
        .where(
            Bundle.id == bundle_id,
            Bundle.capture_sample.is_(False),
            func.coalesce(func.jsonb_typeof(Bundle.sample), "null") == "null",
        )
        .values(sample=sample, updated_at=func.now())
        .execution_options(synchronize_session=False)
    )
    [stored] = await store_events(session, [row])
    return stored


async def claim_sample(session: AsyncSession, bundle_id: uuid.UUID, item: dict[str, Any]) -> bool:
    """Keep the item as the bundle's sample if it still waits for one (one request wins)."""
    claimed = await session.scalar(
        update(Bundle)
        .where(Bundle.id == bundle_id, Bundle.capture_sample.is_(True), Bundle.deleted_at.is_(None))
        .values(capture_sample=False, sample=item, updated_at=func.now())
        .returning(Bundle.id)
        .execution_options(synchronize_session=False)
    )
    return claimed is not None


async def insert_sample_event(
    session: AsyncSession,
    target: HookTarget,
    *,
    item: dict[str, Any],
    request: dict[str, Any],
    body: bytes,
) -> uuid.UUID:
    # No idempotency key: a sample must never swallow a later real delivery of the same request.
    event_id = uuid.uuid4()
    await session.execute(
        insert(Event).values(
            id=event_id,
            workspace_id=target.workspace_id,
            bundle_id=target.id,
            origin="webhook",
            state=EventState.sample,
            request=request,
            body=body,
            item=item,
        )
    )
    return event_id
