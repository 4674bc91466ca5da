"""The `import.run` job: the rows of an uploaded file become events, in batches, with progress.

Each batch stores its rows as events (`origin="import"`, source item key = import id + row number)
with their operations (what `bpmlink.events.store_event` does, in bulk) and the import's counters in
one transaction, commits, then enqueues the new events (`bpmlink.events.enqueue_event`). A job cut
anywhere resumes after the last committed row; a row seen again is stored once anyway (the unique
(bundle, source item key)), and an event committed but never enqueued is queued by the sweeper.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime
from typing import Any, cast

from arq import func
from arq.connections import ArqRedis
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import undefer

from bpmlink.db.models import Bundle, BundleStatus, Event, EventState, Import, Operation, OperationStatus
from bpmlink.events import enqueue_committed
from bpmlink.imports import IMPORT_JOB, ImportFileError, iter_rows, row_key
from bpmlink.search_terms import search_terms

from .polling import arq_queue

log = logging.getLogger("bpmlink.worker")

BATCH_SIZE = 500

Progress = Callable[[int, int], Awaitable[None]]
# The tables, not the ORM classes: Core executemany skips the ORM's per-row bookkeeping.
EVENTS = cast(Table, Event.__table__)
OPERATIONS = cast(Table, Operation.__table__)


async def store_rows(
    session: AsyncSession, bundle: Bundle, import_id: uuid.UUID, rows: list[tuple[int, dict[str, Any]]]
) -> tuple[list[uuid.UUID], bool]:
    """`bpmlink.events.store_event` for a whole batch: the same event and operation rows (held while
    the bundle is stopped, search terms, the unique source item key), in two statements instead of two
    per row — per-row storing made a 10,000-row file take minutes. Returns the new event ids and `held`."""
    held = bundle.status not in (BundleStatus.running, BundleStatus.waiting)
    values: list[dict[str, Any]] = [
        {
            "id": uuid.uuid4(),
            "workspace_id": bundle.workspace_id,
            "bundle_id": bundle.id,
            "origin": "import",
            "state": EventState.held if held else EventState.pending,
            "source_item_key": row_key(import_id, number),
            "item": item,
        }
        for number, item in rows
    ]
    # Core executemany (SQLAlchemy's "insertmanyvalues"): one cached statement, batched, with RETURNING.
    inserted = set(await session.scalars(insert(EVENTS).on_conflict_do_nothing().returning(EVENTS.c.id), values))
    new = [v for v in values if v["id"] in inserted]  # in row order
    if new:
        await session.execute(
            insert(OPERATIONS),
            [
                {
                    "id": uuid.uuid4(),
                    "workspace_id": bundle.workspace_id,
                    "bundle_id": bundle.id,
                    "event_id": v["id"],
                    "config_version": bundle.config_version,
                    "status": OperationStatus.held if held else OperationStatus.queued,
                    "attempts": 0,
                    "source_data": v["item"],
                    "search_terms": search_terms(v["item"]),
                }
                for v in new
            ],
        )
    return [v["id"] for v in new], held


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession], import_id: uuid.UUID, status: str, error: str | None = None
) -> str:
    async with sessionmaker() as session:
        row = await session.get(Import, import_id)
        if row is not None:
            row.status, row.error, row.finished_at = status, error, datetime.now(UTC)
            await session.commit()
    return status


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    queue: ArqRedis,
    import_id: uuid.UUID,
    *,
    batch_size: int = BATCH_SIZE,
    on_batch: Progress | None = None,
) -> str:
    """Store the file's rows as events; returns done | failed | missing (or the status it already had)."""
    async with sessionmaker() as session:
        imported = await session.get(Import, import_id, options=[undefer(Import.data)])
        if imported is None:
            return "missing"
        if imported.status in ("done", "failed"):
            return imported.status
        data, file_format, resume_after = imported.data, imported.file_format, imported.rows_found
        bundle_id = imported.bundle_id
        imported.status = "running"
        await session.commit()

    rows: Generator[tuple[int, dict[str, Any]]] = iter_rows(file_format, data)
    try:
        while True:
            try:
                # Parsing runs in a thread: a large XLSX must not stall the worker's other jobs.
                batch = await asyncio.to_thread(lambda: list(itertools.islice(rows, batch_size)))
            except ImportFileError as exc:
                return await _finish(sessionmaker, import_id, "failed", exc.message)
            if not batch:
                break
            batch = [(n, item) for n, item in batch if n > resume_after]
            if not batch:
                continue
            to_queue: list[uuid.UUID] = []
            async with sessionmaker() as session:
                bundle = await session.get(Bundle, bundle_id)
                if bundle is None or bundle.deleted_at is not None:
                    await session.rollback()
                    return await _finish(sessionmaker, import_id, "failed", "the bundle was deleted")
                created, held = await store_rows(session, bundle, import_id, batch)
                stored_now = len(created)
                if not held:
                    to_queue = created
                progress = await session.get(Import, import_id, with_for_update=True)
                assert progress is not None
                progress.rows_found = batch[-1][0]
                progress.rows_stored += stored_now
                found, stored_total = progress.rows_found, progress.rows_stored
                await session.commit()
            await enqueue_committed(queue, to_queue)
            if on_batch is not None:
                await on_batch(found, stored_total)
    finally:
        rows.close()
    return await _finish(sessionmaker, import_id, "done")


async def import_run(ctx: dict[str, Any], import_id: str) -> str:
    """The `import.run` job (idempotent: a rerun resumes after the last committed batch)."""
    return await run_import(ctx["sessionmaker"], arq_queue(ctx), uuid.UUID(import_id))


# Registered by main.build_worker; retried after a crash or a database error, resuming from its progress.
IMPORT_FUNCTIONS = [func(import_run, name=IMPORT_JOB, max_tries=10)]
