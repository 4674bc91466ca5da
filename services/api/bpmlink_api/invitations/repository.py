"""Invitation queries: the only place they are written, each through the workspace (or the link's token)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import AccountToken, Invitation, User
from bpmlink.db.scoping import scoped


async def pending(
    session: AsyncSession, workspace_id: uuid.UUID, *, email: str | None = None
) -> list[tuple[Invitation, datetime, User | None]]:
    """Invitations of the workspace (to `email` if given) whose link still works, newest first, with
    the link's expiry and the inviter."""
    query = scoped(Invitation, workspace_id, *([Invitation.email == email] if email is not None else []))
    rows = await session.execute(
        query.join(AccountToken, AccountToken.invitation_id == Invitation.id)
        .outerjoin(User, User.id == Invitation.invited_by_id)
        .where(AccountToken.used_at.is_(None), AccountToken.expires_at > func.now())
        .add_columns(AccountToken.expires_at, User)
        .order_by(Invitation.created_at.desc())
    )
    return [(invitation, expires_at, inviter) for invitation, expires_at, inviter in rows.all()]


async def get(session: AsyncSession, workspace_id: uuid.UUID, invitation_id: uuid.UUID) -> Invitation | None:
    return await session.scalar(scoped(Invitation, workspace_id, Invitation.id == invitation_id))


async def use_up_links(session: AsyncSession, invitation_id: uuid.UUID) -> None:
    """The invitation's unused links stop working."""
    await session.execute(
        update(AccountToken)
        .where(AccountToken.invitation_id == invitation_id, AccountToken.used_at.is_(None))
        .values(used_at=func.now())
    )
