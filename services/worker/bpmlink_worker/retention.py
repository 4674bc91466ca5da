"""The history retention sweep: delete operations older than the retention, in small batches.

Operations are pruned through the index on created_at, a bounded batch per statement, so
the sweep never holds long locks or bloats one transaction; steps go with them (ON DELETE
CASCADE, indexed by operation_id).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

_DELETE_BATCH = text(
    """
    DELETE FROM operations WHERE id IN (
        SELECT id FROM operations WHERE created_at < :cutoff ORDER BY created_at LIMIT :batch
    )
    """
)
_DELETE_EVENTS = text(
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
    for statement in (_DELETE_BATCH, _DELETE_EVENTS):
        for _ in range(max_batches):
            async with sessionmaker() as session:
                result = await session.execute(statement, {"cutoff": cutoff, "batch": batch})
                await session.commit()
            count = int(getattr(result, "rowcount", 0) or 0)
            deleted += count
            if count < batch:
                break
    return deleted
