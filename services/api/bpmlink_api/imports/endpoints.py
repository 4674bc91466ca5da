"""`POST /api/v1/bundles/{id}/import` (multipart file), `GET …/{id}/imports`, `GET /api/v1/imports/{id}`."""

from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Query, Request
from starlette.datastructures import UploadFile

from bpmlink.db.pagination import DEFAULT_LIMIT, MAX_LIMIT
from bpmlink.imports import IMPORT_JOB, import_job_id
from bpmlink.kit.messages import message
from bpmlink.kit.web import AppError
from bpmlink_api.deps import Context, EditorContext

from . import service
from .service import FILE_FIELD, ImportAccepted, ImportList, ImportOut

router = APIRouter(tags=["imports"])
Limit = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
# The one route the body size limit lets through up to BPMLINK_MAX_IMPORT_BYTES (see app.asgi_app).
IMPORT_PATH = re.compile(r"/api/v1/bundles/[^/]+/import")


class BadUpload(AppError):
    status_code = 400
    code = "bad_request"


@router.post(
    "/api/v1/bundles/{bundle_id}/import",
    operation_id="startImport",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FILE_FIELD],
                        "properties": {FILE_FIELD: {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def start_import(
    bundle_id: uuid.UUID,
    request: Request,
    ctx: EditorContext,
) -> ImportAccepted:
    """Upload a CSV or XLSX file; its rows become events of the bundle (progress: `GET /api/v1/imports/{id}`)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadUpload(
            message(
                "upload_not_multipart",
                f"send the file as multipart/form-data in a field named {FILE_FIELD!r}",
                field=FILE_FIELD,
            )
        )
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:
        raise BadUpload(
            message("upload_unreadable", f"the multipart body cannot be read: {exc}", error=str(exc))
        ) from exc
    upload = form.get(FILE_FIELD)
    if not isinstance(upload, UploadFile):
        raise BadUpload(message("upload_no_file", f"no file in the form field {FILE_FIELD!r}", field=FILE_FIELD))
    data = await upload.read()
    await form.close()
    row, columns = await service.create_import(ctx, bundle_id, upload.filename or "", data)
    job_id = import_job_id(row.id)
    ctx.jobs.enqueue(IMPORT_JOB, str(row.id), job_id=job_id)
    return service.accepted_out(row, len(data), columns, job_id)


@router.get("/api/v1/bundles/{bundle_id}/imports", operation_id="listImports")
async def list_imports(bundle_id: uuid.UUID, ctx: Context, cursor: str | None = None, limit: int = Limit) -> ImportList:
    return await service.list_imports(ctx, bundle_id, cursor, limit)


@router.get("/api/v1/imports/{import_id}", operation_id="getImport")
async def get_import(import_id: uuid.UUID, ctx: Context) -> ImportOut:
    return await service.get_import(ctx, import_id)
