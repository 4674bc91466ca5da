"""Invitations: an owner invites an e-mail address with a role; the single-use link joins the workspace.

With SMTP the link is e-mailed; without, it is returned once to the owner to pass on.
Accepting creates the account (the link proves the address) or, for an address that has
one, checks its password (failures count as failed logins). BPMLINK_SIGNUP=closed turns
invitations off: none are created, and none creates an account.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import accounts, audit
from bpmlink.db.models import AccountToken, Invitation, Membership, Role, TokenPurpose, User, UserSession, Workspace
from bpmlink.kit import mail, passwords
from bpmlink.kit.messages import message
from bpmlink.kit.security import verify_password
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import Conflict, NotFound, Unauthorized
from bpmlink_api.audit.service import record_audit
from bpmlink_api.auth import emails, ratelimit
from bpmlink_api.auth.service import SignupClosed, open_session
from bpmlink_api.deps import RequestContext

from . import repository
from .schemas import InvitationAcceptIn, InvitationOut, InvitationPreviewOut


def _who(user: User | None) -> str:
    return (user.name or user.email) if user else ""


def _out(invitation: Invitation, expires_at: datetime, inviter: User | None, link: str | None = None) -> InvitationOut:
    return InvitationOut(
        id=invitation.id,
        email=invitation.email,
        role=Role(invitation.role),
        created_at=invitation.created_at,
        expires_at=expires_at,
        invited_by=_who(inviter),
        emailed=invitation.emailed_at is not None,
        link=link,
    )


async def list_pending(ctx: RequestContext) -> list[InvitationOut]:
    rows = await repository.pending(ctx.session, ctx.workspace_id)
    return [_out(invitation, expires_at, inviter) for invitation, expires_at, inviter in rows]


async def _void(session: AsyncSession, invitation: Invitation) -> None:
    invitation.revoked_at = datetime.now(UTC)
    await repository.use_up_links(session, invitation.id)


async def create(ctx: RequestContext, *, email: str, role: Role) -> InvitationOut:
    """A new invitation; an older pending one for the same address is revoked (its link stops working)."""
    session, settings, actor = ctx.session, ctx.settings, ctx.actor
    if settings.signup == "closed":
        raise SignupClosed(
            message("invitations_closed", "invitations are turned off on this server (BPMLINK_SIGNUP=closed)")
        )
    email = accounts.normalize_email(email)
    existing = await accounts.find_user(session, email)
    if existing is not None and await session.get(Membership, (actor.workspace_id, existing.id)) is not None:
        raise Conflict(
            message("already_member", "this address is already a member of the workspace"),
            details=[{"field": "email", "message": "already a member"}],
        )
    for older, _, _ in await repository.pending(session, actor.workspace_id, email=email):
        await _void(session, older)
        await record_audit(session, actor, "revoked", "invitation", older.id, older.email, {"replaced": True})
    invitation = Invitation(workspace_id=actor.workspace_id, email=email, role=role, invited_by_id=actor.user_id)
    session.add(invitation)
    await session.flush()
    token, row = await accounts.issue_token(
        session, TokenPurpose.invite, timedelta(hours=settings.invitation_ttl_hours), invitation_id=invitation.id
    )
    link = emails.link(settings, emails.INVITE_PATH, token)
    inviter = await session.get(User, actor.user_id)
    workspace = await session.get(Workspace, actor.workspace_id)
    assert inviter is not None and workspace is not None
    if mail.configured(settings):
        await emails.send(
            settings,
            "invite",
            email,
            emails.language_for(existing, ctx.language),  # a new address: the inviter's request language
            link=link,
            expires_at=row.expires_at,
            inviter=_who(inviter),
            workspace=workspace.name,
            role=emails.role_words(role.value),
        )
        invitation.emailed_at = datetime.now(UTC)
    await record_audit(session, actor, "invited", "invitation", invitation.id, email, {"role": role.value})
    await session.flush()
    await session.refresh(invitation)
    return _out(invitation, row.expires_at, inviter, None if invitation.emailed_at else link)


async def revoke(ctx: RequestContext, invitation_id: uuid.UUID) -> None:
    invitation = await repository.get(ctx.session, ctx.workspace_id, invitation_id)
    if invitation is None:
        raise NotFound(message("invitation_not_found", "invitation not found"))
    if invitation.accepted_at is None and invitation.revoked_at is None:
        await _void(ctx.session, invitation)
        await record_audit(ctx.session, ctx.actor, "revoked", "invitation", invitation.id, invitation.email)
    await ctx.session.flush()


async def _invitation_of(session: AsyncSession, row: AccountToken) -> Invitation:
    assert row.invitation_id is not None
    invitation = await session.get(Invitation, row.invitation_id)
    assert invitation is not None
    return invitation


async def preview(session: AsyncSession, token: str) -> InvitationPreviewOut:
    """What the link is for, without using it."""
    row = await accounts.peek_token(session, TokenPurpose.invite, token)
    invitation = await _invitation_of(session, row)
    workspace = await session.get(Workspace, invitation.workspace_id)
    assert workspace is not None
    inviter = await session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    return InvitationPreviewOut(
        workspace_name=workspace.name,
        email=invitation.email,
        role=Role(invitation.role),
        invited_by=_who(inviter),
        account_exists=await accounts.find_user(session, invitation.email) is not None,
        expires_at=row.expires_at,
    )


async def accept(
    session: AsyncSession,
    redis: aioredis.Redis,
    settings: Settings,
    token: str,
    body: InvitationAcceptIn,
    *,
    client_ip: str,
) -> tuple[str, UserSession]:
    """Use the link: join the workspace (creating the account if needed) and open a session there.

    Any failure (wrong or weak password) rolls the transaction back, so the link still works.
    """
    row = await accounts.consume_token(session, TokenPurpose.invite, token)
    invitation = await _invitation_of(session, row)
    user = await accounts.find_user(session, invitation.email)
    if user is not None:
        limits = ratelimit.login_limits(settings, user.email, client_ip)
        await ratelimit.take(redis, limits, "too many failed logins; try again later")
        if not verify_password(user.password_hash, body.password):
            raise Unauthorized(
                message("wrong_password_existing_account", "wrong password for the existing account"),
                details=[{"field": "password", "message": "wrong password"}],
            )
        await ratelimit.give_back(redis, limits)
        accounts.confirm_email(user)
    else:
        if settings.signup == "closed":
            raise SignupClosed(
                message("new_accounts_closed", "new accounts are turned off on this server (BPMLINK_SIGNUP=closed)")
            )
        passwords.check(body.password, invitation.email)
        user = await accounts.create_user(
            session,
            invitation.email,
            body.password,
            (body.name or "").strip(),
            language=body.language or "en",
            email_confirmed=True,
        )
    if await session.get(Membership, (invitation.workspace_id, user.id)) is None:
        session.add(Membership(workspace_id=invitation.workspace_id, user_id=user.id, role=invitation.role))
        await audit.record(
            session,
            workspace_id=invitation.workspace_id,
            user_id=user.id,
            via="session",
            action="joined",
            entity_type="member",
            entity_id=user.id,
            entity_name=user.email,
            details={"role": invitation.role, "invitation_id": str(invitation.id)},
        )
    invitation.accepted_at = datetime.now(UTC)
    await session.flush()
    return await open_session(session, settings, user.id, invitation.workspace_id)
