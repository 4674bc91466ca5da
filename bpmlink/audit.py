"""The per-workspace audit log: who changed what, and when.

An entry is added to the caller's session and committed with the change it describes, so a
rolled-back change leaves no entry and a committed one always has its entry. Details carry
field names and harmless values only: for secret fields (connection secrets, API key values,
passwords) record the name of the field that changed, never its value.
"""

from __future__ import annotations

import uuid
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
