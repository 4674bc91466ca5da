from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from bpmlink_api.deps import Context, OwnerContext

from . import service
from .schemas import MemberList, ResetLinkOut, RoleIn

router = APIRouter(prefix="/api/v1/users", tags=["users"])


@router.get("", operation_id="listUsers")
async def list_users(ctx: Context) -> MemberList:
    return MemberList(items=await service.list_members(ctx))


@router.patch("/{user_id}", operation_id="changeUserRole", status_code=204)
async def change_role(user_id: uuid.UUID, body: RoleIn, ctx: OwnerContext) -> Response:
    await service.change_role(ctx, user_id, body.role)
    return Response(status_code=204)


@router.delete("/{user_id}", operation_id="removeUser", status_code=204)
async def remove_user(user_id: uuid.UUID, ctx: OwnerContext) -> Response:
    await service.remove_member(ctx, user_id)
    return Response(status_code=204)


@router.post("/{user_id}/reset-link", operation_id="createResetLink", status_code=201)
async def create_reset_link(user_id: uuid.UUID, ctx: OwnerContext) -> ResetLinkOut:
    return await service.reset_link(ctx, user_id)
