"""The `event.process` job: map → dedup → push one event, and write its operation and steps.

The job may run more than once for the same event (a retry, a worker that died, the
sweeper): it re-reads its rows, does nothing for a finished operation, and pushes with a
deterministic record Id, so every run converges on one record.

Jobs running at the same time in one worker are processed together (`Batcher`): one claim
statement, the events of each bundle pushed with two `$batch` requests (`push_many`), one
transaction writing every operation and its steps. Each job still ends on its own: its own
status, its own retry with its own backoff.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from arq import Retry
from sqlalchemy import Integer, String, Table, bindparam, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import audit
from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, TransientError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.db.models import (
    FINAL_STATUSES,
    Bundle,
    BundleStatus,
    BundleVersion,
    Connection,
    Event,
    EventState,
    Operation,
    OperationStatus,
    Step,
)
from bpmlink.events import PROCESS_EVENT
from bpmlink.kit import metrics
from bpmlink.kit.logs import bind_log_context
from bpmlink.mapping.budget import Budget, Busy, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.types import TargetField
from bpmlink.notifications import open_incident
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.match_search import communication_entity
from bpmlink.pipeline.push import PushItem, PushResult, push_alone, push_many
from bpmlink.retry_schedule import PARKED
from bpmlink.search_terms import search_terms
from bpmlink.targets import target_fields

from .incidents import request_delivery
from .jobs import JobRun, job
from .parking import park_and_resolve

if TYPE_CHECKING:
    from .context import WorkerContext

log = logging.getLogger("bpmlink.worker.process")

MAX_TRIES = 8  # runs of one job (arq's job_try) before the operation fails for good
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
BATCH_SIZE = 50  # events per batch: a $batch of searches and one of writes stay under its 100
BATCHES_RUNNING = 4  # per worker process, alongside when a full batch waits or the running one is slow
LATE_AFTER = 0.05  # seconds a batch waits for its other bundles' runs once one bundle's has ended


def backoff_seconds(job_try: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the server's Retry-After."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (job_try - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class _Failed(Exception):
    def __init__(self, message: str, *, stop_bundle: bool = False) -> None:
        super().__init__(message)  # an error of the bundle's set-up, not of bpm'online's answer
        self.message = message
        self.stop_bundle = stop_bundle


@dataclass
class Claimed:
    """What one run needs of its event, operation and bundle, read by the claiming statement."""

    event_id: uuid.UUID
    operation_id: uuid.UUID
    workspace_id: uuid.UUID
    bundle_id: uuid.UUID
    bundle_name: str
    attempts: int
    item: dict[str, Any]
    config: BundleConfig
    config_version: int
    job_try: int = 1
    target: Connection | None = None  # the bundle's bpm'online connection, read with the claim
    mapped_data: dict[str, Any] | None = None
    recorder: StepRecorder = field(default_factory=StepRecorder)
    # The end of this run, set by _end_push / _fail:
    status: OperationStatus = OperationStatus.processing
    error: str | None = None
    record_id: uuid.UUID | None = None
    retry_in: float | None = None
    parked: bool = False  # past its fast tries, still failing transiently: parking.park_and_resolve decides
    stop_reason: str | None = None
    # Set when push_many handed the event back: the push still to make, in the job's own task
    # (once, whichever job of this event gets there first: alone_task).
    push_alone: Callable[[], Awaitable[PushItem]] | None = None
    alone_task: asyncio.Task[None] | None = None
    # Set when its bundle's run was still under way as the batch ended (see process_events): the
    # job awaits it, then finishes as above.
    late: asyncio.Task[None] | None = None


# The tables, not the ORM classes: Core statements skip the ORM's bulk-persistence layer.
OPERATIONS = cast(Table, Operation.__table__)
EVENTS = cast(Table, Event.__table__)
STEPS = cast(Table, Step.__table__)
_UNFINISHED = tuple(s.value for s in OperationStatus if s not in FINAL_STATUSES)
# One statement marks the operations processing (locking their rows like SELECT … FOR UPDATE) and
# reads the events and their bundles; anything unusual falls to _settle. The bundle's configuration
# is read apart, once per version a process has not parsed yet (decoding it for every event cost
# 5% of the worker's CPU).
_CLAIM = (
    text(
        """
    UPDATE operations AS o
    SET status = 'processing', attempts = o.attempts + 1, config_version = b.config_version, updated_at = now()
    FROM events AS e, bundles AS b
    WHERE o.event_id = ANY(:event_ids) AND e.id = o.event_id AND b.id = e.bundle_id
      AND e.state NOT IN ('held', 'discarded', 'sample')
      AND o.status IN :unfinished
      AND b.deleted_at IS NULL
    RETURNING o.event_id, o.id, o.attempts, e.item, e.workspace_id, e.bundle_id, b.name, b.config_version
    """
    )
    .bindparams(bindparam("unfinished", expanding=True), bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))))
    .columns(
        event_id=UUID(as_uuid=True),
        id=UUID(as_uuid=True),
        attempts=Integer,
        item=JSONB,
        workspace_id=UUID(as_uuid=True),
        bundle_id=UUID(as_uuid=True),
        name=String,
        config_version=Integer,
    )
)
_VERSIONS = cast(Table, BundleVersion.__table__)

# Parsed configurations by (bundle, version): a saved version never changes.
_Version = tuple[uuid.UUID, int]
_CONFIGS: dict[_Version, BundleConfig] = {}
_CONFIGS_MAX = 1000


async def _configs(session: AsyncSession, keys: set[_Version]) -> dict[_Version, BundleConfig]:
    """The parsed configuration of each (bundle, version), read only for those not cached yet."""
    missing = keys - _CONFIGS.keys()
    if missing:
        if len(_CONFIGS) + len(missing) > _CONFIGS_MAX:
            _CONFIGS.clear()
        rows = await session.execute(
            select(_VERSIONS.c.bundle_id, _VERSIONS.c.version, _VERSIONS.c.config).where(
                tuple_(_VERSIONS.c.bundle_id, _VERSIONS.c.version).in_(list(missing))
            )
        )
        for bundle_id, version, raw in rows:
            _CONFIGS[(bundle_id, version)] = BundleConfig.model_validate(raw)
    return {key: _CONFIGS[key] for key in keys}


async def _claim(session: AsyncSession, jobs: dict[uuid.UUID, int]) -> list[Claimed]:
    """Mark the operations of these events (event id → job try) processing; the rest are settled."""
    rows = (await session.execute(_CLAIM, {"event_ids": list(jobs), "unfinished": _UNFINISHED})).all()
    configs = await _configs(session, {(row.bundle_id, row.config_version) for row in rows})
    claimed = [
        Claimed(
            event_id=row.event_id,
            operation_id=row.id,
            workspace_id=row.workspace_id,
            bundle_id=row.bundle_id,
            bundle_name=row.name,
            attempts=row.attempts,
            item=row.item,
            config=configs[(row.bundle_id, row.config_version)],
            config_version=row.config_version,
            job_try=jobs[row.event_id],
        )
        for row in rows
    ]
    for event_id in set(jobs) - {c.event_id for c in claimed}:
        await _settle(session, event_id)
    targets: dict[tuple[uuid.UUID, uuid.UUID], Connection | None] = {}
    for c in claimed:
        key = (c.workspace_id, c.config.target.connection_id)
        if key not in targets:
            targets[key] = await get_connection(session, *key)
        c.target = targets[key]
    return claimed


async def _settle(session: AsyncSession, event_id: uuid.UUID) -> None:
    """The cases the claim skips: a finished operation leaves its event `done`; a deleted bundle fails it."""
    event = await session.get(Event, event_id)
    if event is None or event.state in (EventState.held, EventState.discarded, EventState.sample):
        return
    op = await session.scalar(select(Operation).where(Operation.event_id == event_id).with_for_update())
    if op is None or op.status in FINAL_STATUSES:
        if event.state != EventState.done:
            event.state = EventState.done
        return
    bundle = await session.get(Bundle, event.bundle_id)
    if bundle is not None and bundle.deleted_at is not None:
        op.status, op.error, op.finished_at = OperationStatus.failed, "the bundle was deleted", datetime.now(UTC)
        event.state = EventState.done


def _fail(claimed: Claimed, exc: Exception) -> None:
    """Set the run's end from the error that ended it."""
    job_try = claimed.job_try
    if isinstance(exc, TransientError):
        if job_try < MAX_TRIES:
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (will retry)"
            claimed.retry_in = backoff_seconds(job_try, exc.retry_after)
            metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
        else:  # past the fast tries: parked on the workspace's slow schedule (parking.py)
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (retrying on a slow schedule)"
            claimed.parked = True
    elif isinstance(exc, AuthError | ConfigurationError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
        claimed.stop_reason = f"bpm'online refused the connection: {exc}"
    elif isinstance(exc, BpmError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
    elif isinstance(exc, _Failed):
        claimed.status, claimed.error = OperationStatus.failed, exc.message
        claimed.stop_reason = exc.message if exc.stop_bundle else None
    elif isinstance(exc, MappingError):
        claimed.status = OperationStatus.failed
        claimed.error = f"{exc.field}: {exc.message}" if exc.field else exc.message
    else:
        raise exc


async def _map(client: BpmClient, fields: dict[str, TargetField], claimed: Claimed) -> dict[str, Any] | None:
    """The event's record for bpm'online, or None when the run ended here (filtered, or failed).

    The bundle's filter and mapping are user code: they run under the event's budget, off the event
    loop, and whatever they raise ends this run alone, never its batch neighbours' (other bundles')."""
    config = claimed.config
    budget = Budget(owner=claimed.workspace_id)
    try:
        verdict = await off_loop(budget, explain, config.filter, claimed.item, budget=budget)
        if not verdict.passed:
            claimed.status, claimed.error = OperationStatus.filtered, verdict.reason or "the filter did not pass"
            return None
        mapped = await apply_mapping(
            config.mapping,
            claimed.item,
            fields,
            make_resolver(client, claimed.recorder, allow_create=True),
            budget=budget,
        )
        claimed.mapped_data = mapped.values
        if not mapped.ok:
            raise _Failed("; ".join(f"{e.field}: {e.message}" for e in mapped.errors))
    except Busy as exc:  # its workspace's earlier events hold the lane: later, with backoff
        _fail(claimed, TransientError(exc.message, code=exc.code))
        return None
    except (BpmError, _Failed, MappingError) as exc:
        _fail(claimed, exc)
        return None
    except Exception as exc:  # a defect met on this event's data: this event's failure, logged for us
        log.exception("mapping event %s failed", claimed.event_id)
        _fail(claimed, _Failed(f"the event could not be mapped ({type(exc).__name__})"))
        return None
    return mapped.values


async def _run_bundle(context: WorkerContext, runs: list[Claimed]) -> None:
    """Map, dedup and push the events of one bundle version; every run gets its end."""
    first = runs[0]
    config = first.config
    try:
        if first.target is None:
            raise _Failed("the bundle's bpm'online connection was deleted", stop_bundle=True)
        client = await context.bpm_clients.get(bpm_connection(first.target, context.secret_box))
        metadata = await client.metadata(recorder=first.recorder)
        entity = metadata.entities.get(config.target.entity)
        if entity is None:
            raise _Failed(f"bpm'online has no entity {config.target.entity!r} any more")
    except (BpmError, _Failed) as exc:
        for claimed in runs:
            _fail(claimed, exc)
        return
    fields = target_fields(entity)
    mapped = await asyncio.gather(*(_map(client, fields, claimed) for claimed in runs))
    items = {
        claimed.event_id: PushItem(claimed.event_id, values, retry=claimed.attempts > 1, recorder=claimed.recorder)
        for claimed, values in zip(runs, mapped, strict=True)
        if values is not None
    }
    if not items:
        return
    bundle_id, entity_name, policy = first.bundle_id, config.target.entity, config.dedup
    comm_entity = communication_entity(metadata, entity_name)  # phones searched as Creatio's telephony does
    handed_back = await push_many(
        client,
        context.redis,
        bundle_id=bundle_id,
        entity=entity_name,
        fields=fields,
        policy=policy,
        items=list(items.values()),
        comm_entity=comm_entity,
    )
    later = {item.event_id for item in handed_back}
    for claimed in runs:
        item = items.get(claimed.event_id)
        if item is None:
            continue
        if item.event_id in later:

            async def alone(item: PushItem = item) -> PushItem:
                await push_alone(client, context.redis, bundle_id, entity_name, fields, policy, item, comm_entity)
                return item

            claimed.push_alone = alone
        else:
            _end_push(claimed, item)


def _end_push(claimed: Claimed, item: PushItem) -> None:
    result = item.outcome
    if isinstance(result, PushResult):
        claimed.status, claimed.error = result.status, result.note
        claimed.record_id = uuid.UUID(result.record_id) if result.record_id else None
    else:
        _fail(claimed, result or BpmError("no answer for this event"))


def _step_rows(claimed: Claimed) -> list[dict[str, Any]]:
    return [
        {
            "operation_id": claimed.operation_id,
            "attempt": claimed.attempts,
            "position": i,
            "system": s.system,
            "method": s.method,
            "url": s.url,
            "request_headers": s.request_headers,
            "request_body": s.request_body,
            "status": s.status,
            "response_body": s.response_body,
            "duration_ms": round(s.duration_ms),
            "error": s.error,
            "started_at": s.started_at,
        }
        for i, s in enumerate(claimed.recorder.steps)
    ]


_FINISH = (
    update(OPERATIONS)
    .where(OPERATIONS.c.id == bindparam("op_id"))
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        record_id=bindparam("record_id"),
        mapped_data=bindparam("mapped_data"),
        search_terms=bindparam("search_terms"),
        finished_at=bindparam("finished_at"),
    )
)


async def _write(context: WorkerContext, runs: list[Claimed]) -> None:
    """Every run's operation, event and steps in one transaction (executemany where it can)."""
    now = datetime.now(UTC)
    async with context.transaction() as tx:
        session = tx.session
        await session.execute(
            _FINISH,
            [
                {
                    "op_id": c.operation_id,
                    "status": c.status,
                    "error": c.error,
                    "record_id": c.record_id,
                    "mapped_data": c.mapped_data,
                    "search_terms": search_terms(c.item, c.mapped_data, c.record_id),
                    "finished_at": now if c.status in FINAL_STATUSES else None,
                }
                for c in runs
            ],
        )
        done = [c.event_id for c in runs if c.status in FINAL_STATUSES]
        if done:
            await session.execute(update(EVENTS).where(EVENTS.c.id.in_(done)).values(state=EventState.done))
        steps = [row for c in runs for row in _step_rows(c)]
        if steps:
            await session.execute(insert(STEPS), steps)  # one executemany
        slow = [c for c in runs if c.job_try >= MAX_TRIES]
        if slow:
            parked = [c.operation_id for c in slow if c.parked]
            gave_up = await park_and_resolve(tx, parked, [c.operation_id for c in slow if not c.parked], now)
            for c in slow:
                if c.operation_id in gave_up:
                    c.status = OperationStatus.failed  # the job's answer: its schedule ended
        for c in runs:
            if c.stop_reason:
                incident_id = await _stop_bundle(session, c, c.stop_reason)
                if incident_id is not None:
                    request_delivery(tx, incident_id)


async def process_events(context: WorkerContext, jobs: list[tuple[uuid.UUID, int]]) -> list[Claimed | None]:
    """Run the jobs (event id, job try) of one batch; per job, in order, its run (None: nothing to do)."""
    tries = dict(jobs)  # the same event twice (a duplicate delivery) runs once
    metrics.EVENT_BATCH_SIZE.observe(len(jobs))
    async with context.transaction() as tx:
        runs = await _claim(tx.session, tries)
    # No database connection is held while bpm'online answers: at 200 ms a request and a hundred
    # jobs per worker, that would be a hundred idle connections.
    groups: dict[tuple[uuid.UUID, int], list[Claimed]] = defaultdict(list)
    for claimed in runs:
        groups[(claimed.bundle_id, claimed.config_version)].append(claimed)
    await _run_bundles(context, list(groups.values()))
    ended = [run for run in runs if run.push_alone is None and run.late is None]
    if ended:
        await _write(context, ended)
    by_event = {c.event_id: c for c in runs}
    return [by_event.get(event_id) for event_id, _ in jobs]


async def _run_bundles(context: WorkerContext, groups: list[list[Claimed]]) -> None:
    """Run the groups at once; once one has ended, the others get LATE_AFTER more, then their runs
    are handed to their jobs (`late`), so one bundle's slow user code never holds another's writes."""
    tasks = {asyncio.ensure_future(_run_bundle(context, group)): group for group in groups}
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    if pending:
        _, pending = await asyncio.wait(pending, timeout=LATE_AFTER)
    for task in pending:
        for run in tasks[task]:
            run.late = task
    for task in tasks.keys() - pending:
        task.result()  # an unexpected error fails the batch, as it did


async def _finish_alone(context: WorkerContext, run: Claimed) -> None:
    """The rest of a late bundle run, and the push push_many handed back (it may wait for a
    match-key lock), then this run's write."""
    if run.late is not None:
        await run.late
    if run.push_alone is not None:
        _end_push(run, await run.push_alone())
    await _write(context, [run])


# Counted in the job metrics (its answers are the operation statuses). No transaction of its own: a
# batch's claim and its write are one transaction each, shared by the batch's jobs.
@job(PROCESS_EVENT, max_tries=MAX_TRIES, transaction=False, counted=True)
async def process_event(job_run: JobRun, event_id: str, mode: str = "") -> str:
    """arq job `event.process`; `mode` PARKED for a slow try (parking.py), which counts as past the fast tries."""
    context = job_run.context
    job_try = MAX_TRIES if mode == PARKED else job_run.job_try
    run = await context.event_batcher.submit((uuid.UUID(event_id), job_try))
    if run is None:
        return "nothing to do"
    if run.push_alone is not None or run.late is not None:
        if run.alone_task is None:
            run.alone_task = asyncio.ensure_future(_finish_alone(context, run))
        await run.alone_task
    # Logged here, in the job's own log context (job and event ids).
    bind_log_context(workspace_id=run.workspace_id, bundle_id=run.bundle_id, operation_id=run.operation_id)
    retry = "" if run.retry_in is None else f", again in {run.retry_in:.1f} s"
    log.info("operation %s%s", run.status, retry)
    if run.retry_in is not None:
        raise Retry(defer=run.retry_in)
    return str(run.status)


async def _stop_bundle(session: AsyncSession, claimed: Claimed, reason: str) -> int | None:
    """Every next event would fail the same way: stop the bundle, say why, tell people once."""
    stopped_now = await session.scalar(
        update(Bundle)
        .where(Bundle.id == claimed.bundle_id, Bundle.status.in_((BundleStatus.running, BundleStatus.waiting)))
        .values(status=BundleStatus.error, status_reason=reason)
        .returning(Bundle.id)
    )
    if stopped_now is None:
        return None
    await audit.record_bundle_error(
        session,
        workspace_id=claimed.workspace_id,
        bundle_id=claimed.bundle_id,
        bundle_name=claimed.bundle_name,
        reason=reason,
    )
    return await open_incident(
        session,
        Bundle(id=claimed.bundle_id, workspace_id=claimed.workspace_id),
        kind="bundle_error",
        key=f"bundle_error:{claimed.bundle_id}:{claimed.operation_id}",
        message=f"the bundle «{claimed.bundle_name}» was stopped: {reason}",
    )
