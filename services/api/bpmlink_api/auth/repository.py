"""Queries of authentication (API keys, browser sessions, memberships): the only place they are written."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import ApiKey, Membership, Role, User, UserSession, Workspace
from bpmlink.db.scoping import in_workspace


async def api_key(session: AsyncSession, key_hash: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


async def role(session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID) -> Role | None:
    """The user's role in the workspace; None when not a member."""
    value = await session.scalar(
        select(Membership.role).where(Membership.user_id == user_id, in_workspace(Membership, workspace_id))
    )
    return Role(value) if value else None


async def role_and_language(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> tuple[Role, str] | None:
    """The user's role in the workspace and their profile's language; None when not a member."""
    row = (
        await session.execute(
            select(Membership.role, User.language)
            .join(User, User.id == Membership.user_id)
            .where(Membership.user_id == user_id, in_workspace(Membership, workspace_id))
        )
    ).first()
    return (Role(row[0]), row[1]) if row else None


async def first_workspace(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    """The workspace the user joined first."""
    return await session.scalar(
        select(Membership.workspace_id).where(Membership.user_id == user_id).order_by(Membership.created_at).limit(1)
    )


async def workspaces_of(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[Workspace, Role]]:
    """Every workspace the user is a member of, with the user's role there, by name."""
    rows = await session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id)
        .order_by(Workspace.name)
    )
    return [(workspace, Role(value)) for workspace, value in rows.all()]


async def delete_expired_sessions(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id, UserSession.expires_at < now))


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.token_hash == token_hash))


async def end_sessions(session: AsyncSession, user_id: uuid.UUID, *, keep: str | None = None) -> None:
    """Every browser session of the user ends, but the one whose token hash is `keep`."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        statement = statement.where(UserSession.token_hash != keep)
    await session.execute(statement)
