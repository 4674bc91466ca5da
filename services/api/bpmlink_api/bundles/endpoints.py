from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, Response

from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink.sources import BACKFILL_JOB
from bpmlink_api.deps import Context, EditorContext

from . import backfill, dedup_preview, lifecycle, preview, sample, service
from .schemas import (
    BackfillIn,
    BackfillOut,
    BundleIn,
    BundleList,
    BundleOut,
    DedupPreviewIn,
    DedupPreviewOut,
    PreviewIn,
    PreviewOut,
    SampleIn,
    SampleOut,
    StartIn,
)

router = APIRouter(prefix="/api/v1/bundles", tags=["bundles"])
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


@router.get("", operation_id="listBundles")
async def list_bundles(ctx: Context, cursor: str | None = None, limit: int = Limit) -> BundleList:
    items, next_cursor = await service.list_bundles(ctx, cursor, limit)
    return BundleList(items=items, next_cursor=next_cursor)


@router.post("", operation_id="createBundle", status_code=201)
async def create_bundle(body: BundleIn, ctx: EditorContext) -> BundleOut:
    return await service.create(ctx, body)


@router.get("/{bundle_id}", operation_id="getBundle")
async def get_bundle(bundle_id: uuid.UUID, ctx: Context) -> BundleOut:
    return await service.to_out(ctx, await service.get_bundle(ctx, bundle_id))


@router.put("/{bundle_id}", operation_id="updateBundle")
async def update_bundle(bundle_id: uuid.UUID, body: BundleIn, ctx: EditorContext) -> BundleOut:
    return await service.update_config(ctx, bundle_id, body)


@router.delete("/{bundle_id}", operation_id="deleteBundle", status_code=204)
async def delete_bundle(bundle_id: uuid.UUID, ctx: EditorContext) -> Response:
    await service.delete(ctx, bundle_id)
    return Response(status_code=204)


@router.post("/{bundle_id}/start", operation_id="startBundle")
async def start_bundle(bundle_id: uuid.UUID, ctx: EditorContext, body: StartIn | None = None) -> BundleOut:
    return await lifecycle.start(ctx, bundle_id, body.held if body else "process")


@router.post("/{bundle_id}/stop", operation_id="stopBundle")
async def stop_bundle(bundle_id: uuid.UUID, ctx: EditorContext) -> BundleOut:
    return await lifecycle.stop(ctx, bundle_id)


@router.post("/{bundle_id}/regenerate-token", operation_id="regenerateWebhookToken")
async def regenerate_token(bundle_id: uuid.UUID, ctx: EditorContext) -> BundleOut:
    return await lifecycle.regenerate_token(ctx, bundle_id)


@router.get("/{bundle_id}/sample", operation_id="getSample")
async def get_sample(bundle_id: uuid.UUID, ctx: Context) -> SampleOut:
    return await sample.get_sample(ctx, bundle_id)


@router.post("/{bundle_id}/sample", operation_id="setSample")
async def set_sample(bundle_id: uuid.UUID, body: SampleIn, ctx: EditorContext) -> SampleOut:
    if body.fetch and body.item is None:
        return await sample.fetch_sample(ctx, bundle_id)
    return await sample.set_sample(ctx, bundle_id, body.capture, body.item)


@router.post("/{bundle_id}/backfill", operation_id="startBackfill", status_code=202)
async def start_backfill(bundle_id: uuid.UUID, ctx: EditorContext, body: BackfillIn | None = None) -> BackfillOut:
    """Transfer existing source data: page through the source from the beginning (or `since`)."""
    out = await backfill.start_backfill(ctx, bundle_id, body.since if body else None)
    ctx.jobs.enqueue(BACKFILL_JOB, str(bundle_id), out.backfill.id, 0, job_id=out.job_id)
    return out


@router.post("/{bundle_id}/preview", operation_id="previewBundle")
async def preview_bundle(bundle_id: uuid.UUID, ctx: Context, body: PreviewIn | None = None) -> PreviewOut:
    return await preview.preview(ctx, bundle_id, body or PreviewIn())


@router.post("/{bundle_id}/dedup-preview", operation_id="previewBundleDedup")
async def preview_bundle_dedup(
    bundle_id: uuid.UUID, ctx: EditorContext, body: DedupPreviewIn | None = None
) -> DedupPreviewOut:
    """Map the item (default: the sample) and search bpm'online for its duplicate now; writes nothing."""
    return await dedup_preview.dedup_preview(ctx, bundle_id, body or DedupPreviewIn())
