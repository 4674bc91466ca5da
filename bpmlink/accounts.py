"""Users, workspaces, memberships and single-use link tokens, shared by the api and the CLI.

Link tokens (e-mail confirmation, password reset, invitation) are issued and consumed here
only. A token is 256 random bits; the database keeps its SHA-256. Consuming is one
`UPDATE … WHERE used_at IS NULL AND expires_at > now() RETURNING`, so of two concurrent
uses exactly one gets the row: the other waits for the first transaction's row lock, then
finds `used_at` set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import AccountToken, ApiKey, Membership, Role, TokenPurpose, User, UserSession, Workspace
from bpmlink.db.scoping import in_workspace
from bpmlink.kit.security import hash_password, hash_token, new_token
from bpmlink.kit.web import AppError, Conflict, NotFound


class InvalidToken(AppError):
    """A link token that is unknown, already used, revoked or expired (all look the same)."""

    status_code = 400
    code = "invalid_token"


class LastOwner(Conflict):
    code = "last_owner"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def find_user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


async def create_user(
    session: AsyncSession,
    email: str,
    password: str,
    name: str = "",
    *,
    language: str = "en",
    active: bool = True,
    email_confirmed: bool = False,
) -> User:
    user = User(
        email=normalize_email(email),
        name=name,
        password_hash=hash_password(password),
        language=language,
        is_active=active,
        email_confirmed_at=datetime.now(UTC) if email_confirmed else None,
    )
    session.add(user)
    await session.flush()
    return user


def adopt_browser_locale(user: User, language: str | None, timezone: str | None) -> None:
    """At login: what the browser says replaces what the profile was never set to (a choice is never overridden).

    `timezone` is trusted as a known IANA name (the caller checks); a missing value leaves the field waiting
    for a later login.
    """
    if language and not user.language_set:
        user.language, user.language_set = language, True
    if timezone and not user.timezone_set:
        user.timezone, user.timezone_set = timezone, True


def choose_locale(user: User, language: str | None, timezone: str | None) -> None:
    """The person's own choice (the profile): it wins over every browser from now on."""
    if language is not None:
        user.language, user.language_set = language, True
    if timezone is not None:
        user.timezone, user.timezone_set = timezone, True


def confirm_email(user: User) -> None:
    """The user proved the address (a link sent to it was used): an unconfirmed sign-up may log in."""
    if user.email_confirmed_at is None:
        user.email_confirmed_at = datetime.now(UTC)
        user.is_active = True


async def create_workspace(session: AsyncSession, name: str, owner: User) -> Workspace:
    workspace = Workspace(name=name)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.owner))
    await session.flush()
    return workspace


async def ensure_admin(
    session: AsyncSession, email: str, password: str, workspace_name: str = "Demo", *, language: str = "en"
) -> Workspace:
    """The first admin: created with a workspace if missing; the password is reset to the given one.

    `language` is where the profile starts (the demo's language) until its owner or their browser sets it.
    """
    user = await find_user(session, email)
    if user is None:
        user = await create_user(session, email, password, name="Admin", language=language)
    else:
        user.password_hash = hash_password(password)
        if not user.language_set:
            user.language = language
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


# Memberships. A workspace always keeps an owner. Its owners' rows are locked (in one order, so
# two such transactions cannot deadlock) before they are counted and before the member's row is
# touched: of two owners demoting each other at once, the second waits, then sees one owner left.


