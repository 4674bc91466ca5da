"""The audit log as the api writes and reads it."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import audit
from bpmlink.db.models import AuditEntry, User
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput
from bpmlink_api.deps import Actor, RequestContext

from . import repository
from .schemas import AuditActor, AuditEntryOut


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


# Keyset pages on (at, id), newest first. bpmlink.db.pagination does the same for tables with
# UUID ids and created_at; entries have a bigint id and `at`, so their cursor is their own.
def _encode_cursor(entry: AuditEntry) -> str:
    raw = f"{entry.at.isoformat()}|{entry.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, ident = raw.partition("|")
        entry_id = int(ident)
        if not 0 < entry_id < 2**63:  # a bigint, or the database would refuse the parameter
            raise ValueError(ident)
        return datetime.fromisoformat(at), entry_id
    except ValueError as exc:  # also binascii.Error and UnicodeDecodeError
        raise InvalidInput(
            message("invalid_cursor", "invalid cursor"), details=[{"field": "cursor", "message": "not a cursor"}]
        ) from exc


def _out(entry: AuditEntry, user: User | None) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor=AuditActor(id=user.id, email=user.email, name=user.name) if user else None,
        via=entry.via,
        action=entry.action,
        entity_type=entry.entity_type,
        entity_id=entry.entity_id,
        entity_name=entry.entity_name,
        details=entry.details,
    )


async def list_entries(
    ctx: RequestContext, *, entity_type: str | None, cursor: str | None, limit: int
) -> tuple[list[AuditEntryOut], str | None]:
    """One page of the workspace's entries, newest first, with who made each."""
    before = _decode_cursor(cursor) if cursor else None
    rows = await repository.entries(
        ctx.session, ctx.workspace_id, entity_type=entity_type, before=before, limit=limit + 1
    )
    items = [_out(entry, user) for entry, user in rows[:limit]]
    next_cursor = _encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return items, next_cursor
