"""Polling: the scheduler cron, the `poll.run` job and the `poll.backfill` job.

Scheduler (`poll.schedule`, every minute). One statement claims every running bundle whose
`next_due_at` falls within the next minute, through the partial index `ix_poll_states_due`,
with `FOR UPDATE SKIP LOCKED` (two schedulers never claim one row) and a lease
(`lease_until`: a bundle whose poll is queued or running is not claimed again until the poll
releases it, or the lease runs out because its worker died). The same statement sets the next
due time: the start of the run's minute + the interval + a per-bundle offset in [0, 60 s)
derived from the bundle id. Each claimed poll is queued with `_defer_until` its own due time,
so 10,000 bundles due "on the minute" are spread over that minute by arq's queue instead of
firing in the same second, and a bundle keeps its second from run to run (no drift).

`poll.run`. Fetch a page after the stored cursor; in one transaction store each item as an
event (the unique `(bundle_id, source_item_key)` stores an item seen twice once) and advance
the cursor, after checking it is still the one the page was fetched after (a concurrent poll
or a retried job cannot move it twice); commit; then enqueue the new events (an enqueue that
fails leaves them `pending` for the sweeper). Follow pages until caught up, at most
`MAX_PAGES` per run; a run that stops at the bound sets `next_due_at = now()` so the next
tick continues.

Steps. A poll is not an operation, so its requests are stored with the operations they
produced: each new event's operation gets the page's fetch request(s) as attempt 0 (before
the pipeline's attempt 1…). A failed fetch produces no operation: its message, code and the
failing request line are kept in `poll_states.last_error` (shown with the bundle), transient
failures are retried at the next interval, and `STOP_AFTER` permanent failures in a row put
the bundle in `error` with the reason.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from arq import Retry, cron
from arq import func as job_function
from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink import audit, metrics
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Bundle, BundleStatus, Operation, PollState, Step
from bpmlink.events import enqueue_committed, store_event
from bpmlink.logging import bind_log_context
from bpmlink.redis import Job, enqueue_jobs
from bpmlink.redis import arq_queue as queue_over
from bpmlink.security import SecretBox
from bpmlink.sources import (
    BACKFILL_JOB,
    POLL_JOB,
    Cursor,
    FetchEnv,
    Page,
    Source,
    SourceConnection,
    SourceError,
    TransientSourceError,
    backfill_job_id,
    load_source,
    trigger_config,
)
from bpmlink.sources.http_polling import HttpPollingSource

log = logging.getLogger("bpmlink.worker.polling")

PAGE_SIZE = 100
MAX_PAGES = 10  # per poll run: a large backlog is worked through over several runs
BACKFILL_PAGES_PER_JOB = 200  # then the backfill re-queues itself, so no job runs for hours
CLAIM_AHEAD = timedelta(seconds=60)  # the cron runs every minute: claim what falls due before the next tick
LEASE = timedelta(minutes=10)  # longer than RUN_TIMEOUT: a lease never ends while its poll still runs
RUN_TIMEOUT = 300
CLAIM_BATCH = 5000
STOP_AFTER = 3  # permanent failures in a row before the bundle is put in `error`
STEP_BODY_LIMIT = 4096  # the page's answer is stored once per new event: keep it short

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


def poll_job_id(bundle_id: uuid.UUID, run_at: datetime) -> str:
    """One job per bundle and due time: re-sending a claim's job is a no-op in arq."""
    return f"poll:{bundle_id}:{int(run_at.timestamp())}"


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime | None = None,
    ahead: timedelta = CLAIM_AHEAD,
    limit: int = CLAIM_BATCH,
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Claim up to `limit` due polls in one statement and commit; each row goes to one caller."""
    now = now or datetime.now(UTC)
    async with sessionmaker() as session:
        rows = (
            await session.execute(_CLAIM, {"now": now, "horizon": now + ahead, "limit": limit, "lease": lease})
        ).all()
        await session.commit()
    return [Claim(bundle_id=r[0], run_at=r[1]) for r in rows]


def arq_queue(ctx: dict[str, Any]) -> ArqRedis:
    """arq's own pool (ctx["arq"]); the startup replaces ctx["redis"] with a plain client."""
    for key in ("arq", "redis"):
        if isinstance(ctx.get(key), ArqRedis):
            return ctx[key]
    queue = ctx.get("poll_queue")
    if queue is None:
        queue = ctx["poll_queue"] = queue_over(ctx["redis"].connection_pool)
    return queue


