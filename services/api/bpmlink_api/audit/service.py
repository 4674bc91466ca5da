"""The audit log as the api writes and reads it."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import audit
from bpmlink_api.deps import Actor


async def record_audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None,
    entity_name: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a change made by the calling user, in the request's transaction."""
    await audit.record(
        session,
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        via=actor.via,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=entity_name,
        details=details,
    )
