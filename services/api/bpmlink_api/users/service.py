"""Members of a workspace. Creating a member creates the user if the email is new."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts
from bpmlink.db.models import Membership, Role, User
from bpmlink.web import Conflict, InvalidInput, NotFound

from .schemas import MemberOut


async def list_members(session: AsyncSession, workspace_id: uuid.UUID) -> list[MemberOut]:
    rows = (
        await session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.workspace_id == workspace_id)
            .order_by(User.email)
        )
    ).all()
    return [MemberOut(id=u.id, email=u.email, name=u.name, role=Role(r)) for u, r in rows]


async def ensure_user(session: AsyncSession, email: str, password: str | None, name: str = "") -> User:
    user = await accounts.find_user(session, email)
    if user is None:
        if not password:
            raise InvalidInput(
                "a new user needs a password", details=[{"field": "password", "message": "required for a new user"}]
            )
        user = await accounts.create_user(session, email, password, name)
    return user


async def add_member(
    session: AsyncSession, workspace_id: uuid.UUID, *, email: str, password: str | None, name: str, role: Role
) -> MemberOut:
    user = await ensure_user(session, email, password, name)
    if await session.get(Membership, (workspace_id, user.id)):
        raise Conflict("this user is already a member", details=[{"field": "email", "message": "already a member"}])
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=role))
    await session.flush()
    return MemberOut(id=user.id, email=user.email, name=user.name, role=role)


async def _membership(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Membership:
    membership = await session.get(Membership, (workspace_id, user_id))
    if membership is None:
        raise NotFound("member not found")
    return membership


async def _owners(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(Membership.workspace_id == workspace_id, Membership.role == Role.owner)
    )
    return int(count or 0)


async def change_role(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> None:
    membership = await _membership(session, workspace_id, user_id)
    if membership.role == Role.owner and role != Role.owner and await _owners(session, workspace_id) == 1:
        raise Conflict("a workspace keeps at least one owner")
    membership.role = role
    await session.flush()


async def remove_member(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> None:
    membership = await _membership(session, workspace_id, user_id)
    if membership.role == Role.owner and await _owners(session, workspace_id) == 1:
        raise Conflict("a workspace keeps at least one owner")
    await session.delete(membership)
    await session.flush()
