"""History reads (keyset pages, newest first), replay, and counts for the dashboard."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bpmlink.db.models import Bundle, Operation, OperationStatus
from bpmlink.events import PROCESS_EVENT
from bpmlink.kit.messages import message
from bpmlink.kit.web import Conflict, NotFound
from bpmlink.retry_schedule import PARKED, parked_job_id
from bpmlink.step_results import for_replay
from bpmlink_api.deps import RequestContext

from . import repository
from .schemas import IncomingRequestOut, OperationDetail, OperationOut, StatsBucket, StepOut

REPLAYABLE = (OperationStatus.failed, OperationStatus.not_found, OperationStatus.filtered)
BULK_REPLAY_LIMIT = 1000
SEARCH_CANDIDATES = 10_000  # matches of a history search sorted in memory rather than by walking the index


async def _bundle(ctx: RequestContext, bundle_id: uuid.UUID) -> Bundle:
    bundle = await repository.bundle(ctx.session, ctx.workspace_id, bundle_id)
    if bundle is None:
        raise NotFound(message("bundle_not_found", "bundle not found"))
    return bundle


async def list_operations(
    ctx: RequestContext,
    bundle_id: uuid.UUID | None,
    *,
    statuses: list[OperationStatus],
    since: datetime | None,
    until: datetime | None,
    search: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[OperationOut], str | None]:
    """A page of one bundle's operations, or (bundle_id None) of the whole workspace's, each naming its bundle."""
    if bundle_id is not None:
        await _bundle(ctx, bundle_id)
    items, next_cursor = await repository.list_page(
        ctx.session,
        ctx.workspace_id,
        bundle_id,
        statuses=statuses,
        since=since,
        until=until,
        search=search,
        search_candidates=SEARCH_CANDIDATES,
        cursor=cursor,
        limit=limit,
    )
    names = await repository.bundle_names(ctx.session, ctx.workspace_id, (r.bundle_id for r in items))
    out = [OperationOut.model_validate(r, from_attributes=True) for r in items]
    return [o.model_copy(update={"bundle_name": names.get(o.bundle_id)}) for o in out], next_cursor


async def _operation(ctx: RequestContext, operation_id: uuid.UUID) -> Operation:
    op = await repository.operation(ctx.session, ctx.workspace_id, operation_id)
    if op is None:
        raise NotFound(message("operation_not_found", "operation not found"))
    return op


async def get_operation(ctx: RequestContext, operation_id: uuid.UUID) -> OperationDetail:
    op = await _operation(ctx, operation_id)
    requests = [StepOut.model_validate(s, from_attributes=True) for s in await repository.steps(ctx.session, op.id)]
    fields = OperationOut.model_validate(op, from_attributes=True).model_dump(exclude={"step_results"})
    incoming = await _incoming(ctx, op.event_id)
    return OperationDetail(
        **fields, step_results=op.step_results or [], incoming=incoming, requests=requests, steps=requests
    )


async def _incoming(ctx: RequestContext, event_id: uuid.UUID) -> IncomingRequestOut | None:
    event = await repository.webhook_event(ctx.session, ctx.workspace_id, event_id)
    if event is None or event.request is None:
        return None
    body = None if event.body is None else event.body.decode("utf-8", errors="replace")
    return IncomingRequestOut(**event.request, body=body, received_at=event.received_at)


async def _requeue(ctx: RequestContext, ops: list[Operation]) -> None:
    """Back to `queued` with the bundle's current config; a fresh job id (arq remembers the old one)."""
    versions = await repository.config_versions(ctx.session, (o.bundle_id for o in ops))
    for op in ops:
        op.status = OperationStatus.queued
        op.error = None
        op.finished_at = None
        op.config_version = versions[op.bundle_id]
        op.step_results = for_replay(op.step_results)  # the finished steps stay finished
        ctx.jobs.enqueue_event(op.event_id, job_suffix=f"replay{op.attempts}")
    await repository.mark_pending(ctx.session, [o.event_id for o in ops])
    await ctx.session.flush()


async def replay(ctx: RequestContext, operation_id: uuid.UUID) -> OperationOut:
    op = await _operation(ctx, operation_id)
    if op.status not in REPLAYABLE:
        raise Conflict(
            message(
                "replay_not_allowed", f"an operation in status {op.status} cannot be replayed", status=str(op.status)
            )
        )
    bundle = await _bundle(ctx, op.bundle_id)
    if bundle.deleted_at is not None:
        raise Conflict(message("bundle_deleted", "the bundle was deleted"))
    await _requeue(ctx, [op])
    await ctx.session.refresh(op)
    return OperationOut.model_validate(op, from_attributes=True)


class NotParked(Conflict):
    """Only an operation waiting on its slow schedule can be retried now; details: {"status": …}."""

    code = "operation_not_parked"


async def retry_now(ctx: RequestContext, operation_id: uuid.UUID) -> OperationOut:
    """Run a parked operation's next slow try now (the worker's parking.py runs it as any slow try)."""
    op = await _operation(ctx, operation_id)
    if op.status != OperationStatus.retrying or op.next_attempt_at is None:
        raise NotParked(
            message(
                "not_parked", f"an operation in status {op.status} is not waiting to be retried", status=str(op.status)
            ),
            details={"status": op.status},
        )
    op.next_attempt_at = datetime.now(UTC)
    ctx.jobs.enqueue(PROCESS_EVENT, str(op.event_id), PARKED, job_id=parked_job_id(op.event_id, op.attempts))
    await ctx.session.flush()
    await ctx.session.refresh(op)
    return OperationOut.model_validate(op, from_attributes=True)


async def replay_failed(ctx: RequestContext, bundle_id: uuid.UUID) -> int:
    """Replay every failed operation of the bundle (bounded per call; call again for more)."""
    bundle = await _bundle(ctx, bundle_id)
    if bundle.deleted_at is not None:
        raise Conflict(message("bundle_deleted", "the bundle was deleted"))
    ops = await repository.failed_operations(ctx.session, ctx.workspace_id, bundle_id, BULK_REPLAY_LIMIT)
    if ops:
        await _requeue(ctx, ops)
    return len(ops)


async def stats(ctx: RequestContext, since: datetime, bucket: str, bundle_id: uuid.UUID | None) -> list[StatsBucket]:
    rows = await repository.counts(ctx.session, ctx.workspace_id, since, bucket, bundle_id)
    return [StatsBucket(bucket=s, bundle_id=b, status=st, count=n) for s, b, st, n in rows]
