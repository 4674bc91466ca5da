"""Audit log queries: the only place they are written, through the workspace."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import AuditEntry, User
from bpmlink.db.scoping import scoped


async def entries(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    entity_type: str | None,
    before: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[AuditEntry, User | None]]:
    """Up to `limit` entries newest first, older than `before` (at, id), each with the user who made it."""
    query = scoped(AuditEntry, workspace_id)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if before:
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*before))
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    rows = await session.execute(query.outerjoin(User, User.id == AuditEntry.user_id).add_columns(User))
    return [(entry, user) for entry, user in rows.all()]