async def schedule_polls(ctx: dict[str, Any]) -> int:
    """The cron job: claim due polls in bounded batches and queue each at its own due time."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    queue = arq_queue(ctx)
    queued = 0
    for _ in range(20):
        claims = await claim_due(sessionmaker)
        jobs = [
            Job(POLL_JOB, (str(c.bundle_id),), poll_job_id(c.bundle_id, c.run_at), int(c.run_at.timestamp() * 1000))
            for c in claims
        ]
        try:
            await enqueue_jobs(queue, jobs)
        except (RedisError, OSError) as exc:
            # The claims stay leased; when the leases run out the bundles are claimed again.
            log.warning("could not queue %d polls: %s", len(jobs), exc)
            return queued
        queued += len(jobs)
        if len(claims) < CLAIM_BATCH:
            break
    if queued:
        log.info("scheduler queued %d polls", queued)
    return queued


SCHEDULE_CRON = cron(schedule_polls, name="poll.schedule", second={0}, unique=True, run_at_startup=True, timeout=55)


# -- running a poll --------------------------------------------------------------------


@dataclass
class PollDeps:
    """What a poll needs; built from the arq ctx, or by tests."""

    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    box: SecretBox
    env: FetchEnv
    http: httpx.AsyncClient | None = None


def deps_from_ctx(ctx: dict[str, Any]) -> PollDeps:
    env = FetchEnv(settings=ctx["settings"], redis=ctx["redis"], bpm_clients=ctx.get("bpm_clients"))
    # One guarded client per worker process (made at start-up): TLS contexts per poll would cost CPU.
    return PollDeps(ctx["sessionmaker"], arq_queue(ctx), ctx["secret_box"], env, ctx["source_http"])


@dataclass
class PollResult:
    status: str  # caught_up | more | not_running | stopped | failed | raced
    pages: int = 0
    found: int = 0
    stored: int = 0
    error: str | None = None
    event_ids: list[uuid.UUID] = field(default_factory=list)


async def _fetch(
    deps: PollDeps,
    source: Source,
    conn: SourceConnection,
    config: dict[str, Any],
    cursor: Cursor | None,
    limit: int,
    recorder: StepRecorder,
) -> Page:
    try:
        if isinstance(source, HttpPollingSource):
            return await source.fetch(conn, config, cursor, limit, recorder, deps.env, http=deps.http)
        return await source.fetch(conn, config, cursor, limit, recorder, deps.env)
    except SourceError:
        raise
    except Exception as exc:
        # A bug or an unforeseen answer: keep it visible on the bundle and try again next time.
        log.exception("a %s source failed unexpectedly", conn.app)
        raise TransientSourceError(
            f"unexpected error: {type(exc).__name__}: {exc}", code="internal", steps=recorder.steps
        ) from exc


async def _store_page(
    session: AsyncSession, bundle: Bundle, page: Page, recorder: StepRecorder, origin: str
) -> tuple[list[uuid.UUID], int]:
    """Store the page's items (flush only); returns the new events to enqueue and how many were new."""
    created: list[uuid.UUID] = []
    to_queue: list[uuid.UUID] = []
    for key, item in page.items:
        stored = await store_event(session, bundle, origin=origin, item=item, source_item_key=key)
        if stored.created:
            created.append(stored.id)
            if not stored.held:
                to_queue.append(stored.id)
    if created and recorder.steps:
        ops = await session.execute(select(Operation.id).where(Operation.event_id.in_(created)))
        rows = [
            {
                "operation_id": op_id,
                "attempt": 0,  # the source fetch, before the pipeline's attempts 1, 2, …
                "position": i,
                "system": s.system[:32],
                "method": s.method[:10],
                "url": s.url,
                "request_headers": s.request_headers,
                "request_body": s.request_body,
                "status": s.status,
                "response_body": s.response_body,
                "duration_ms": int(s.duration_ms),
                "error": s.error,
                "started_at": s.started_at,
            }
            for (op_id,) in ops
            for i, s in enumerate(recorder.steps)
        ]
        await session.execute(insert(Step), rows)
    return to_queue, len(created)


def _describe(exc: SourceError) -> str:
    text_ = f"[{exc.code}] {exc.message}"
    if exc.steps:
        s = exc.steps[-1]
        answer = f"HTTP {s.status}" if s.status is not None else "no answer"
        text_ += f" — {s.method} {s.url} → {answer}"
    return text_[:2000]


