"""Members of a workspace: list, change role, remove, and a password-reset link for one.

New members come through invitations (bpmlink_api.invitations); the last-owner rule lives in
bpmlink.accounts.
"""

from __future__ import annotations

import uuid

from bpmlink import accounts
from bpmlink.db.models import Role, User
from bpmlink.kit import mail
from bpmlink.kit.messages import message
from bpmlink.kit.web import Forbidden, NotFound
from bpmlink_api.audit.service import record_audit
from bpmlink_api.auth import emails
from bpmlink_api.auth.service import issue_reset_link
from bpmlink_api.deps import RequestContext

from . import repository
from .schemas import MemberOut, ResetLinkOut


async def list_members(ctx: RequestContext) -> list[MemberOut]:
    rows = await repository.members(ctx.session, ctx.workspace_id)
    return [MemberOut(id=u.id, email=u.email, name=u.name, role=r) for u, r in rows]


async def _member(ctx: RequestContext, user_id: uuid.UUID) -> User:
    user = await repository.member(ctx.session, ctx.workspace_id, user_id)
    if user is None:
        raise NotFound(message("member_not_found", "member not found"))
    return user


async def change_role(ctx: RequestContext, user_id: uuid.UUID, role: Role) -> None:
    session, actor = ctx.session, ctx.actor
    user = await _member(ctx, user_id)
    previous = await accounts.set_role(session, actor.workspace_id, user_id, role)
    if previous != role:
        details = {"from": previous.value, "to": role.value}
        await record_audit(session, actor, "role_changed", "member", user.id, user.email, details)


async def remove_member(ctx: RequestContext, user_id: uuid.UUID) -> None:
    session, actor = ctx.session, ctx.actor
    user = await _member(ctx, user_id)
    role = await accounts.remove_member(session, actor.workspace_id, user_id)
    await record_audit(session, actor, "removed", "member", user.id, user.email, {"role": role.value})


async def reset_link(ctx: RequestContext, user_id: uuid.UUID) -> ResetLinkOut:
    """With SMTP the member gets the link by e-mail. Without, the owner gets it to pass on — only for a
    user all of whose workspaces the owner owns too: a link is the account, in every workspace it is in."""
    settings = ctx.settings
    user = await _member(ctx, user_id)
    emailed = mail.configured(settings)
    if not emailed:
        elsewhere = await repository.workspace_not_owned_by(ctx.session, user.id, ctx.actor.user_id)
        if elsewhere is not None:
            raise Forbidden(
                message(
                    "member_of_other_workspaces",
                    "this user is also a member of workspaces you do not own: they reset their password themselves",
                ),
                details={"code": "member_of_other_workspaces"},
            )
    link, expires_at = await issue_reset_link(ctx.session, settings, user)
    if emailed:
        language = emails.language_for(user, ctx.language)
        await emails.send(settings, "reset", user.email, language, link=link, expires_at=expires_at)
    return ResetLinkOut(link=None if emailed else link, emailed=emailed, expires_at=expires_at)