async def _lock_owners(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    owners = await session.scalars(
        select(Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.owner)
        .order_by(Membership.user_id)
        .with_for_update()
    )
    return len(owners.all())


async def _locked_membership(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Membership, int]:
    owners = await _lock_owners(session, workspace_id)
    membership = await session.get(Membership, (workspace_id, user_id), with_for_update=True, populate_existing=True)
    if membership is None:
        raise NotFound("member not found")
    return membership, owners


async def set_role(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> Role:
    """Change a member's role; returns the previous one. LastOwner when it would leave no owner."""
    membership, owners = await _locked_membership(session, workspace_id, user_id)
    previous = Role(membership.role)
    if previous == Role.owner and role != Role.owner and owners <= 1:
        raise LastOwner("a workspace keeps at least one owner: make someone else an owner first")
    membership.role = role
    await session.flush()
    return previous


async def remove_member(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> Role:
    """Remove a member; returns their role. LastOwner when it would leave no owner."""
    membership, owners = await _locked_membership(session, workspace_id, user_id)
    role = Role(membership.role)
    if role == Role.owner and owners <= 1:
        raise LastOwner("a workspace keeps at least one owner: make someone else an owner first")
    await session.delete(membership)
    # What the membership gave ends with it: a later invitation must not bring old credentials back.
    await revoke_api_keys(session, user_id, workspace_id=workspace_id)
    await session.execute(
        delete(UserSession).where(UserSession.user_id == user_id, in_workspace(UserSession, workspace_id))
    )
    await session.flush()
    return role


async def revoke_api_keys(session: AsyncSession, user_id: uuid.UUID, *, workspace_id: uuid.UUID | None = None) -> int:
    """Revoke the user's live API keys (of one workspace, or of all); returns how many."""
    statement = update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    if workspace_id is not None:
        statement = statement.where(in_workspace(ApiKey, workspace_id))
    result = await session.execute(statement.values(revoked_at=func.now()))
    return int(result.rowcount)  # type: ignore[attr-defined]


# Link tokens.


async def issue_token(
    session: AsyncSession,
    purpose: TokenPurpose,
    ttl: timedelta,
    *,
    user_id: uuid.UUID | None = None,
    invitation_id: uuid.UUID | None = None,
) -> tuple[str, AccountToken]:
    """A new token (returned once, for the link) and its row."""
    if user_id is not None:
        # The user's dead tokens go as new ones come, as sessions do at login.
        await session.execute(
            delete(AccountToken).where(
                AccountToken.user_id == user_id,
                (AccountToken.used_at.is_not(None)) | (AccountToken.expires_at < func.now()),
            )
        )
    token = new_token()
    row = AccountToken(
        purpose=purpose,
        token_hash=hash_token(token),
        user_id=user_id,
        invitation_id=invitation_id,
        expires_at=datetime.now(UTC) + ttl,
    )
    session.add(row)
    await session.flush()
    return token, row


def _usable(purpose: TokenPurpose, token: str) -> list[ColumnElement[bool]]:
    return [
        AccountToken.token_hash == hash_token(token),
        AccountToken.purpose == purpose,
        AccountToken.used_at.is_(None),
        AccountToken.expires_at > func.now(),
    ]


async def peek_token(session: AsyncSession, purpose: TokenPurpose, token: str) -> AccountToken:
    """The token's row without using it (a landing page shows what the link is for); InvalidToken otherwise."""
    row = await session.scalar(select(AccountToken).where(*_usable(purpose, token)))
    if row is None:
        raise InvalidToken("this link is invalid, was already used, or has expired")
    return row


async def consume_token(session: AsyncSession, purpose: TokenPurpose, token: str) -> AccountToken:
    """Use the token once, atomically; InvalidToken when it is unknown, used or expired.

    A rollback of the caller's transaction (e.g. the new password is refused) un-uses it.
    """
    statement = (
        update(AccountToken)
        .where(*_usable(purpose, token))
        .values(used_at=func.now())
        .returning(AccountToken)
        .execution_options(synchronize_session=False)
    )
    row = (await session.scalars(statement)).one_or_none()
    if row is None:
        raise InvalidToken("this link is invalid, was already used, or has expired")
    return row


async def void_tokens(session: AsyncSession, purpose: TokenPurpose, *, user_id: uuid.UUID) -> None:
    """Mark the user's unused tokens of this purpose used (a reset makes the other reset links useless)."""
    await session.execute(
        update(AccountToken)
        .where(AccountToken.user_id == user_id, AccountToken.purpose == purpose, AccountToken.used_at.is_(None))
        .values(used_at=func.now())
    )
