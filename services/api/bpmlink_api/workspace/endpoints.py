"""The caller's workspace: its name and where incident notifications go."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bpmlink.db.models import Workspace
from bpmlink.notifications import NotificationSettings
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
    if body.name is not None:
        workspace.name = body.name
    if body.notifications is not None:
        workspace.notifications = body.notifications.model_dump(mode="json")
    await session.flush()
    await session.refresh(workspace)
    return _out(workspace)
