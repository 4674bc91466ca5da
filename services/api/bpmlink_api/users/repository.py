"""Queries on the members of a workspace: the only place they are written, each through the workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Membership, Role, User
from bpmlink.db.scoping import in_workspace


async def members(session: AsyncSession, workspace_id: uuid.UUID) -> list[tuple[User, Role]]:
    """The workspace's members with their roles, by e-mail address."""
    rows = await session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(in_workspace(Membership, workspace_id))
        .order_by(User.email)
    )
    return [(user, Role(value)) for user, value in rows.all()]


async def member(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
    return await session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(in_workspace(Membership, workspace_id), Membership.user_id == user_id)
    )


async def workspace_not_owned_by(session: AsyncSession, user_id: uuid.UUID, owner_id: uuid.UUID) -> uuid.UUID | None:
    """A workspace the user is a member of where `owner_id` is not an owner, if there is one."""
    return await session.scalar(
        select(Membership.workspace_id)
        .where(Membership.user_id == user_id)
        .except_(select(Membership.workspace_id).where(Membership.user_id == owner_id, Membership.role == Role.owner))
        .limit(1)
    )
