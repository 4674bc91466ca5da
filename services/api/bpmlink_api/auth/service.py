"""Login and sessions, sign-up with e-mail confirmation, password reset and change, profile, workspace switch.

Failed logins and the public POSTs that send mail are counted in Redis and rate limited
(bpmlink_api.auth.ratelimit). Sign-up and forgotten-password answers do not tell whether an
address has an account.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts, audit
from bpmlink.db.models import Membership, TokenPurpose, User, UserSession
from bpmlink.kit import mail, passwords
from bpmlink.kit.messages import message
from bpmlink.kit.security import DUMMY_PASSWORD_HASH, hash_password, hash_token, new_token, verify_password
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import AppError, Forbidden, InvalidInput, NotFound, Unauthorized, Unavailable
from bpmlink_api.deps import RequestContext

from . import emails, ratelimit, repository
from .schemas import (
    AuthConfigOut,
    MeOut,
    PasswordForgotOut,
    ProfileIn,
    SignupIn,
    SignupOut,
    UserOut,
    WorkspaceOut,
    known_zone,
)

log = logging.getLogger("bpmlink.api.auth")


class SignupClosed(Forbidden):
    code = "signup_closed"


class EmailNotConfirmed(Forbidden):
    code = "email_not_confirmed"


class WrongPassword(AppError):
    status_code = 400
    code = "wrong_password"


def auth_config(settings: Settings) -> AuthConfigOut:
    smtp = mail.configured(settings)
    return AuthConfigOut(signup=settings.signup, email_confirmation=smtp, smtp=smtp)


async def open_session(
    session: AsyncSession, settings: Settings, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> tuple[str, UserSession]:
    """A new browser session in the workspace; returns (cookie token, session row)."""
    token = new_token()
    now = datetime.now(UTC)
    user_session = UserSession(
        token_hash=hash_token(token),
        user_id=user_id,
        workspace_id=workspace_id,
        csrf_token=new_token(24),
        expires_at=now + timedelta(hours=settings.session_ttl_hours),
    )
    session.add(user_session)
    # Expired sessions of this user are cleaned up as they log in again.
    await repository.delete_expired_sessions(session, user_id, now)
    await session.flush()
    return token, user_session


async def login(
    session: AsyncSession,
    redis: aioredis.Redis,
    settings: Settings,
    *,
    email: str,
    password: str,
    workspace_id: uuid.UUID | None,
    client_ip: str,
    browser_language: str | None = None,
    browser_timezone: str | None = None,
) -> tuple[str, UserSession]:
    """Check the password and open a session; returns (cookie token, session row).

    The browser's language and time zone fill a profile that never had them set (the first login).
    """
    email = accounts.normalize_email(email)
    limits = ratelimit.login_limits(settings, email, client_ip)
    # Counted before the hash runs, so concurrent guesses cannot exceed the limit.
    await ratelimit.take(redis, limits, "too many failed logins; try again later")
    user = await accounts.find_user(session, email)
    # Verify against a dummy hash for unknown users so the answer time does not reveal them.
    ok = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not ok or (not user.is_active and user.email_confirmed_at is not None):
        raise Unauthorized(message("wrong_email_or_password", "wrong email or password"))
    await ratelimit.give_back(redis, limits)
    if not user.is_active:
        raise EmailNotConfirmed(
            message(
                "email_not_confirmed", "confirm your e-mail address first: open the link in the message we sent you"
            )
        )
    if workspace_id:
        membership = await session.get(Membership, (workspace_id, user.id))
        if membership is None:
            raise Unauthorized(message("not_a_member", "not a member"))
    else:
        workspace_id = await repository.first_workspace(session, user.id)
        if workspace_id is None:
            raise Unauthorized(message("no_workspace", "you are not a member of any workspace"))
    accounts.adopt_browser_locale(user, browser_language, browser_timezone if known_zone(browser_timezone) else None)
    return await open_session(session, settings, user.id, workspace_id)


async def logout(session: AsyncSession, token_hash: str) -> None:
    await repository.delete_session(session, token_hash)


async def me(session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID) -> MeOut:
    user = await session.get(User, user_id)
    assert user is not None
    rows = await repository.workspaces_of(session, user_id)
    workspaces = [WorkspaceOut(id=ws.id, name=ws.name, role=role) for ws, role in rows]
    current = next(w for w in workspaces if w.id == workspace_id)
    return MeOut(
        user=UserOut(
            id=user.id,
            email=user.email,
            name=user.name,
            language=user.language,
            timezone=user.timezone,
        ),
        workspace=current,
        role=current.role,
        workspaces=workspaces,
    )


async def signup(
    session: AsyncSession, redis: aioredis.Redis, settings: Settings, body: SignupIn, client_ip: str, language: str
) -> SignupOut:
    """A new user with a workspace of their own. With SMTP the account waits for the e-mail confirmation.

    An address that already has an account gets the same answer after the same work, so neither the
    answer nor its time reveals accounts; with SMTP it also gets an e-mail saying so (with a
    password-reset link).
    """
    if settings.signup != "open":
        raise SignupClosed(
            message("signup_closed", "sign-up is closed on this server: ask a workspace owner for an invitation")
        )
    email = accounts.normalize_email(body.email)
    await _mail_rate(redis, settings, "signup", email, client_ip)
    passwords.check(body.password, email)
    confirmation = mail.configured(settings)
    existing = await accounts.find_user(session, email)
    if existing is not None:
        # The same answer after the same work (a password hash) as for a new address; the account is untouched.
        hash_password(body.password)
        if confirmation:
            await _send_quietly(session, settings, "already_registered", existing, language)
        return SignupOut(confirmation_required=confirmation)
    user = await accounts.create_user(
        session, email, body.password, body.name.strip(), language=body.language, active=not confirmation
    )
    workspace = await accounts.create_workspace(
        session, body.workspace_name or f"{user.name or user.email}'s workspace", user
    )
    await audit.record(
        session,
        workspace_id=workspace.id,
        user_id=user.id,
        via="session",
        action="created",
        entity_type="workspace",
        entity_id=workspace.id,
        entity_name=workspace.name,
        details={"signup": True},
    )
    if confirmation:
        token, row = await accounts.issue_token(
            session, TokenPurpose.confirm, timedelta(hours=settings.confirm_ttl_hours), user_id=user.id
        )
        link = emails.link(settings, emails.CONFIRM_PATH, token)
        # The sign-up form's language when it sent one, else the request's.
        chosen = body.language if "language" in body.model_fields_set else language
        await emails.send(settings, "confirm", user.email, chosen, link=link, expires_at=row.expires_at)
    return SignupOut(confirmation_required=confirmation)


async def confirm(session: AsyncSession, settings: Settings, token: str) -> tuple[str, UserSession]:
    """Use a confirmation link: the account becomes active and a session opens."""
    row = await accounts.consume_token(session, TokenPurpose.confirm, token)
    assert row.user_id is not None
    user = await session.get(User, row.user_id)
    assert user is not None
    accounts.confirm_email(user)
    workspace_id = await repository.first_workspace(session, user.id)
    if workspace_id is None:
        raise Unauthorized(message("no_workspace", "you are not a member of any workspace"))
    return await open_session(session, settings, user.id, workspace_id)


async def forgot_password(
    session: AsyncSession, redis: aioredis.Redis, settings: Settings, email: str, client_ip: str, language: str
) -> PasswordForgotOut:
    """E-mail a reset link if the address has an account; the answer is the same either way."""
    email = accounts.normalize_email(email)
    await _mail_rate(redis, settings, "forgot", email, client_ip)
    if not mail.configured(settings):
        return PasswordForgotOut(emailed=False)
    user = await accounts.find_user(session, email)
    if user is not None:
        await _send_quietly(session, settings, "reset", user, language)
    return PasswordForgotOut(emailed=True)


async def issue_reset_link(session: AsyncSession, settings: Settings, user: User) -> tuple[str, datetime]:
    """A new password-reset link for the user and when it expires."""
    token, row = await accounts.issue_token(
        session, TokenPurpose.reset, timedelta(hours=settings.reset_ttl_hours), user_id=user.id
    )
    return emails.link(settings, emails.RESET_PATH, token), row.expires_at


async def reset_password(
    session: AsyncSession,
    redis: aioredis.Redis,
    settings: Settings,
    token: str,
    password: str,
    *,
    revoke_api_keys: bool = False,
) -> None:
    """Use a reset link: the new password is set and every session of the user ends (and, when asked,
    every API key of the user)."""
    row = await accounts.consume_token(session, TokenPurpose.reset, token)
    assert row.user_id is not None
    user = await session.get(User, row.user_id)
    assert user is not None
    passwords.check(password, user.email)  # refused: the transaction rolls back and the link still works
    user.password_hash = hash_password(password)
    accounts.confirm_email(user)  # the link came to the address
    await accounts.void_tokens(session, TokenPurpose.reset, user_id=user.id)
    await repository.end_sessions(session, user.id)
    if revoke_api_keys:
        await accounts.revoke_api_keys(session, user.id)
    await session.flush()
    await ratelimit.reset(redis, ratelimit.account_limit(settings, user.email))


async def change_password(ctx: RequestContext, *, current_password: str, new_password: str, client_ip: str) -> None:
    """Set a new password; the user's other sessions end, this one stays."""
    session, redis, settings, actor = ctx.session, ctx.redis, ctx.settings, ctx.actor
    user = await session.get(User, actor.user_id)
    assert user is not None
    limits = ratelimit.login_limits(settings, user.email, client_ip)
    await ratelimit.take(redis, limits, "too many wrong passwords; try again later")
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword(
            message("current_password_wrong", "the current password is wrong"),
            details=[{"field": "current_password", "message": "wrong password"}],
        )
    await ratelimit.give_back(redis, limits)
    passwords.check(new_password, user.email, field="new_password")
    user.password_hash = hash_password(new_password)
    await repository.end_sessions(session, user.id, keep=actor.session_token_hash)
    await session.flush()


