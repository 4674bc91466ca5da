from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink_api.deps import CurrentActor, EditorActor, RedisDep, SecretBoxDep, SessionDep, SettingsDep

from . import service
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


@router.get("", operation_id="listConnections")
async def list_connections(
    actor: CurrentActor, session: SessionDep, cursor: str | None = None, limit: int = Limit
) -> ConnectionList:
    items, next_cursor = await service.list_connections(session, actor.workspace_id, cursor, limit)
    return ConnectionList(items=items, next_cursor=next_cursor)


@router.post("", operation_id="createConnection", status_code=201)
async def create_connection(
    body: ConnectionIn, actor: EditorActor, session: SessionDep, box: SecretBoxDep
) -> ConnectionOut:
    return await service.create(session, box, actor, body)


@router.get("/{connection_id}", operation_id="getConnection")
async def get_connection(connection_id: uuid.UUID, actor: CurrentActor, session: SessionDep) -> ConnectionOut:
    return await service.get(session, actor.workspace_id, connection_id)


@router.patch("/{connection_id}", operation_id="updateConnection")
async def update_connection(
    connection_id: uuid.UUID, body: ConnectionPatch, actor: EditorActor, session: SessionDep, box: SecretBoxDep
) -> ConnectionOut:
    return await service.update(session, box, actor, connection_id, body)


@router.delete("/{connection_id}", operation_id="deleteConnection", status_code=204)
async def delete_connection(connection_id: uuid.UUID, actor: EditorActor, session: SessionDep) -> Response:
    await service.delete(session, actor, connection_id)
    return Response(status_code=204)


@router.post("/{connection_id}/test", operation_id="testConnection")
async def test_connection(
    connection_id: uuid.UUID,
    actor: EditorActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> TestResult:
    return await service.test(session, box, settings, redis, actor.workspace_id, connection_id)


@router.get("/{connection_id}/entities", operation_id="listEntities")
async def list_entities(
    connection_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
    refresh: bool = False,
) -> EntityList:
    items = await service.entities(session, box, settings, redis, actor.workspace_id, connection_id, refresh)
    return EntityList(items=items)


@router.get("/{connection_id}/entities/{entity}", operation_id="getEntity")
async def get_entity(
    connection_id: uuid.UUID,
    entity: str,
    actor: CurrentActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> EntityOut:
    return await service.entity(session, box, settings, redis, actor.workspace_id, connection_id, entity)
