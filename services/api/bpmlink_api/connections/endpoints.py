from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink.kit.messages import pick_language
from bpmlink_api.deps import Context, EditorContext
from bpmlink_api.users import repository as users

from . import service
from .lookup_values import MAX_VALUES, LookupValues, lookup_values
from .schemas import (
    ConnectionIn,
    ConnectionList,
    ConnectionOut,
    ConnectionPatch,
    EntityList,
    EntityOut,
    TestResult,
)

router = APIRouter(prefix="/api/v1/connections", tags=["connections"])
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


async def _language(ctx: Context, accept_language: Annotated[str | None, Header()] = None) -> str:
    """The reader's language: their profile's once chosen (or taken from their browser), else Accept-Language's."""
    user = await users.member(ctx.session, ctx.workspace_id, ctx.actor.user_id)
    return pick_language(accept_language, user.language if user and user.language_set else None)


Language = Annotated[str, Depends(_language)]


@router.get("", operation_id="listConnections")
async def list_connections(ctx: Context, cursor: str | None = None, limit: int = Limit) -> ConnectionList:
    items, next_cursor = await service.list_connections(ctx, cursor, limit)
    return ConnectionList(items=items, next_cursor=next_cursor)


@router.post("", operation_id="createConnection", status_code=201)
async def create_connection(body: ConnectionIn, ctx: EditorContext) -> ConnectionOut:
    return await service.create(ctx, body)


@router.get("/{connection_id}", operation_id="getConnection")
async def get_connection(connection_id: uuid.UUID, ctx: Context) -> ConnectionOut:
    return await service.get(ctx, connection_id)


@router.patch("/{connection_id}", operation_id="updateConnection")
async def update_connection(connection_id: uuid.UUID, body: ConnectionPatch, ctx: EditorContext) -> ConnectionOut:
    return await service.update(ctx, connection_id, body)


@router.delete("/{connection_id}", operation_id="deleteConnection", status_code=204)
async def delete_connection(connection_id: uuid.UUID, ctx: EditorContext) -> Response:
    await service.delete(ctx, connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/test", operation_id="testConnection")
async def test_connection(connection_id: uuid.UUID, ctx: EditorContext) -> TestResult:
    return await service.test(ctx, connection_id)


@router.get("/{connection_id}/entities", operation_id="listEntities")
async def list_entities(
    connection_id: uuid.UUID, ctx: Context, language: Language, refresh: bool = False
) -> EntityList:
    """Entities with their captions in the reader's language (the profile's, else Accept-Language)."""
    return EntityList(items=await service.entities(ctx, connection_id, language, refresh))


@router.get("/{connection_id}/entities/{entity}/values", operation_id="listLookupValues")
async def list_lookup_values(
    connection_id: uuid.UUID,
    entity: str,
    ctx: Context,
    q: str | None = Query(None, max_length=200, description="part of the name, any case"),
    limit: int = Query(50, ge=1, le=MAX_VALUES),
) -> LookupValues:
    """A lookup table's records (Id, Name) for a picker: activity types, statuses, owners…"""
    return await lookup_values(ctx, connection_id, entity, q, limit)


@router.get("/{connection_id}/entities/{entity}", operation_id="getEntity")
async def get_entity(connection_id: uuid.UUID, entity: str, ctx: Context, language: Language) -> EntityOut:
    """An entity's fields with captions and type words in the reader's language."""
    return await service.entity(ctx, connection_id, entity, language)
