"""A new workspace owned by the caller; a browser session moves to it, an API key stays in its own."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts, audit
from bpmlink.db.models import User, UserSession
from bpmlink_api.auth.schemas import MeOut
from bpmlink_api.auth.service import me
from bpmlink_api.deps import Actor


async def create(session: AsyncSession, actor: Actor, name: str) -> MeOut:
    user = await session.get(User, actor.user_id)
    assert user is not None
    workspace = await accounts.create_workspace(session, name.strip() or name, user)
    # Recorded in the new workspace: that is where its owners read the log.
    await audit.record(
        session,
        workspace_id=workspace.id,
        user_id=actor.user_id,
        via=actor.via,
        action="created",
        entity_type="workspace",
        entity_id=workspace.id,
        entity_name=workspace.name,
    )
    current = actor.workspace_id
    if actor.session_token_hash is not None:
        user_session = await session.get(UserSession, actor.session_token_hash)
        assert user_session is not None
        user_session.workspace_id = current = workspace.id
        await session.flush()
    return await me(session, actor.user_id, current)
