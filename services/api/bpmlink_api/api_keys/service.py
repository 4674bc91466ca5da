from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import ApiKey
from bpmlink.db.scoping import scoped
from bpmlink.kit.security import hash_token, new_token
from bpmlink.kit.web import NotFound
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import Actor

KEY_PREFIX = "bpl_"


async def create(session: AsyncSession, actor: Actor, name: str) -> tuple[ApiKey, str]:
    """A new key for the calling user; the key itself is returned once and stored only as a hash."""
    key = KEY_PREFIX + new_token()
    row = ApiKey(
        workspace_id=actor.workspace_id, user_id=actor.user_id, name=name, prefix=key[:10], key_hash=hash_token(key)
    )
    session.add(row)
    await session.flush()
    # The prefix is what the key list shows to tell keys apart; the key never enters the log.
    await record_audit(session, actor, "created", "api_key", row.id, row.name, {"prefix": row.prefix})
    return row, key


async def list_keys(session: AsyncSession, workspace_id: uuid.UUID) -> list[ApiKey]:
    result = await session.scalars(scoped(ApiKey, workspace_id).order_by(ApiKey.created_at.desc()))
    return list(result)


async def revoke(session: AsyncSession, actor: Actor, key_id: uuid.UUID) -> None:
    row = await session.scalar(scoped(ApiKey, actor.workspace_id, ApiKey.id == key_id))
    if row is None:
        raise NotFound("API key not found")
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await record_audit(session, actor, "revoked", "api_key", row.id, row.name, {"prefix": row.prefix})
    await session.flush()
