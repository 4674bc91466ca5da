"""Bundle queries: the only place they are written. A bundle is found through its workspace;
the rows that hang off it (poll state, events, operations) by the id of a bundle found so."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Bundle, Event, EventState, Operation, OperationStatus, PollState, User
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import scoped


async def get(session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID) -> Bundle | None:
    """A bundle of the workspace that is not deleted."""
    return await session.scalar(scoped(Bundle, workspace_id, Bundle.id == bundle_id, Bundle.deleted_at.is_(None)))


async def list_page(
    session: AsyncSession, workspace_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Bundle], str | None]:
    query = newest_first(
        scoped(Bundle, workspace_id, Bundle.deleted_at.is_(None)), Bundle.created_at, Bundle.id, cursor, limit
    )
    return page(list(await session.scalars(query)), limit)


async def last_runs(session: AsyncSession, bundle_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[datetime, str]]:
    """(created_at, status) of each bundle's newest operation."""
    rows = await session.execute(
        select(Operation.bundle_id, Operation.created_at, Operation.status)
        .where(Operation.bundle_id.in_(bundle_ids))
        .ext(distinct_on(Operation.bundle_id))
        .order_by(Operation.bundle_id, Operation.created_at.desc())
    )
    return {b: (at, s) for b, at, s in rows}


async def status_counts(
    session: AsyncSession, bundle_ids: Sequence[uuid.UUID], since: datetime
) -> dict[uuid.UUID, dict[str, int]]:
    """Operations per bundle and status created since `since`."""
    rows = await session.execute(
        select(Operation.bundle_id, Operation.status, func.count())
        .where(Operation.bundle_id.in_(bundle_ids), Operation.created_at >= since)
        .group_by(Operation.bundle_id, Operation.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for b, s, n in rows:
        counts.setdefault(b, {})[s] = int(n)
    return counts


async def held_counts(session: AsyncSession, bundle_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(Event.bundle_id, func.count())
        .where(Event.bundle_id.in_(bundle_ids), Event.state == EventState.held)
        .group_by(Event.bundle_id)
    )
    return {b: int(n) for b, n in rows}


async def poll_states(session: AsyncSession, bundle_ids: Sequence[uuid.UUID]) -> list[PollState]:
    return list(await session.scalars(select(PollState).where(PollState.bundle_id.in_(bundle_ids))))


async def poll_state(session: AsyncSession, bundle_id: uuid.UUID, *, for_update: bool = False) -> PollState | None:
    """The bundle's poll state as the database has it now (locked with `for_update`)."""
    if for_update:
        return await session.scalar(select(PollState).where(PollState.bundle_id == bundle_id).with_for_update())
    return await session.get(PollState, bundle_id, populate_existing=True)


async def backfill_outcome(session: AsyncSession, bundle_id: uuid.UUID, since: datetime) -> dict[str, int]:
    """Operations of the events the current backfill stored, per status."""
    rows = await session.execute(
        select(Operation.status, func.count())
        .join(Event, Event.id == Operation.event_id)
        .where(Event.bundle_id == bundle_id, Event.origin == "backfill", Event.received_at >= since)
        .group_by(Operation.status)
    )
    return {status: int(n) for status, n in rows}


async def user_timezone(session: AsyncSession, user_id: uuid.UUID) -> str:
    timezone: str = (await session.execute(select(User.timezone).where(User.id == user_id))).scalar_one()
    return timezone


async def set_poll_interval(session: AsyncSession, bundle_id: uuid.UUID, interval_minutes: int) -> None:
    await session.execute(
        update(PollState).where(PollState.bundle_id == bundle_id).values(interval_minutes=interval_minutes)
    )


async def pause_polling(session: AsyncSession, bundle_id: uuid.UUID) -> None:
    """No poll is due until the bundle starts again."""
    await session.execute(update(PollState).where(PollState.bundle_id == bundle_id).values(next_due_at=None))


async def poll_now(session: AsyncSession, bundle_id: uuid.UUID) -> None:
    """A poll is due at once, with the failures of the last run forgotten."""
    await session.execute(
        update(PollState)
        .where(PollState.bundle_id == bundle_id)
        .values(next_due_at=func.now(), last_error=None, failures=0)
    )


async def held_event_ids(session: AsyncSession, bundle_id: uuid.UUID) -> list[uuid.UUID]:
    return list(
        await session.scalars(select(Event.id).where(Event.bundle_id == bundle_id, Event.state == EventState.held))
    )


async def release_held(session: AsyncSession, event_ids: list[uuid.UUID], config_version: int) -> None:
    """Held events become pending; their operations queued with the bundle's current configuration."""
    await session.execute(update(Event).where(Event.id.in_(event_ids)).values(state=EventState.pending))
    await session.execute(
        update(Operation)
        .where(Operation.event_id.in_(event_ids))
        .values(status=OperationStatus.queued, config_version=config_version)
    )


async def discard_held(session: AsyncSession, event_ids: list[uuid.UUID], reason: str) -> None:
    """Held events are discarded; their operations end as `filtered` with the reason."""
    await session.execute(update(Event).where(Event.id.in_(event_ids)).values(state=EventState.discarded))
    await session.execute(
        update(Operation)
        .where(Operation.event_id.in_(event_ids))
        .values(status=OperationStatus.filtered, error=reason, finished_at=func.now())
    )
