from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink.sources import BACKFILL_JOB
from bpmlink_api.deps import (
    CurrentActor,
    EditorActor,
    JobsDep,
    RedisDep,
    SecretBoxDep,
    SessionDep,
    SettingsDep,
)

from . import service
from .schemas import (
    BackfillIn,
    BackfillOut,
    BundleIn,
    BundleList,
    BundleOut,
    PreviewIn,
    PreviewOut,
    SampleIn,
    SampleOut,
    StartIn,
)

router = APIRouter(prefix="/api/v1/bundles", tags=["bundles"])
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("", operation_id="listBundles")
async def list_bundles(
    actor: CurrentActor, session: SessionDep, settings: SettingsDep, cursor: str | None = None, limit: int = Limit
) -> BundleList:
    items, next_cursor = await service.list_bundles(session, settings, actor.workspace_id, cursor, limit)
    return BundleList(items=items, next_cursor=next_cursor)


@router.post("", operation_id="createBundle", status_code=201)
async def create_bundle(
    body: BundleIn,
    actor: EditorActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> BundleOut:
    return await service.create(session, box, settings, redis, actor, body)


@router.get("/{bundle_id}", operation_id="getBundle")
async def get_bundle(
    bundle_id: uuid.UUID, actor: CurrentActor, session: SessionDep, settings: SettingsDep
) -> BundleOut:
    return await service.to_out(session, settings, await service.get_bundle(session, actor.workspace_id, bundle_id))


@router.put("/{bundle_id}", operation_id="updateBundle")
async def update_bundle(
    bundle_id: uuid.UUID,
    body: BundleIn,
    actor: EditorActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> BundleOut:
    return await service.update_config(session, box, settings, redis, actor, bundle_id, body)


@router.delete("/{bundle_id}", operation_id="deleteBundle", status_code=204)
async def delete_bundle(bundle_id: uuid.UUID, actor: EditorActor, session: SessionDep) -> Response:
    await service.delete(session, actor, bundle_id)
    return Response(status_code=204)


@router.post("/{bundle_id}/start", operation_id="startBundle")
async def start_bundle(
    bundle_id: uuid.UUID,
    actor: EditorActor,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobsDep,
    body: StartIn | None = None,
) -> BundleOut:
    held = body.held if body else "process"
    return await service.start(session, settings, jobs, actor, bundle_id, held)


@router.post("/{bundle_id}/stop", operation_id="stopBundle")
async def stop_bundle(
    bundle_id: uuid.UUID, actor: EditorActor, session: SessionDep, settings: SettingsDep
) -> BundleOut:
    return await service.stop(session, settings, actor, bundle_id)


@router.post("/{bundle_id}/regenerate-token", operation_id="regenerateWebhookToken")
async def regenerate_token(
    bundle_id: uuid.UUID, actor: EditorActor, session: SessionDep, settings: SettingsDep
) -> BundleOut:
    return await service.regenerate_token(session, settings, actor, bundle_id)


@router.get("/{bundle_id}/sample", operation_id="getSample")
async def get_sample(bundle_id: uuid.UUID, actor: CurrentActor, session: SessionDep) -> SampleOut:
    return service.sample_out(await service.get_bundle(session, actor.workspace_id, bundle_id))


@router.post("/{bundle_id}/sample", operation_id="setSample")
async def set_sample(
    bundle_id: uuid.UUID,
    body: SampleIn,
    actor: EditorActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
) -> SampleOut:
    if body.fetch and body.item is None:
        return await service.fetch_sample(session, box, settings, redis, actor.workspace_id, bundle_id)
    return await service.set_sample(session, actor.workspace_id, bundle_id, body.capture, body.item)


@router.post("/{bundle_id}/backfill", operation_id="startBackfill", status_code=202)
async def start_backfill(
    bundle_id: uuid.UUID,
    actor: EditorActor,
    session: SessionDep,
    jobs: JobsDep,
    body: BackfillIn | None = None,
) -> BackfillOut:
    """Transfer existing source data: page through the source from the beginning (or `since`)."""
    out = await service.start_backfill(session, actor.workspace_id, bundle_id, body.since if body else None)
    jobs.enqueue(BACKFILL_JOB, str(bundle_id), out.backfill.id, 0, job_id=out.job_id)
    return out


@router.post("/{bundle_id}/preview", operation_id="previewBundle")
async def preview_bundle(
    bundle_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
    redis: RedisDep,
    body: PreviewIn | None = None,
) -> PreviewOut:
    return await service.preview(session, box, settings, redis, actor, bundle_id, body or PreviewIn())