async def _record_failure(deps: PollDeps, bundle_id: uuid.UUID, exc: SourceError) -> None:
    async with deps.sessionmaker() as session:
        failures = await session.scalar(
            update(PollState)
            .where(PollState.bundle_id == bundle_id)
            .values(last_error=_describe(exc), failures=PollState.failures + 1, lease_until=None)
            .returning(PollState.failures)
        )
        if not exc.transient and failures is not None and failures >= STOP_AFTER:
            reason = f"polling failed {failures} times: {exc.message}"[:2000]
            stopped = await session.execute(
                update(Bundle)
                .where(Bundle.id == bundle_id, Bundle.status == BundleStatus.running)
                .values(status=BundleStatus.error, status_reason=reason)
                .returning(Bundle.workspace_id, Bundle.name)
            )
            for workspace_id, name in stopped:  # none when a user stopped it meanwhile
                await audit.record_bundle_error(
                    session, workspace_id=workspace_id, bundle_id=bundle_id, bundle_name=name, reason=reason
                )
            await session.execute(update(PollState).where(PollState.bundle_id == bundle_id).values(next_due_at=None))
        await session.commit()
    log.warning("poll of %s failed (%s): %s", bundle_id, "transient" if exc.transient else "permanent", exc.message)


async def run_poll(
    deps: PollDeps, bundle_id: uuid.UUID, *, max_pages: int = MAX_PAGES, page_size: int = PAGE_SIZE
) -> PollResult:
    """Poll one bundle: pages after the stored cursor until caught up or `max_pages`."""
    async with deps.sessionmaker() as session:
        bundle = await session.get(Bundle, bundle_id)
        state = await session.get(PollState, bundle_id)
        if bundle is None or state is None or bundle.deleted_at is not None or bundle.status != BundleStatus.running:
            await session.execute(update(PollState).where(PollState.bundle_id == bundle_id).values(lease_until=None))
            await session.commit()
            return PollResult("not_running")
        try:
            source, conn = await load_source(session, deps.box, bundle)
        except SourceError as exc:
            await session.rollback()
            await _record_failure(deps, bundle_id, exc)
            return PollResult("failed", error=exc.message)
        config = trigger_config(bundle)
        cursor = state.cursor
    result = PollResult("more")
    for _ in range(max_pages):
        recorder = StepRecorder(system=bundle.source_app, body_limit=STEP_BODY_LIMIT)
        try:
            page = await _fetch(deps, source, conn, config, cursor, page_size, recorder)
        except SourceError as exc:
            await _record_failure(deps, bundle_id, exc)
            result.status, result.error = "failed", exc.message
            return result
        async with deps.sessionmaker() as session:
            locked = await session.scalar(select(PollState).where(PollState.bundle_id == bundle_id).with_for_update())
            if locked is None or locked.cursor != cursor:
                # Another poll moved the cursor since this page was fetched: its page wins.
                await session.rollback()
                result.status = "raced"
                break
            fresh = await session.get(Bundle, bundle_id)
            assert fresh is not None
            to_queue, stored = await _store_page(session, fresh, page, recorder, "poll")
            # The cursor moves in the same transaction as the events: both or neither.
            locked.cursor = page.next_cursor
            locked.last_polled_at = func.now()
            locked.last_error = None
            locked.failures = 0
            if not page.more:
                locked.lease_until = None  # caught up: the lease ends here, not in a transaction of its own
            await session.commit()
        await enqueue_committed(deps.queue, to_queue)
        result.pages += 1
        result.found += len(page.items)
        result.stored += stored
        result.event_ids += to_queue
        cursor = page.next_cursor
        if not page.more:
            result.status = "caught_up"
            return result
        if fresh.status != BundleStatus.running:
            result.status = "stopped"  # stopped meanwhile: this page is kept (held), no more are fetched
            break
    async with deps.sessionmaker() as session:
        await session.execute(update(PollState).where(PollState.bundle_id == bundle_id).values(lease_until=None))
        if result.status == "more":
            # The backlog continues at the next scheduler tick (unless the bundle was stopped meanwhile).
            await session.execute(
                update(PollState)
                .where(PollState.bundle_id == bundle_id, PollState.next_due_at.is_not(None))
                .values(next_due_at=func.now())
            )
        await session.commit()
    return result


async def poll_run(ctx: dict[str, Any], bundle_id: str) -> str:
    """The `poll.run` job (idempotent: re-running it fetches after the committed cursor)."""
    bind_log_context(bundle_id=bundle_id)
    if isinstance(ctx.get("score"), int | float):  # arq's score: when the job was due, in epoch ms
        metrics.POLL_LAG.observe(max(0.0, time.time() - ctx["score"] / 1000))
    result = await run_poll(deps_from_ctx(ctx), uuid.UUID(bundle_id))
    return f"{result.status}: {result.stored} new of {result.found} in {result.pages} pages"


