from __future__ import annotations

from fastapi import APIRouter, Query

from bpmlink_api.deps import OwnerContext

from . import service
from .schemas import AuditPage, EntityType

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", operation_id="listAuditEntries")
async def list_audit_entries(
    ctx: OwnerContext,
    entity_type: EntityType | None = None,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
) -> AuditPage:
    """Who created, changed, started, stopped or deleted what in this workspace, newest first (owners only)."""
    items, next_cursor = await service.list_entries(ctx, entity_type=entity_type, cursor=cursor, limit=limit)
    return AuditPage(items=items, next_cursor=next_cursor)
