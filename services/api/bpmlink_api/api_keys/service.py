from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bpmlink.db.models import ApiKey
from bpmlink.kit.messages import message
from bpmlink.kit.security import hash_token, new_token
from bpmlink.kit.web import NotFound
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import RequestContext

from . import repository

KEY_PREFIX = "bpl_"


async def create(ctx: RequestContext, name: str) -> tuple[ApiKey, str]:
    """A new key for the calling user; the key itself is returned once and stored only as a hash."""
    actor = ctx.actor
    key = KEY_PREFIX + new_token()
    row = ApiKey(
        workspace_id=actor.workspace_id, user_id=actor.user_id, name=name, prefix=key[:10], key_hash=hash_token(key)
    )
    ctx.session.add(row)
    await ctx.session.flush()
    # The prefix is what the key list shows to tell keys apart; the key never enters the log.
    await record_audit(ctx.session, actor, "created", "api_key", row.id, row.name, {"prefix": row.prefix})
    return row, key


async def list_keys(ctx: RequestContext) -> list[ApiKey]:
    return await repository.list_keys(ctx.session, ctx.workspace_id)


async def revoke(ctx: RequestContext, key_id: uuid.UUID) -> None:
    row = await repository.get(ctx.session, ctx.workspace_id, key_id)
    if row is None:
        raise NotFound(message("api_key_not_found", "API key not found"))
    if row.revoked_at is None:
        row.revoked_at = datetime.now(UTC)
        await record_audit(ctx.session, ctx.actor, "revoked", "api_key", row.id, row.name, {"prefix": row.prefix})
    await ctx.session.flush()
