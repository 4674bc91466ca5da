from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from bpmlink_api.deps import OwnerContext

from . import service
from .schemas import InvitationIn, InvitationList, InvitationOut

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"])


@router.get("", operation_id="listInvitations")
async def list_invitations(ctx: OwnerContext) -> InvitationList:
    return InvitationList(items=await service.list_pending(ctx))


@router.post("", operation_id="createInvitation", status_code=201)
async def create_invitation(body: InvitationIn, ctx: OwnerContext) -> InvitationOut:
    return await service.create(ctx, email=body.email, role=body.role)


@router.delete("/{invitation_id}", operation_id="revokeInvitation", status_code=204)
async def revoke_invitation(invitation_id: uuid.UUID, ctx: OwnerContext) -> Response:
    await service.revoke(ctx, invitation_id)
    return Response(status_code=204)
