"""Login, logout and who-am-I. Failed logins are counted in Redis and rate limited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Membership, User, UserSession, Workspace
from bpmlink.security import DUMMY_PASSWORD_HASH, hash_token, new_token, verify_password
from bpmlink.settings import Settings
from bpmlink.web import TooManyRequests, Unauthorized

from .schemas import MeOut, UserOut, WorkspaceOut


def _limit_keys(email: str, client_ip: str) -> list[str]:
    return [f"bpmlink:login-fail:email:{email}", f"bpmlink:login-fail:ip:{client_ip}"]


async def _check_rate(redis: aioredis.Redis, keys: list[str], settings: Settings) -> None:
    counts = await redis.mget(keys)
    if any(c is not None and int(c) >= settings.login_max_attempts for c in counts):
        ttl = max([await redis.ttl(k) for k in keys] + [1])
        raise TooManyRequests("too many failed logins; try again later", headers={"Retry-After": str(ttl)})


async def _count_failure(redis: aioredis.Redis, keys: list[str], settings: Settings) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in keys:
            # SET NX EX starts the window on the first failure (EXPIRE NX needs Redis 7).
            pipe.set(key, 0, ex=settings.login_window_seconds, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def login(
    session: AsyncSession,
    redis: aioredis.Redis,
    settings: Settings,
    *,
    email: str,
    password: str,
    workspace_id: uuid.UUID | None,
    client_ip: str,
) -> tuple[str, UserSession]:
    """Check the password and open a session; returns (cookie token, session row)."""
    email = email.strip().lower()
    keys = _limit_keys(email, client_ip)
    await _check_rate(redis, keys, settings)
    user = await session.scalar(select(User).where(func.lower(User.email) == email))
    # Verify against a dummy hash for unknown users so the answer time does not reveal them.
    ok = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not ok or not user.is_active:
        await _count_failure(redis, keys, settings)
        raise Unauthorized("wrong email or password")
    membership_query = select(Membership).where(Membership.user_id == user.id)
    if workspace_id:
        membership_query = membership_query.where(Membership.workspace_id == workspace_id)
    membership = await session.scalar(membership_query.order_by(Membership.created_at).limit(1))
    if membership is None:
        raise Unauthorized("you are not a member of any workspace" if not workspace_id else "not a member")
    await redis.delete(keys[0])
    token = new_token()
    now = datetime.now(UTC)
    user_session = UserSession(
        token_hash=hash_token(token),
        user_id=user.id,
        workspace_id=membership.workspace_id,
        csrf_token=new_token(24),
        expires_at=now + timedelta(hours=settings.session_ttl_hours),
    )
    session.add(user_session)
    # Expired sessions of this user are cleaned up as they log in again.
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at < now))
    await session.flush()
    return token, user_session


async def logout(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.token_hash == token_hash))


async def me(session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID) -> MeOut:
    user = await session.get(User, user_id)
    assert user is not None
    rows = (
        await session.execute(
            select(Workspace, Membership.role)
            .join(Membership, Membership.workspace_id == Workspace.id)
            .where(Membership.user_id == user_id)
            .order_by(Workspace.name)
        )
    ).all()
    workspaces = [WorkspaceOut(id=ws.id, name=ws.name, role=role) for ws, role in rows]
    current = next(w for w in workspaces if w.id == workspace_id)
    return MeOut(
        user=UserOut(id=user.id, email=user.email, name=user.name),
        workspace=current,
        role=current.role,
        workspaces=workspaces,
    )