async def update_profile(ctx: RequestContext, body: ProfileIn) -> MeOut:
    session, actor = ctx.session, ctx.actor
    user = await session.get(User, actor.user_id)
    assert user is not None
    if body.name is not None:
        user.name = body.name.strip()
    accounts.choose_locale(user, body.language, body.timezone)
    await session.flush()
    return await me(session, actor.user_id, actor.workspace_id)


async def switch_workspace(ctx: RequestContext, workspace_id: uuid.UUID) -> MeOut:
    """Move the browser session to another workspace of the user: every later call works there."""
    session, actor = ctx.session, ctx.actor
    if actor.session_token_hash is None:
        raise InvalidInput(
            message(
                "switch_not_with_api_key", "an API key works in its own workspace; switching is for browser sessions"
            ),
            details=[{"field": "workspace_id", "message": "not with an API key"}],
        )
    if await session.get(Membership, (workspace_id, actor.user_id)) is None:
        raise NotFound(message("workspace_not_found", "workspace not found"))
    user_session = await session.get(UserSession, actor.session_token_hash)
    assert user_session is not None
    user_session.workspace_id = workspace_id
    await session.flush()
    return await me(session, actor.user_id, workspace_id)


async def _mail_rate(redis: aioredis.Redis, settings: Settings, kind: str, email: str, client_ip: str) -> None:
    limits = ratelimit.mail_limits(settings, kind, email, client_ip)
    await ratelimit.take(redis, limits, "too many requests for this address or from this network; try again later")


async def _send_quietly(
    session: AsyncSession, settings: Settings, kind: str, user: User, request_language: str
) -> None:
    """A reset link to an existing account, where the answer must not differ from the no-account one:
    a failed delivery is logged, not shown (the token stays unused and expires)."""
    link, expires_at = await issue_reset_link(session, settings, user)
    try:
        language = emails.language_for(user, request_language)
        await emails.send(settings, kind, user.email, language, link=link, expires_at=expires_at)
    except Unavailable:
        log.warning("a %s e-mail to an existing account was not sent", kind)
