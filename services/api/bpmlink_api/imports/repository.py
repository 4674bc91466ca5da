"""Import queries: the only place they are written. An import is found through its workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.db.models import FINAL_STATUSES, Event, Import, Operation, OperationStatus
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import scoped


async def get(session: AsyncSession, workspace_id: uuid.UUID, import_id: uuid.UUID) -> Import | None:
    """The import as the database has it now (the worker moves its counters)."""
    query = scoped(Import, workspace_id, Import.id == import_id).execution_options(populate_existing=True)
    return await session.scalar(query)


async def list_page(
    session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Import], str | None]:
    query = newest_first(
        scoped(Import, workspace_id, Import.bundle_id == bundle_id), Import.created_at, Import.id, cursor, limit
    )
    return page(list(await session.scalars(query)), limit)


async def outcome(session: AsyncSession, row: Import) -> tuple[int, int]:
    """(processed, failed) of the operations of the import's events (keys `import:<id>:<n>`)."""
    final = [s.value for s in FINAL_STATUSES if s != OperationStatus.failed]
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
    return int(counts[0]), int(counts[1])


async def sizes(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    """The size in bytes of each import's file."""
    rows = await session.execute(select(Import.id, func.octet_length(Import.data)).where(Import.id.in_(ids)))
    return {i: int(n or 0) for i, n in rows}
