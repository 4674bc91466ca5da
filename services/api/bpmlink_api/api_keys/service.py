from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import ApiKey
from bpmlink.db.scoping import scoped
from bpmlink.security import hash_token, new_token
from bpmlink.web import NotFound

KEY_PREFIX = "bpl_"


async def create(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
    key = KEY_PREFIX + new_token()
    row = ApiKey(workspace_id=workspace_id, user_id=user_id, name=name, prefix=key[:10], key_hash=hash_token(key))
    session.add(row)
    await session.flush()
    return row, key


async def list_keys(session: AsyncSession, workspace_id: uuid.UUID) -> list[ApiKey]:
    result = await session.scalars(scoped(ApiKey, workspace_id).order_by(ApiKey.created_at.desc()))
    return list(result)


async def revoke(session: AsyncSession, workspace_id: uuid.UUID, key_id: uuid.UUID) -> None:
    row = await session.scalar(scoped(ApiKey, workspace_id, ApiKey.id == key_id))
    if row is None:
        raise NotFound("API key not found")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
    await session.flush()
