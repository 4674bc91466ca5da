"""Dependencies as Annotated aliases, so a signature says who may call it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import redis.asyncio as aioredis
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import Role, UserSession
from bpmlink.events import enqueue_event
from bpmlink.kit.logs import bind_log_context
from bpmlink.kit.messages import DEFAULT_LANGUAGE, message
from bpmlink.kit.security import SecretBox, hash_token, tokens_equal
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import Forbidden, Unauthorized, request_language
from bpmlink_api.auth import repository as auth_repository

log = logging.getLogger("bpmlink.api")

SESSION_COOKIE = "bpmlink_session"
CSRF_COOKIE = "bpmlink_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LAST_USED_PRECISION = timedelta(minutes=1)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed when the endpoint returns and before the response
    is sent (function scope); then the jobs the request asked for are enqueued — never before
    the commit, so a worker never sees a row that is not there yet."""
    after_commit: list[Callable[[], Awaitable[None]]] = []
    request.state.after_commit = after_commit
    async with request.app.state.sessionmaker() as session:
        yield session
        await session.commit()
    for job in after_commit:
        try:
            await job()
        except Exception:  # Redis down: the event stays pending and the sweeper queues it
            log.warning("enqueue after commit failed; the sweeper will retry", exc_info=True)


class Jobs:
    """Jobs requested during the request, sent to Redis after the commit."""

    def __init__(self, request: Request) -> None:
        self._request = request

    def enqueue_event(self, event_id: uuid.UUID, job_suffix: str = "") -> None:
        pool = self._request.app.state.arq

        async def send() -> None:
            await enqueue_event(pool, event_id, job_suffix=job_suffix)

        self._request.state.after_commit.append(send)

    def enqueue(self, function: str, *args: Any, job_id: str) -> None:
        pool = self._request.app.state.arq

        async def send() -> None:
            await pool.enqueue_job(function, *args, _job_id=job_id)

        self._request.state.after_commit.append(send)


async def _jobs(request: Request, _: Annotated[AsyncSession, Depends(_session, scope="function")]) -> Jobs:
    return Jobs(request)


async def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def _redis(request: Request) -> aioredis.Redis:
    client: aioredis.Redis = request.app.state.redis
    return client


async def _secret_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


SessionDep = Annotated[AsyncSession, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(_settings)]
RedisDep = Annotated[aioredis.Redis, Depends(_redis)]
SecretBoxDep = Annotated[SecretBox, Depends(_secret_box)]
JobsDep = Annotated[Jobs, Depends(_jobs)]


@dataclass(frozen=True)
class Actor:
    """Who is calling: a user acting in one workspace with one role, by cookie or API key."""

    user_id: uuid.UUID
    workspace_id: uuid.UUID
    role: Role
    via: str  # "session" | "api_key"
    session_token_hash: str | None = None

    @property
    def can_write(self) -> bool:
        return self.role in (Role.owner, Role.editor)


def _logged(actor: Actor) -> Actor:
    bind_log_context(workspace_id=actor.workspace_id)  # every log line of this request names its workspace
    return actor


async def _actor(request: Request, session: SessionDep) -> Actor:
    now = datetime.now(UTC)
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized(message("bearer_expected", "use Authorization: Bearer <api key>"))
        key = await auth_repository.api_key(session, hash_token(token.strip()))
        if key is None or key.revoked_at is not None:
            raise Unauthorized(message("api_key_invalid", "invalid or revoked API key"))
        member = await auth_repository.role_and_language(session, key.user_id, key.workspace_id)
        if member is None:
            raise Unauthorized(message("api_key_user_left", "the key's user is no longer a member of its workspace"))
        role, language = member
        if not request.headers.get("accept-language"):  # a key's client that asks for a language gets it
            request.state.language = language
        # Shown as "last used" in minutes: a write per request would turn every read into a commit.
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
            key.last_used_at = now
        return _logged(Actor(key.user_id, key.workspace_id, role, "api_key"))

    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized(message("not_logged_in", "not logged in"))
    token_hash = hash_token(cookie)
    user_session = await session.get(UserSession, token_hash)
    if user_session is None or user_session.expires_at <= now:
        raise Unauthorized(message("session_expired", "session expired; log in again"))
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not tokens_equal(sent, user_session.csrf_token):
            raise Forbidden(
                message("csrf_failed", "missing or wrong X-CSRF-Token header"), details={"code": "csrf_failed"}
            )
    member = await auth_repository.role_and_language(session, user_session.user_id, user_session.workspace_id)
    if member is None:
        raise Unauthorized(message("not_a_member_any_more", "no longer a member of this workspace"))
    role, request.state.language = member  # the errors of this request speak the profile's language
    return _logged(Actor(user_session.user_id, user_session.workspace_id, role, "session", token_hash))


async def _writer(actor: Annotated[Actor, Depends(_actor)]) -> Actor:
    if not actor.can_write:
        raise Forbidden(message("role_read_only", "your role can only read in this workspace"))
    return actor


async def _owner(actor: Annotated[Actor, Depends(_actor)]) -> Actor:
    if actor.role != Role.owner:
        raise Forbidden(message("owner_only", "only the workspace owner can do this"))
    return actor


CurrentActor = Annotated[Actor, Depends(_actor)]
EditorActor = Annotated[Actor, Depends(_writer)]
OwnerActor = Annotated[Actor, Depends(_owner)]


@dataclass(frozen=True)
class RequestContext:
    """What a service needs from the request, made once per request: one argument instead of six.

    The session is the request's (committed by `_session`), jobs are sent after that commit."""

    session: AsyncSession
    settings: Settings
    box: SecretBox
    redis: aioredis.Redis
    actor: Actor
    jobs: Jobs
    language: str = DEFAULT_LANGUAGE  # the reader's, for words the answer carries (a connection test)

    @property
    def workspace_id(self) -> uuid.UUID:
        return self.actor.workspace_id


async def _context(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    box: SecretBoxDep,
    redis: RedisDep,
    actor: CurrentActor,
    jobs: JobsDep,
) -> RequestContext:
    return RequestContext(session, settings, box, redis, actor, jobs, request_language(request))


Context = Annotated[RequestContext, Depends(_context)]


async def _editor_context(context: Context, _: EditorActor) -> RequestContext:
    return context


async def _owner_context(context: Context, _: OwnerActor) -> RequestContext:
    return context


# Who may call, as with the actors: any member, an owner or editor, the owner.
EditorContext = Annotated[RequestContext, Depends(_editor_context)]
OwnerContext = Annotated[RequestContext, Depends(_owner_context)]
