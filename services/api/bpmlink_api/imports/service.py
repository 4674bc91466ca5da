"""CSV/XLSX imports of `csv_import` bundles: upload, list, progress."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import FINAL_STATUSES, Bundle, Event, Import, Operation, OperationStatus
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import scoped
from bpmlink.imports import ImportFileError, inspect_file
from bpmlink.kit.web import AppError, InvalidInput, NotFound

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


async def _import_bundle(session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID) -> Bundle:
    bundle = await session.scalar(scoped(Bundle, workspace_id, Bundle.id == bundle_id, Bundle.deleted_at.is_(None)))
    if bundle is None:
        raise NotFound("bundle not found")
    if bundle.source_app != "csv_import":
        raise InvalidInput(
            "only a bundle whose source is a CSV/XLSX import takes files",
            details=[{"field": "source.app", "message": "must be csv_import"}],
        )
    return bundle


async def create_import(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    bundle_id: uuid.UUID,
    filename: str,
    data: bytes,
    max_bytes: int,
) -> tuple[Import, list[str]]:
    bundle = await _import_bundle(session, workspace_id, bundle_id)
    if len(data) > max_bytes:
        raise FileProblem(ImportFileError(f"the file is over {max_bytes} bytes", status=413, code="too_large"))
    try:
        info = await asyncio.to_thread(inspect_file, filename, data)  # openpyxl and csv are CPU work
    except ImportFileError as exc:
        raise FileProblem(exc) from exc
    row = Import(
        workspace_id=workspace_id,
        bundle_id=bundle.id,
        filename=(filename or "upload")[:255],
        file_format=info.file_format,
        data=data,
        status="queued",
        rows_found=0,
        rows_stored=0,
    )
    session.add(row)
    if bundle.sample is None and info.first_row is not None:
        bundle.sample = info.first_row  # the wizard maps fields from the file's first row
    await session.flush()
    await session.refresh(row)
    return row, info.columns


async def _outcomes(session: AsyncSession, rows: list[Import]) -> dict[uuid.UUID, tuple[int, int]]:
    """(processed, failed) per import, from the operations of its events (keys `import:<id>:<n>`)."""
    result: dict[uuid.UUID, tuple[int, int]] = {}
    final = [s.value for s in FINAL_STATUSES if s != OperationStatus.failed]
    for row in rows:
        counts = (
            await session.execute(
                select(
                    func.count(case((Operation.status.in_(final), 1))),
                    func.count(case((Operation.status == OperationStatus.failed, 1))),
                )
                .select_from(Event)
                .join(Operation, Operation.event_id == Event.id)
                .where(
                    Event.bundle_id == row.bundle_id,
                    Event.origin == "import",
                    Event.source_item_key.startswith(f"import:{row.id}:", autoescape=True),
                )
            )
        ).one()
        result[row.id] = (int(counts[0]), int(counts[1]))
    return result


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


async def _sizes(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    if not ids:
        return {}
    rows = await session.execute(select(Import.id, func.octet_length(Import.data)).where(Import.id.in_(ids)))
    return {i: int(n or 0) for i, n in rows}


def accepted_out(row: Import, size: int, columns: list[str], job_id: str) -> ImportAccepted:
    return ImportAccepted(**_out(row, (0, 0), size), columns=columns, job_id=job_id)


async def get_import(session: AsyncSession, workspace_id: uuid.UUID, import_id: uuid.UUID) -> ImportOut:
    query = scoped(Import, workspace_id, Import.id == import_id).execution_options(populate_existing=True)
    row = await session.scalar(query)
    if row is None:
        raise NotFound("import not found")
    outcomes = await _outcomes(session, [row])
    return ImportOut(**_out(row, outcomes[row.id], (await _sizes(session, [row.id]))[row.id]))


async def list_imports(
    session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID, cursor: str | None, limit: int
) -> ImportList:
    bundle = await session.scalar(scoped(Bundle, workspace_id, Bundle.id == bundle_id, Bundle.deleted_at.is_(None)))
    if bundle is None:
        raise NotFound("bundle not found")
    query = newest_first(
        scoped(Import, workspace_id, Import.bundle_id == bundle_id), Import.created_at, Import.id, cursor, limit
    )
    rows, next_cursor = page(list(await session.scalars(query)), limit)
    outcomes = await _outcomes(session, rows)
    sizes = await _sizes(session, [r.id for r in rows])
    return ImportList(items=[ImportOut(**_out(r, outcomes[r.id], sizes[r.id])) for r in rows], next_cursor=next_cursor)
