"""Connection queries: the only place they are written, each through the workspace."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.connections import get_connection
from bpmlink.db.models import Bundle, Connection
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import in_workspace, scoped

get = get_connection  # the one lookup the worker and the bundle checks use too


async def list_page(
    session: AsyncSession, workspace_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[Connection], str | None]:
    query = newest_first(scoped(Connection, workspace_id), Connection.created_at, Connection.id, cursor, limit)
    return page(list(await session.scalars(query)), limit)


async def bundle_using(session: AsyncSession, workspace_id: uuid.UUID, connection_id: uuid.UUID) -> str | None:
    """The name of a (not deleted) bundle that reads from the connection or writes to it in any of
    its steps, if any. The first step's is `target_connection_id` (a foreign key); the others are
    only in the configuration: a containment test on its steps, over the workspace's few bundles."""
    in_a_step = Bundle.config["steps"].contains([{"connection_id": str(connection_id)}])
    return await session.scalar(
        select(Bundle.name)
        .where(
            in_workspace(Bundle, workspace_id),
            Bundle.deleted_at.is_(None),
            (Bundle.source_connection_id == connection_id) | (Bundle.target_connection_id == connection_id) | in_a_step,
        )
        .limit(1)
    )
