"""The history retention sweep: delete operations older than the retention, in small batches.

Operations are pruned through the index on created_at, a bounded batch per transaction, so
the sweep never holds long locks or bloats one transaction; their steps go with them (ON DELETE
CASCADE, indexed by operation_id) and their finished events by primary key in the same
transaction. A last pass removes old finished events that never had an operation.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .jobs import JobRun, cron_job

log = logging.getLogger("bpmlink.worker")

_DELETE_OPERATIONS = text(
    """
    DELETE FROM operations WHERE id IN (
        SELECT id FROM operations WHERE created_at < :cutoff ORDER BY created_at LIMIT :batch
    )
    RETURNING event_id
    """
)
_DELETE_THEIR_EVENTS = text(
    "DELETE FROM events WHERE id = ANY(CAST(:ids AS uuid[])) AND state IN ('done', 'discarded')"
)
# Events are not indexed by time (the webhook's insert path stays lean), so this pass scans the
# table; after the first pass has taken the events of deleted operations it finds few rows.
_DELETE_ORPHAN_EVENTS = text(
    """
    DELETE FROM events WHERE id IN (
        SELECT e.id FROM events e
        WHERE e.received_at < :cutoff AND e.state IN ('done', 'discarded')
          AND NOT EXISTS (SELECT 1 FROM operations o WHERE o.event_id = e.id)
        LIMIT :batch
    )
    """
)


async def prune_history(
    sessionmaker: async_sessionmaker[AsyncSession],
    retention_days: int,
    *,
    batch: int = 5000,
    max_batches: int = 200,
    now: datetime | None = None,
) -> int:
    """Delete operations (and their steps and finished events) older than the retention; returns rows."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    deleted = 0
    for _ in range(max_batches):
        async with sessionmaker.begin() as session:
            event_ids = list(await session.scalars(_DELETE_OPERATIONS, {"cutoff": cutoff, "batch": batch}))
            events = await session.execute(_DELETE_THEIR_EVENTS, {"ids": event_ids})
        deleted += len(event_ids) + int(getattr(events, "rowcount", 0) or 0)
        if len(event_ids) < batch:
            break
    for _ in range(max_batches):
        async with sessionmaker.begin() as session:
            orphans = await session.execute(_DELETE_ORPHAN_EVENTS, {"cutoff": cutoff, "batch": batch})
        count = int(getattr(orphans, "rowcount", 0) or 0)
        deleted += count
        if count < batch:
            break
    return deleted


@cron_job("cron:history_retention", transaction=False, minute={7, 37}, unique=True, run_at_startup=False)
async def history_retention(run: JobRun) -> int:
    """The cron job, a bounded batch per transaction."""
    deleted = await prune_history(run.context.sessionmaker, run.context.settings.history_retention_days)
    if deleted:
        log.info("retention sweep deleted %d rows", deleted)
    return deleted
