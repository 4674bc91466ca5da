"""The caller's workspace: its name and where incident notifications go."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bpmlink.audit import changed_fields
from bpmlink.db.models import Workspace
from bpmlink.notifications import NotificationSettings
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import CurrentActor, OwnerActor, SessionDep

router = APIRouter(prefix="/api/v1/workspace", tags=["workspace"])


class WorkspaceSettings(BaseModel):
    id: uuid.UUID
    name: str
    notifications: NotificationSettings


class WorkspacePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    notifications: NotificationSettings | None = None


def _out(workspace: Workspace) -> WorkspaceSettings:
    return WorkspaceSettings(
        id=workspace.id,
        name=workspace.name,
        notifications=NotificationSettings.model_validate(workspace.notifications or {}),
    )


@router.get("", operation_id="getWorkspace")
async def get_workspace(actor: CurrentActor, session: SessionDep) -> WorkspaceSettings:
    workspace = await session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    return _out(workspace)


@router.patch("", operation_id="updateWorkspace")
async def update_workspace(body: WorkspacePatch, actor: OwnerActor, session: SessionDep) -> WorkspaceSettings:
    workspace = await session.get(Workspace, actor.workspace_id)
    assert workspace is not None
    name = body.name if body.name is not None else workspace.name
    before = _out(workspace).notifications.model_dump(mode="json")  # with defaults, as the new value has them
    notifications = body.notifications.model_dump(mode="json") if body.notifications else workspace.notifications
    # Names only: a chat webhook URL is a credential.
    changed = changed_fields({"name": workspace.name}, {"name": name})
    if body.notifications is not None:
        changed += changed_fields(before, notifications, "notifications.")
    details: dict[str, Any] = {"changed": changed}
    if name != workspace.name:
        details["previous_name"] = workspace.name
    workspace.name = name
    workspace.notifications = notifications
    if changed:
        await record_audit(session, actor, "updated", "workspace", workspace.id, workspace.name, details)
    await session.flush()
    await session.refresh(workspace)
    return _out(workspace)
