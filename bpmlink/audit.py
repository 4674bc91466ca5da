"""The per-workspace audit log: who changed what, and when.

An entry is added to the caller's session and committed with the change it describes, so a
rolled-back change leaves no entry and a committed one always has its entry. Details carry
field names and harmless values only: for secret fields (connection secrets, API key values,
passwords) record the name of the field that changed, never its value.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import AuditEntry

_NAME_LENGTH = 300


async def record(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID | None,
    via: str,
    action: str,
    entity_type: str,
    entity_id: object | None,
    entity_name: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry in the caller's transaction (no flush, no commit)."""
    session.add(
        AuditEntry(
            workspace_id=workspace_id,
            user_id=user_id,
            via=via,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            entity_name=entity_name[:_NAME_LENGTH],
            details=details or {},
        )
    )


async def record_bundle_error(
    session: AsyncSession, *, workspace_id: uuid.UUID, bundle_id: uuid.UUID, bundle_name: str, reason: str
) -> None:
    """A bundle stopped by bpmlink itself (status `error`): no user did it."""
    await record(
        session,
        workspace_id=workspace_id,
        user_id=None,
        via="system",
        action="stopped",
        entity_type="bundle",
        entity_id=bundle_id,
        entity_name=bundle_name,
        details={"status": "error", "reason": reason},
    )


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[str]:
    """The names of the keys added, removed or changed, sorted: safe to record for secret fields."""
    return [prefix + key for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]
