"""The scheduler (`poll.schedule`, every 10 seconds): claim the polls falling due, queue them as `poll.run` jobs.

One statement claims every running bundle whose `next_due_at` falls within the next minute, through the
partial index `ix_poll_states_due`, with `FOR UPDATE SKIP LOCKED` (two schedulers never claim one row)
and a lease (`lease_until`: a bundle whose poll is queued or running is not claimed again until the
poll releases it, or the lease runs out because its worker died). The same statement sets the next due
time: the start of the run's minute + the interval + a per-bundle offset in [0, 60 s) derived from the
bundle id. The claims due in the same second are queued together as one `poll.run` job (up to
`POLL_BATCH`, run concurrently by it) deferred to that second, so 10,000 bundles due "on the minute"
are spread over that minute by arq's queue instead of firing in the same second, a bundle keeps its
second from run to run (no drift), and arq's cost per job (several Redis round trips) is shared by the
polls of a second.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.kit.queue import Job, enqueue_jobs
from bpmlink.sources import POLL_JOB

from ..jobs import JobRun, cron_job

log = logging.getLogger("bpmlink.worker.polling")

# The cron runs every 10 seconds and claims what falls due within the next minute. A bundle's next
# poll can be claimed only once its current poll ended (the lease): with one tick a minute, the polls
# due in the tick's first seconds waited for the tick itself (12 s at 10,000 bundles); six ticks a
# minute claim each poll ~50 s before it is due, ~1/6 of them each time.
CLAIM_AHEAD = timedelta(seconds=60)
SCHEDULE_SECONDS = {0, 10, 20, 30, 40, 50}
RUN_TIMEOUT = 300  # of a `poll.run` job
LEASE = timedelta(minutes=10)  # longer than RUN_TIMEOUT: a lease never ends while its poll still runs
CLAIM_BATCH = 5000
POLL_BATCH = 20  # polls due in the same second per `poll.run` job, run concurrently by it

_CLAIM = text(
    """
    WITH due AS (
        SELECT p.bundle_id, greatest(p.next_due_at, :now) AS run_at
        FROM poll_states p JOIN bundles b ON b.id = p.bundle_id
        WHERE p.next_due_at IS NOT NULL AND p.next_due_at <= :horizon
          AND (p.lease_until IS NULL OR p.lease_until < :now)
          AND b.status = 'running' AND b.deleted_at IS NULL
        ORDER BY p.next_due_at
        LIMIT :limit
        FOR UPDATE OF p SKIP LOCKED
    )
    UPDATE poll_states p
    SET lease_until = due.run_at + :lease,
        next_due_at = date_trunc('minute', due.run_at)
            + make_interval(mins => p.interval_minutes)
            + make_interval(secs => mod(('x' || left(md5(p.bundle_id::text), 8))::bit(32)::bigint, 60000) / 1000.0)
    FROM due
    WHERE p.bundle_id = due.bundle_id
    RETURNING p.bundle_id, due.run_at
    """
)


@dataclass(frozen=True)
class Claim:
    bundle_id: uuid.UUID
    run_at: datetime


def poll_job_id(bundle_ids: Sequence[uuid.UUID], run_at: datetime) -> str:
    """One job per set of claims and due second: re-sending the same claims is a no-op in arq."""
    if len(bundle_ids) == 1:
        return f"poll:{bundle_ids[0]}:{int(run_at.timestamp())}"
    digest = hashlib.sha256(",".join(sorted(map(str, bundle_ids))).encode()).hexdigest()[:24]
    return f"polls:{int(run_at.timestamp())}:{digest}"


def poll_jobs(claims: Sequence[Claim], batch: int = POLL_BATCH) -> list[Job]:
    """The claims as `poll.run` jobs: those due in the same second together, up to `batch` per job, each
    job deferred to its first claim's due time. A job costs arq several Redis round trips however short
    its poll; at 10,000 bundles a minute, one job per poll was a third of the workers' CPU."""
    jobs: list[Job] = []
    ordered = sorted(claims, key=lambda c: c.run_at)
    start = 0
    while start < len(ordered):
        second = int(ordered[start].run_at.timestamp())
        end = start + 1
        while end < len(ordered) and end - start < batch and int(ordered[end].run_at.timestamp()) == second:
            end += 1
        group = ordered[start:end]
        ids = [c.bundle_id for c in group]
        jobs.append(
            Job(
                POLL_JOB,
                tuple(map(str, ids)),
                poll_job_id(ids, group[0].run_at),
                int(group[0].run_at.timestamp() * 1000),
            )
        )
        start = end
    return jobs


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    ahead: timedelta = CLAIM_AHEAD,
    limit: int = CLAIM_BATCH,
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Claim up to `limit` due polls in one statement (the caller commits); each row goes to one caller."""
    now = now or datetime.now(UTC)
    rows = (await session.execute(_CLAIM, {"now": now, "horizon": now + ahead, "limit": limit, "lease": lease})).all()
    return [Claim(bundle_id=r[0], run_at=r[1]) for r in rows]


@cron_job("poll.schedule", transaction=False, second=SCHEDULE_SECONDS, unique=True, run_at_startup=True, timeout=55)
async def schedule_polls(run: JobRun) -> int:
    """The cron job: claim due polls in bounded batches and queue them, a job per second's claims."""
    context = run.context
    queued = 0
    for _ in range(20):
        async with context.transaction() as tx:  # committed before the polls are queued
            claims = await claim_due(tx.session)
        jobs = poll_jobs(claims)
        try:
            await enqueue_jobs(context.queue, jobs)
        except (RedisError, OSError) as exc:
            # The claims stay leased; when the leases run out the bundles are claimed again.
            log.warning("could not queue %d polls: %s", len(claims), exc)
            return queued
        queued += len(claims)
        if len(claims) < CLAIM_BATCH:
            break
    if queued:
        log.info("scheduler queued %d polls", queued)
    return queued
