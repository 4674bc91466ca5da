from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from bpmlink.db.models import OperationStatus
from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink_api.deps import Context, EditorContext

from . import service
from .schemas import OperationDetail, OperationList, OperationOut, ReplayOut, StatsOut

router = APIRouter(prefix="/api/v1", tags=["history"])


Statuses = Annotated[list[OperationStatus] | None, Query()]
Search = Annotated[
    str | None, Query(max_length=200, description="a value in the source or mapped data, or a record id")
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


@router.get("/bundles/{bundle_id}/operations", operation_id="listOperations")
async def list_operations(
    bundle_id: uuid.UUID,
    ctx: Context,
    status: Statuses = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Search = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OperationList:
    return await list_workspace_operations(ctx, bundle_id, status, since, until, q, cursor, limit)


@router.get("/operations", operation_id="listWorkspaceOperations")
async def list_workspace_operations(
    ctx: Context,
    bundle_id: uuid.UUID | None = None,
    status: Statuses = None,
    since: datetime | None = None,
    until: datetime | None = None,
    q: Search = None,
    cursor: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OperationList:
    """The workspace's operations of every bundle (or of `bundle_id`), newest first, each naming its bundle."""
    items, next_cursor = await service.list_operations(
        ctx,
        bundle_id,
        statuses=status or [],
        since=since,
        until=until,
        search=q,
        cursor=cursor,
        limit=limit,
    )
    return OperationList(items=items, next_cursor=next_cursor)


@router.post("/bundles/{bundle_id}/operations/replay", operation_id="replayFailedOperations")
async def replay_failed(bundle_id: uuid.UUID, ctx: EditorContext) -> ReplayOut:
    return ReplayOut(replayed=await service.replay_failed(ctx, bundle_id))


@router.get("/operations/{operation_id}", operation_id="getOperation")
async def get_operation(operation_id: uuid.UUID, ctx: Context) -> OperationDetail:
    return await service.get_operation(ctx, operation_id)


@router.post("/operations/{operation_id}/replay", operation_id="replayOperation")
async def replay_operation(operation_id: uuid.UUID, ctx: EditorContext) -> OperationOut:
    return await service.replay(ctx, operation_id)


@router.post("/operations/{operation_id}/retry-now", operation_id="retryOperationNow")
async def retry_operation_now(operation_id: uuid.UUID, ctx: EditorContext) -> OperationOut:
    """A parked operation (`retrying` with `next_attempt_at`): its next slow try, now; 409 for any other."""
    return await service.retry_now(ctx, operation_id)


@router.get("/stats", operation_id="getStats")
async def get_stats(
    ctx: Context,
    since: datetime | None = None,
    bucket: Literal["hour", "day"] = "hour",
    bundle_id: uuid.UUID | None = None,
) -> StatsOut:
    since = since or datetime.now(UTC) - timedelta(days=1 if bucket == "hour" else 30)
    items = await service.stats(ctx, since, bucket, bundle_id)
    return StatsOut(since=since, bucket=bucket, items=items)
