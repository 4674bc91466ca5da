"""Storing inbound events and handing them to the worker pool — one place for both.

Every source (webhook, poll, backfill, import) stores an event together with its
operation (status `queued`, or `held` when the bundle is stopped) in one transaction,
commits, and only then enqueues `event.process` with a deterministic job id, so a
resend of the same id while it waits or runs is a no-op (arq's `_job_id`). The
sweeper re-enqueues events whose enqueue never happened (Redis down at the time).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Bundle, BundleStatus, Event, EventState, Operation, OperationStatus
from bpmlink.search_terms import search_terms

PROCESS_EVENT = "event.process"


def process_job_id(event_id: uuid.UUID, suffix: str = "") -> str:
    """`event:<id>`; a replay adds a suffix, since arq keeps a finished job's id for a while."""
    return f"event:{event_id}{':' + suffix if suffix else ''}"


@dataclass(frozen=True)
class StoredEvent:
    id: uuid.UUID
    created: bool  # False when the idempotency key / source item key was seen before
    held: bool


async def store_event(
    session: AsyncSession,
    bundle: Bundle,
    *,
    origin: str,
    item: dict[str, Any],
    request: dict[str, Any] | None = None,
    body: bytes | None = None,
    idempotency_key: str | None = None,
    source_item_key: str | None = None,
) -> StoredEvent:
    """Insert the event and its operation (flush only; the caller commits, then enqueues)."""
    held = bundle.status not in (BundleStatus.running, BundleStatus.waiting)
    event_id = uuid.uuid4()
    statement = (
        insert(Event)
        .values(
            id=event_id,
            workspace_id=bundle.workspace_id,
            bundle_id=bundle.id,
            origin=origin,
            state=EventState.held if held else EventState.pending,
            idempotency_key=idempotency_key,
            source_item_key=source_item_key,
            request=request,
            body=body,
            item=item,
        )
        .on_conflict_do_nothing()
        .returning(Event.id)
    )
    inserted = await session.scalar(statement)
    if inserted is None:
        existing = await session.scalar(
            select(Event.id).where(
                Event.bundle_id == bundle.id,
                (Event.idempotency_key == idempotency_key)
                if idempotency_key is not None
                else (Event.source_item_key == source_item_key),
            )
        )
        assert existing is not None, "conflict without a matching event"
        return StoredEvent(existing, created=False, held=held)
    session.add(
        Operation(
            workspace_id=bundle.workspace_id,
            bundle_id=bundle.id,
            event_id=event_id,
            config_version=bundle.config_version,
            status=OperationStatus.held if held else OperationStatus.queued,
            source_data=item,
            search_terms=search_terms(item),
        )
    )
    await session.flush()
    return StoredEvent(event_id, created=True, held=held)


async def enqueue_event(
    pool: ArqRedis, event_id: uuid.UUID, *, job_suffix: str = "", defer_seconds: float | None = None
) -> None:
    """Queue processing; the deterministic job id makes a second enqueue of a waiting job a no-op."""
    await pool.enqueue_job(
        PROCESS_EVENT, str(event_id), _job_id=process_job_id(event_id, job_suffix), _defer_by=defer_seconds
    )
