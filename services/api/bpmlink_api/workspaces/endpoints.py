"""Creating another workspace (the caller's own workspace settings are in bpmlink_api.workspace)."""

from __future__ import annotations

from fastapi import APIRouter

from bpmlink_api.auth.schemas import MeOut
from bpmlink_api.deps import CurrentActor, SessionDep

from . import service
from .schemas import WorkspaceIn

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@router.post("", operation_id="createWorkspace", status_code=201)
async def create_workspace(body: WorkspaceIn, actor: CurrentActor, session: SessionDep) -> MeOut:
    return await service.create(session, actor, body.name)
