"""Users and workspaces, shared by the api and the CLI (which seeds the first admin)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Membership, Role, User, Workspace
from bpmlink.security import hash_password


async def find_user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


async def create_user(session: AsyncSession, email: str, password: str, name: str = "") -> User:
    user = User(email=email.strip().lower(), name=name, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    return user


async def create_workspace(session: AsyncSession, name: str, owner: User) -> Workspace:
    workspace = Workspace(name=name)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.owner))
    await session.flush()
    return workspace


async def ensure_admin(session: AsyncSession, email: str, password: str, workspace_name: str = "Demo") -> Workspace:
    """The first admin: created with a workspace if missing; the password is reset to the given one."""
    user = await find_user(session, email)
    if user is None:
        user = await create_user(session, email, password, name="Admin")
    else:
        user.password_hash = hash_password(password)
    workspace = await session.scalar(
        select(Workspace)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id, Membership.role == Role.owner)
        .order_by(Workspace.created_at)
        .limit(1)
    )
    if workspace is None:
        workspace = await create_workspace(session, workspace_name, user)
    return workspace
