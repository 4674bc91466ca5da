"""API key queries: the only place they are written, each through the workspace."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import ApiKey
from bpmlink.db.scoping import scoped


async def list_keys(session: AsyncSession, workspace_id: uuid.UUID) -> list[ApiKey]:
    """The workspace's keys, newest first."""
    return list(await session.scalars(scoped(ApiKey, workspace_id).order_by(ApiKey.created_at.desc())))


async def get(session: AsyncSession, workspace_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
    return await session.scalar(scoped(ApiKey, workspace_id, ApiKey.id == key_id))
