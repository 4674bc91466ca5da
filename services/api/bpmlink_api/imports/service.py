"""CSV/XLSX imports of `csv_import` bundles: upload, list, progress."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bpmlink.db.models import Bundle, Import
from bpmlink.imports import ImportFileError, inspect_file
from bpmlink.kit.messages import message
from bpmlink.kit.web import AppError, InvalidInput, NotFound
from bpmlink_api.bundles.service import get_bundle
from bpmlink_api.deps import RequestContext

from . import repository

FILE_FIELD = "file"


class ImportOut(BaseModel):
    id: uuid.UUID
    bundle_id: uuid.UUID
    filename: str
    format: str
    size: int
    status: str  # queued | running | done | failed
    found: int  # rows read so far
    stored: int  # rows stored as events (a row seen again is not stored twice)
    processed: int  # events whose operation finished (any final status but failed)
    failed: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ImportList(BaseModel):
    items: list[ImportOut]
    next_cursor: str | None


class ImportAccepted(ImportOut):
    columns: list[str]
    job_id: str


class FileProblem(AppError):
    """A file that cannot be imported, answered with the status the problem calls for."""

    def __init__(self, exc: ImportFileError) -> None:
        super().__init__(exc.message, details={"problem": exc.code})
        self.status_code = exc.status
        self.code = {413: "payload_too_large", 415: "unsupported_media_type"}.get(exc.status, exc.code)


async def _import_bundle(ctx: RequestContext, bundle_id: uuid.UUID) -> Bundle:
    bundle = await get_bundle(ctx, bundle_id)
    if bundle.source_app != "csv_import":
        raise InvalidInput(
            message("import_not_csv_bundle", "only a bundle whose source is a CSV/XLSX import takes files"),
            details=[{"field": "source.app", "message": "must be csv_import"}],
        )
    return bundle


async def create_import(
    ctx: RequestContext, bundle_id: uuid.UUID, filename: str, data: bytes
) -> tuple[Import, list[str]]:
    bundle = await _import_bundle(ctx, bundle_id)
    max_bytes = ctx.settings.max_import_bytes
    if len(data) > max_bytes:
        raise FileProblem(ImportFileError(f"the file is over {max_bytes} bytes", status=413, code="too_large"))
    try:
        info = await asyncio.to_thread(inspect_file, filename, data)  # openpyxl and csv are CPU work
    except ImportFileError as exc:
        raise FileProblem(exc) from exc
    row = Import(
        workspace_id=ctx.workspace_id,
        bundle_id=bundle.id,
        filename=(filename or "upload")[:255],
        file_format=info.file_format,
        data=data,
        status="queued",
        rows_found=0,
        rows_stored=0,
    )
    ctx.session.add(row)
    if bundle.sample is None and info.first_row is not None:
        bundle.sample = info.first_row  # the wizard maps fields from the file's first row
    await ctx.session.flush()
    await ctx.session.refresh(row)
    return row, info.columns


async def _outcomes(ctx: RequestContext, rows: list[Import]) -> dict[uuid.UUID, tuple[int, int]]:
    """(processed, failed) per import, from the operations of its events."""
    return {row.id: await repository.outcome(ctx.session, row) for row in rows}


def _out(row: Import, outcome: tuple[int, int], size: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "bundle_id": row.bundle_id,
        "filename": row.filename,
        "format": row.file_format,
        "size": size,
        "status": row.status,
        "found": row.rows_found,
        "stored": row.rows_stored,
        "processed": outcome[0],
        "failed": outcome[1],
        "error": row.error,
        "created_at": row.created_at,
        "finished_at": row.finished_at,
    }


async def _sizes(ctx: RequestContext, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    return await repository.sizes(ctx.session, ids) if ids else {}


def accepted_out(row: Import, size: int, columns: list[str], job_id: str) -> ImportAccepted:
    return ImportAccepted(**_out(row, (0, 0), size), columns=columns, job_id=job_id)


async def get_import(ctx: RequestContext, import_id: uuid.UUID) -> ImportOut:
    row = await repository.get(ctx.session, ctx.workspace_id, import_id)
    if row is None:
        raise NotFound(message("import_not_found", "import not found"))
    outcomes = await _outcomes(ctx, [row])
    return ImportOut(**_out(row, outcomes[row.id], (await _sizes(ctx, [row.id]))[row.id]))


async def list_imports(ctx: RequestContext, bundle_id: uuid.UUID, cursor: str | None, limit: int) -> ImportList:
    await get_bundle(ctx, bundle_id)
    rows, next_cursor = await repository.list_page(ctx.session, ctx.workspace_id, bundle_id, cursor, limit)
    outcomes = await _outcomes(ctx, rows)
    sizes = await _sizes(ctx, [r.id for r in rows])
    return ImportList(items=[ImportOut(**_out(r, outcomes[r.id], sizes[r.id])) for r in rows], next_cursor=next_cursor)
