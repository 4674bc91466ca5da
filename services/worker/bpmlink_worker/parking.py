"""Parking: an operation that outlasted its fast tries waits for a slow schedule, or for its connection.

After `event.process`'s fast tries (MAX_TRIES runs over a few minutes) a transient error parks the
operation instead of failing it (`bpmlink/retry_schedule.py` draws the schedule):

- `park_and_resolve`, in the batch's write transaction: a run marked `parked` gets `parked_at` (its first
  time) and `next_attempt_at` from its workspace's schedule, or, past the schedule's end, `failed` with its
  event done; a slow try that ended otherwise leaves parking (`next_attempt_at` cleared). Per bundle, under
  a transaction lock, one incident when its first operation parks and one when its last leaves.
- `operation.retry_parked` (cron, every 15 s): enqueues the parked operations that are due, oldest first,
  as slow tries (the run counts as past its fast tries, so a failure parks it again rather than starting
  fast tries over): one job per bundle, which runs one match key's operations after the other, in the
  order of their events (`parked_retries.py`). The schedule lives in PostgreSQL, so a Redis that lost its
  jobs loses no slow try; the job id (per bundle) keeps a bundle's tries from being queued twice.
- `connection.probe` (cron, every minute): tests each bpm'online connection that has operations parked
  and not yet due; when it answers, they are all made due and queued at once, the same way. They then run
  as any event does, under the same rate limits and match-key locks.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.bpmonline.errors import BpmError
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.db.models import Bundle, Event, EventState, Operation, OperationStatus, Workspace
from bpmlink.kit.messages import message
from bpmlink.kit.queue import Job, enqueue_jobs
from bpmlink.notifications import open_incident
from bpmlink.retry_schedule import RETRY_CONNECTION, RETRY_IN_ORDER, RetrySchedule, in_order_job_id

from .incidents import request_delivery
from .jobs import JobRun, cron_job, job

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from .context import Transaction, WorkerContext

log = logging.getLogger("bpmlink.worker.parking")

DUE_BATCH = 500
_PARKED = (Operation.status == OperationStatus.retrying) & Operation.next_attempt_at.is_not(None)


async def _lock_bundle(session: AsyncSession, bundle_id: uuid.UUID) -> None:
    """Serialise parking decisions per bundle, so «first parked» and «last left» are each seen once."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('parking:' || :b))"), {"b": str(bundle_id)})


async def _parked_in(session: AsyncSession, bundle_id: uuid.UUID, besides: Sequence[uuid.UUID]) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Operation)
            .where(Operation.bundle_id == bundle_id, _PARKED, Operation.id.not_in(list(besides)))
        )
    ) or 0


async def _incident(tx: Transaction, bundle_id: uuid.UUID, kind: str, key: str, text: str) -> None:
    """`text`: the English words with `{name}`; the code is `incident_<kind>` (mail.json)."""
    bundle = await tx.session.get(Bundle, bundle_id)
    if bundle is None:
        return
    words = message(f"incident_{kind}", text.format(name=bundle.name), bundle=bundle.name)
    incident_id = await open_incident(tx.session, bundle, kind=kind, key=key, words=words)
    if incident_id is not None:
        request_delivery(tx, incident_id)


async def park_and_resolve(
    tx: Transaction, parked: Sequence[uuid.UUID], ended: Sequence[uuid.UUID], now: datetime | None = None
) -> set[uuid.UUID]:
    """`parked`: operations whose last fast (or slow) try met a transient error; `ended`: operations whose
    slow try ended otherwise. Both already written by the batch in this transaction. Returns the parked
    ones that failed instead, their schedule having ended."""
    session, now = tx.session, now or datetime.now(UTC)
    rows = (
        await session.execute(
            select(Operation.id, Operation.bundle_id, Operation.event_id, Operation.parked_at, Workspace.retry_schedule)
            .join(Workspace, Workspace.id == Operation.workspace_id)
            .where(Operation.id.in_(parked))
            .order_by(Operation.bundle_id)
        )
    ).all()
    newly: dict[uuid.UUID, list[uuid.UUID]] = {}
    gave_up: set[uuid.UUID] = set()
    for op_id, bundle_id, event_id, parked_at, schedule in rows:
        next_at = RetrySchedule.of(schedule).next_attempt(parked_at or now, now)
        if next_at is None:
            await session.execute(
                update(Operation)
                .where(Operation.id == op_id)
                # next_attempt_at is cleared below, with the others that leave parking
                .values(
                    status=OperationStatus.failed,
                    error=func.replace(
                        Operation.error, "(retrying on a slow schedule)", "(gave up: the retry schedule ended)"
                    ),
                    finished_at=now,
                )
            )
            await session.execute(update(Event).where(Event.id == event_id).values(state=EventState.done))
            ended = [*ended, op_id]
            gave_up.add(op_id)
        else:
            await session.execute(
                update(Operation)
                .where(Operation.id == op_id)
                .values(parked_at=parked_at or now, next_attempt_at=next_at)
            )
            if parked_at is None:
                newly.setdefault(bundle_id, []).append(op_id)
    for bundle_id, ops in newly.items():
        await _lock_bundle(session, bundle_id)
        if not await _parked_in(session, bundle_id, ops):
            await _incident(
                tx,
                bundle_id,
                "retrying",
                f"retrying:{bundle_id}:{ops[0]}",
                "operations of the bundle «{name}» could not reach bpm'online and are retried on a slow schedule",
            )
    left = (
        await session.execute(
            update(Operation)
            .where(Operation.id.in_(list(ended)), Operation.next_attempt_at.is_not(None))
            .values(next_attempt_at=None)
            .returning(Operation.bundle_id, Operation.id)
        )
    ).all()
    by_bundle: dict[uuid.UUID, uuid.UUID] = {bundle_id: op_id for bundle_id, op_id in left}
    for bundle_id, op_id in by_bundle.items():
        await _lock_bundle(session, bundle_id)
        if not await _parked_in(session, bundle_id, []):
            await _incident(
                tx,
                bundle_id,
                "retrying_resolved",
                f"retrying_resolved:{bundle_id}:{op_id}",
                "no operation of the bundle «{name}» is waiting for bpm'online any more",
            )
    return gave_up


