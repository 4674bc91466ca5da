"""The sweeper: queue events that were committed but never reached Redis (invariant 1).

The gateway (and any other source) commits an event as `pending`, then enqueues it. When
Redis was down at that moment the event stays `pending`; every minute this job hands the
ones older than SWEEP_AFTER to Redis again, in bounded batches through the partial index
`ix_events_unqueued`, and marks them `queued`. Enqueueing uses the deterministic job id, so
an event whose job is in fact waiting or running (its `queued` mark was merely lost) is not
queued twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Event, EventState, Operation, OperationStatus
from bpmlink.events import enqueue_event, enqueue_events, process_job_id

from .jobs import JobRun, cron_job

log = logging.getLogger("bpmlink.worker")

# Older than the gateway's enqueue could still be in flight, young enough to be prompt.
SWEEP_AFTER = timedelta(seconds=30)


async def sweep_unqueued(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    *,
    older_than: timedelta = SWEEP_AFTER,
    batch: int = 500,
    max_batches: int = 20,
    now: datetime | None = None,
) -> int:
    """Enqueue `pending` events received before now - older_than; returns how many were queued."""
    cutoff = (now or datetime.now(UTC)) - older_than
    swept = 0
    for _ in range(max_batches):
        async with sessionmaker() as session:
            ids: list[uuid.UUID] = list(
                await session.scalars(
                    select(Event.id)
                    .where(Event.state == EventState.pending, Event.received_at < cutoff)
                    .order_by(Event.received_at)
                    .limit(batch)
                )
            )
        if not ids:
            break
        # No transaction is held open across the Redis calls.
        queued: list[uuid.UUID] = []
        try:
            await enqueue_events(queue, ids)  # one script call; a job already waiting is left alone
            queued = ids
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("sweeper stopped, Redis unreachable: %s", exc)
        if queued:
            async with sessionmaker.begin() as session:
                await session.execute(
                    update(Event)
                    .where(Event.id.in_(queued), Event.state == EventState.pending)
                    .values(state=EventState.queued, enqueued_at=func.now())
                    .execution_options(synchronize_session=False)
                )
            swept += len(queued)
        if len(queued) < batch:
            break
    if swept:
        log.info("sweeper queued %d events that had not reached Redis", swept)
    return swept


# Longer than the longest retry delay plus a job's run time: a job this old is not merely waiting.
LOST_AFTER = timedelta(minutes=15)


async def requeue_lost(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    *,
    older_than: timedelta = LOST_AFTER,
    batch: int = 500,
    now: datetime | None = None,
) -> int:
    """Queue again events whose operation has not moved for a long time and whose job is gone
    from Redis (Redis lost its data, or a job was dropped): nothing stays stuck. Re-running an
    event is safe (deterministic record ids), and the job id keeps a live job from doubling."""
    cutoff = (now or datetime.now(UTC)) - older_than
    async with sessionmaker() as session:
        ids: list[uuid.UUID] = list(
            await session.scalars(
                select(Operation.event_id)
                .where(
                    Operation.status.in_(
                        (OperationStatus.queued, OperationStatus.retrying, OperationStatus.processing)
                    ),
                    Operation.updated_at < cutoff,
                    Operation.next_attempt_at.is_(None),  # parked: its slow tries are parking.py's
                )
                .order_by(Operation.updated_at)
                .limit(batch)
            )
        )
    requeued = 0
    try:
        for event_id in ids:
            job_id = process_job_id(event_id)
            if await queue.exists(job_key_prefix + job_id, in_progress_key_prefix + job_id):
                continue  # waiting (a deferred retry) or running: not lost
            await queue.delete(result_key_prefix + job_id)  # a finished run's record would block the enqueue
            await enqueue_event(queue, event_id)
            requeued += 1
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("sweeper stopped, Redis unreachable: %s", exc)
    if requeued:
        log.warning("sweeper queued again %d events whose jobs were lost from Redis", requeued)
    return requeued


@cron_job("event.sweep", transaction=False, second={20}, unique=True, run_at_startup=True, timeout=55)
async def sweep_events(run: JobRun) -> int:
    """The cron job, each batch its own transaction."""
    context = run.context
    return await sweep_unqueued(context.sessionmaker, context.queue) + await requeue_lost(
        context.sessionmaker, context.queue
    )
