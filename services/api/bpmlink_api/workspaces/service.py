"""Workspaces: the caller's own (its name and where incident notifications go), and creating another
one owned by the caller — a browser session moves to it, an API key stays in its own."""

from __future__ import annotations

from typing import Any

from bpmlink import accounts, audit
from bpmlink.audit import changed_fields
from bpmlink.db.models import Role, User, UserSession, Workspace
from bpmlink.kit.messages import message
from bpmlink.kit.web import Forbidden
from bpmlink.notifications import NotificationSettings
from bpmlink_api.audit.service import record_audit
from bpmlink_api.auth.schemas import MeOut
from bpmlink_api.auth.service import me
from bpmlink_api.deps import RequestContext

from .schemas import RetrySchedule, WorkspacePatch, WorkspaceSettings


def _out(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings(
        id=workspace.id,
        name=workspace.name,
        notifications=NotificationSettings.model_validate(workspace.notifications or {}),
        retry_schedule=RetrySchedule.model_validate(workspace.retry_schedule or {}),
    )


async def _current(ctx: RequestContext) -> Workspace:
    workspace = await ctx.session.get(Workspace, ctx.workspace_id)
    assert workspace is not None
    return workspace


async def get_settings(ctx: RequestContext) -> WorkspaceSettings:
    return _out(await _current(ctx))


async def update_settings(ctx: RequestContext, body: WorkspacePatch) -> WorkspaceSettings:
    workspace = await _current(ctx)
    name = body.name if body.name is not None else workspace.name
    before = _out(workspace).notifications.model_dump(mode="json")  # with defaults, as the new value has them
    notifications = body.notifications.model_dump(mode="json") if body.notifications else workspace.notifications
    # Names only: a chat webhook URL is a credential.
    changed = changed_fields({"name": workspace.name}, {"name": name})
    if body.notifications is not None:
        changed += changed_fields(before, notifications, "notifications.")
    if body.retry_schedule is not None:
        schedule = body.retry_schedule.model_dump(mode="json")
        changed += changed_fields(_out(workspace).retry_schedule.model_dump(mode="json"), schedule, "retry_schedule.")
        workspace.retry_schedule = schedule
    details: dict[str, Any] = {"changed": changed}
    if name != workspace.name:
        details["previous_name"] = workspace.name
    workspace.name = name
    workspace.notifications = notifications
    if changed:
        await record_audit(ctx.session, ctx.actor, "updated", "workspace", workspace.id, workspace.name, details)
    await ctx.session.flush()
    await ctx.session.refresh(workspace)
    return _out(workspace)


class WorkspaceCreationClosed(Forbidden):
    code = "workspace_creation_closed"


async def create(ctx: RequestContext, name: str) -> MeOut:
    """A new workspace owned by the caller. Anyone may when sign-up is open (they could sign up for one);
    otherwise only an owner of the current workspace, so an invited viewer cannot grow the server."""
    session, actor = ctx.session, ctx.actor
    if ctx.settings.signup != "open" and actor.role != Role.owner:
        raise WorkspaceCreationClosed(
            message(
                "workspace_creation_closed",
                f"only workspace owners create workspaces on this server (BPMLINK_SIGNUP={ctx.settings.signup})",
                signup=ctx.settings.signup,
            ),
            details={"signup": ctx.settings.signup},
        )
    user = await session.get(User, actor.user_id)
    assert user is not None
    workspace = await accounts.create_workspace(session, name.strip() or name, user)
    # Recorded in the new workspace: that is where its owners read the log.
    await audit.record(
        session,
        workspace_id=workspace.id,
        user_id=actor.user_id,
        via=actor.via,
        action="created",
        entity_type="workspace",
        entity_id=workspace.id,
        entity_name=workspace.name,
    )
    current = actor.workspace_id
    if actor.session_token_hash is not None:
        user_session = await session.get(UserSession, actor.session_token_hash)
        assert user_session is not None
        user_session.workspace_id = current = workspace.id
        await session.flush()
    return await me(session, actor.user_id, current)