# -- backfill ----------------------------------------------------------------------------


async def run_backfill(
    deps: PollDeps,
    bundle_id: uuid.UUID,
    backfill_id: str,
    *,
    max_pages: int = BACKFILL_PAGES_PER_JOB,
    page_size: int = PAGE_SIZE,
) -> str:
    """Page through the source from the backfill's own cursor, storing events as `backfill`.

    Progress lives in `poll_states.backfill` and is committed with every page, so a worker that
    dies resumes from the last committed page. Returns done | more | failed | stale | transient.
    """
    async with deps.sessionmaker() as session:
        bundle = await session.get(Bundle, bundle_id)
        state = await session.get(PollState, bundle_id)
        progress = dict(state.backfill or {}) if state else {}
        if bundle is None or state is None or progress.get("id") != backfill_id:
            return "stale"
        if progress.get("status") in ("done", "failed"):
            return "stale"
        try:
            source, conn = await load_source(session, deps.box, bundle)
        except SourceError as exc:
            state.backfill = {**progress, "status": "failed", "error": exc.message, "finished_at": _now()}
            await session.commit()
            return "failed"
        config = trigger_config(bundle)
        if progress.get("status") != "running":
            state.backfill = progress = {**progress, "status": "running", "started_at": _now(), "updated_at": _now()}
            await session.commit()
    cursor = progress.get("cursor")
    for _ in range(max_pages):
        recorder = StepRecorder(system=bundle.source_app, body_limit=STEP_BODY_LIMIT)
        try:
            page = await _fetch(deps, source, conn, config, cursor, page_size, recorder)
        except SourceError as exc:
            async with deps.sessionmaker() as session:
                state = await session.get(PollState, bundle_id, with_for_update=True)
                if state is not None and (state.backfill or {}).get("id") == backfill_id:
                    status = "running" if exc.transient else "failed"
                    state.backfill = {
                        **(state.backfill or {}),
                        "status": status,
                        "error": _describe(exc),
                        "updated_at": _now(),
                    }
                    if not exc.transient:
                        state.backfill["finished_at"] = _now()
                await session.commit()
            return "transient" if exc.transient else "failed"
        async with deps.sessionmaker() as session:
            state = await session.get(PollState, bundle_id, with_for_update=True)
            if state is None or (state.backfill or {}).get("id") != backfill_id:
                return "stale"
            fresh = await session.get(Bundle, bundle_id)
            assert fresh is not None
            to_queue, stored = await _store_page(session, fresh, page, recorder, "backfill")
            current = dict(state.backfill or {})
            current.update(
                cursor=page.next_cursor,
                pages=int(current.get("pages", 0)) + 1,
                found=int(current.get("found", 0)) + len(page.items),
                stored=int(current.get("stored", 0)) + stored,
                error=None,
                updated_at=_now(),
            )
            if not page.more:
                current.update(status="done", finished_at=_now())
            state.backfill = current
            await session.commit()
        await enqueue_committed(deps.queue, to_queue)
        cursor = page.next_cursor
        if not page.more:
            return "done"
    return "more"


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def backfill_run(ctx: dict[str, Any], bundle_id: str, backfill_id: str, part: int = 0) -> str:
    """The `poll.backfill` job: bounded per job; a long backfill continues in a follow-up job."""
    deps = deps_from_ctx(ctx)
    outcome = await run_backfill(deps, uuid.UUID(bundle_id), backfill_id)
    if outcome == "more":
        await deps.queue.enqueue_job(
            BACKFILL_JOB, bundle_id, backfill_id, part + 1, _job_id=backfill_job_id(bundle_id, backfill_id, part + 1)
        )
    elif outcome == "transient":
        # The source is unreachable for now: arq runs this job again later, from the saved cursor.
        raise Retry(defer=min(600, 30 * int(ctx.get("job_try", 1))))
    return outcome


# Registered by main.build_worker. A poll is cheap to repeat (it reads the committed cursor); arq
# keeps its result briefly because every claim has its own job id. A backfill retries transient
# source failures from its saved cursor.
POLL_FUNCTIONS = [
    job_function(poll_run, name=POLL_JOB, timeout=RUN_TIMEOUT, keep_result=60, max_tries=3),
    job_function(backfill_run, name=BACKFILL_JOB, timeout=3600, max_tries=20),
]
