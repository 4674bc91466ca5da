from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from bpmlink_api.deps import Context, EditorContext

from . import service
from .schemas import ApiKeyCreated, ApiKeyIn, ApiKeyList, ApiKeyOut

router = APIRouter(prefix="/api/v1/api-keys", tags=["api-keys"])


@router.get("", operation_id="listApiKeys")
async def list_api_keys(ctx: Context) -> ApiKeyList:
    rows = await service.list_keys(ctx)
    return ApiKeyList(items=[ApiKeyOut.model_validate(r, from_attributes=True) for r in rows])


@router.post("", operation_id="createApiKey", status_code=201)
async def create_api_key(body: ApiKeyIn, ctx: EditorContext) -> ApiKeyCreated:
    row, key = await service.create(ctx, body.name)
    return ApiKeyCreated(id=row.id, name=row.name, key=key)


@router.delete("/{key_id}", operation_id="revokeApiKey", status_code=204)
async def revoke_api_key(key_id: uuid.UUID, ctx: EditorContext) -> Response:
    await service.revoke(ctx, key_id)
    return Response(status_code=204)
