"""History queries: the only place they are written, each through the workspace."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Bundle, Event, EventState, Operation, OperationStatus, Step
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import in_workspace, scoped
from bpmlink.search_terms import normalise


async def bundle(session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID) -> Bundle | None:
    """A bundle of the workspace, deleted or not (its history stays readable)."""
    return await session.scalar(scoped(Bundle, workspace_id, Bundle.id == bundle_id))


async def list_page(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    bundle_id: uuid.UUID | None,
    *,
    statuses: list[OperationStatus],
    since: datetime | None,
    until: datetime | None,
    search: str | None,
    search_candidates: int,
    cursor: str | None,
    limit: int,
) -> tuple[list[Operation], str | None]:
    # One bundle's pages walk ix_operations_bundle(_status)_newest, the workspace's ix_operations_workspace_newest.
    query = scoped(Operation, workspace_id, *([Operation.bundle_id == bundle_id] if bundle_id else []))
    if search and normalise(search):
        # Exact value (an e-mail, a phone, a GUID) through the GIN index on search_terms.
        matches = Operation.search_terms.contains([normalise(search)])
        query = query.where(matches)
        # PostgreSQL cannot estimate how rare one array element is: given the newest-first order
        # it walks the whole bundle's history filtering each row (19 s at 5 million rows for an
        # e-mail that occurs once). Ask the GIN index alone first; when the value is rare, page
        # through those rows only, and when it is common the newest-first walk finds a page fast.
        candidates = list(
            await session.scalars(
                select(Operation.id).where(in_workspace(Operation, workspace_id), matches).limit(search_candidates + 1)
            )
        )
        if len(candidates) <= search_candidates:
            query = query.where(Operation.id.in_(candidates))
    if statuses:
        query = query.where(Operation.status.in_(statuses))
    if since:
        query = query.where(Operation.created_at >= since)
    if until:
        query = query.where(Operation.created_at < until)
    rows = list(await session.scalars(newest_first(query, Operation.created_at, Operation.id, cursor, limit)))
    return page(rows, limit)


async def bundle_names(
    session: AsyncSession, workspace_id: uuid.UUID, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """The names of the workspace's bundles among `ids` (deleted ones too: their history stays)."""
    rows = await session.execute(
        select(Bundle.id, Bundle.name).where(in_workspace(Bundle, workspace_id), Bundle.id.in_(set(ids)))
    )
    return {bundle_id: name for bundle_id, name in rows.all()}


async def operation(session: AsyncSession, workspace_id: uuid.UUID, operation_id: uuid.UUID) -> Operation | None:
    return await session.scalar(scoped(Operation, workspace_id, Operation.id == operation_id))


async def webhook_event(session: AsyncSession, workspace_id: uuid.UUID, event_id: uuid.UUID) -> Event | None:
    """The operation's event when a webhook brought it (its stored request and body)."""
    return await session.scalar(scoped(Event, workspace_id, Event.id == event_id, Event.origin == "webhook"))


async def steps(session: AsyncSession, operation_id: uuid.UUID) -> list[Step]:
    """The requests of an operation found through its workspace, in the order they were made."""
    return list(
        await session.scalars(
            select(Step).where(Step.operation_id == operation_id).order_by(Step.attempt, Step.position)
        )
    )


async def config_versions(session: AsyncSession, bundle_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(select(Bundle.id, Bundle.config_version).where(Bundle.id.in_(set(bundle_ids))))
    return {bundle_id: version for bundle_id, version in rows.all()}


async def mark_pending(session: AsyncSession, event_ids: list[uuid.UUID]) -> None:
    await session.execute(update(Event).where(Event.id.in_(event_ids)).values(state=EventState.pending))


async def failed_operations(
    session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID, limit: int
) -> list[Operation]:
    """The bundle's oldest failed operations first."""
    query = scoped(
        Operation, workspace_id, Operation.bundle_id == bundle_id, Operation.status == OperationStatus.failed
    )
    return list(await session.scalars(query.order_by(Operation.created_at).limit(limit)))


async def counts(
    session: AsyncSession, workspace_id: uuid.UUID, since: datetime, bucket: str, bundle_id: uuid.UUID | None
) -> list[tuple[datetime, uuid.UUID, str, int]]:
    """(time slot, bundle id, status, count) of the workspace's operations since `since`, oldest slot first."""
    slot = func.date_trunc(bucket, Operation.created_at).label("slot")
    query = (
        select(slot, Operation.bundle_id, Operation.status, func.count())
        .where(in_workspace(Operation, workspace_id), Operation.created_at >= since)
        .group_by(slot, Operation.bundle_id, Operation.status)
        .order_by(slot)
    )
    if bundle_id:
        query = query.where(Operation.bundle_id == bundle_id)
    return [(s, b, st, int(n)) for s, b, st, n in await session.execute(query)]