async def enqueue_due(session: AsyncSession, queue: ArqRedis, *, connection_id: uuid.UUID | None = None) -> int:
    """Queue the slow tries of the parked operations that are due (of one connection: all of them), oldest
    first, one job per bundle (`parked_retries.retry_in_order`); returns how many jobs were new."""
    statement = (
        select(Operation.bundle_id, Operation.event_id).where(_PARKED).order_by(Operation.created_at).limit(DUE_BATCH)
    )
    if connection_id is None:
        statement = statement.where(Operation.next_attempt_at <= func.now())
    else:
        statement = statement.join(Bundle, Bundle.id == Operation.bundle_id).where(
            Bundle.target_connection_id == connection_id
        )
    by_bundle: dict[uuid.UUID, list[str]] = {}
    for bundle_id, event_id in (await session.execute(statement)).all():
        by_bundle.setdefault(bundle_id, []).append(str(event_id))
    now_ms = int(time.time() * 1000)
    jobs = [  # a millisecond apart: arq takes due jobs by score, so the oldest bundle's starts first
        Job(RETRY_IN_ORDER, (str(bundle_id), event_ids), in_order_job_id(bundle_id), now_ms + i)
        for i, (bundle_id, event_ids) in enumerate(by_bundle.items())
    ]
    return await enqueue_jobs(queue, jobs) if jobs else 0


@cron_job("operation.retry_parked", transaction=False, second={0, 15, 30, 45}, unique=True, timeout=14)
async def retry_parked(run: JobRun) -> int:
    """The cron job: slow tries that are due."""
    async with run.context.sessionmaker() as session:
        return await enqueue_due(session, run.context.queue)


@job(RETRY_CONNECTION, max_tries=3, transaction=False)
async def retry_connection(run: JobRun, connection_id: str) -> int:
    """A connection test in the api answered: that connection's parked operations are queued now."""
    async with run.context.sessionmaker() as session:
        return await enqueue_due(session, run.context.queue, connection_id=uuid.UUID(connection_id))


async def probe_connections(context: WorkerContext) -> list[uuid.UUID]:
    """Test each connection with parked operations; the ones that answered have theirs queued now."""
    async with context.sessionmaker() as session:
        targets = (
            await session.execute(
                select(Bundle.workspace_id, Bundle.target_connection_id)
                .join(Operation, Operation.bundle_id == Bundle.id)
                .where(_PARKED, Bundle.target_connection_id.is_not(None))
                .distinct()
            )
        ).all()
        green: list[uuid.UUID] = []
        for workspace_id, connection_id in targets:
            row = None if connection_id is None else await get_connection(session, workspace_id, connection_id)
            if row is None:
                continue
            try:
                client = await context.bpm_clients.get(bpm_connection(row, context.secret_box))
                ok = (await client.test()).ok
            except BpmError:
                ok = False
            if ok:
                green.append(row.id)
                queued = await enqueue_due(session, context.queue, connection_id=row.id)
                log.info("connection %s answers again: its parked operations queued (%d bundles)", row.id, queued)
    return green


@cron_job("connection.probe", transaction=False, second={5}, unique=True, timeout=50)
async def probe(run: JobRun) -> int:
    """The cron job: a cheap test of the connections that have parked operations."""
    return len(await probe_connections(run.context))
