"""`/api/v1/workspace`: the caller's workspace; `/api/v1/workspaces`: creating another one."""

from __future__ import annotations

from fastapi import APIRouter

from bpmlink_api.auth.schemas import MeOut
from bpmlink_api.deps import Context, OwnerContext

from . import service
from .schemas import WorkspaceIn, WorkspacePatch, WorkspaceSettings

current_router = APIRouter(prefix="/api/v1/workspace", tags=["workspace"])
router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


@current_router.get("", operation_id="getWorkspace")
async def get_workspace(ctx: Context) -> WorkspaceSettings:
    return await service.get_settings(ctx)


@current_router.patch("", operation_id="updateWorkspace")
async def update_workspace(body: WorkspacePatch, ctx: OwnerContext) -> WorkspaceSettings:
    return await service.update_settings(ctx, body)


@router.post("", operation_id="createWorkspace", status_code=201)
async def create_workspace(body: WorkspaceIn, ctx: Context) -> MeOut:
    return await service.create(ctx, body.name)
