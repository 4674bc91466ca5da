"""Stored connections → what the clients need (decrypted only here, in memory)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.db.models import Connection
from bpmlink.db.scoping import scoped
from bpmlink.kit.security import SecretBox


def bpm_connection(row: Connection, box: SecretBox) -> BpmConnection:
    return BpmConnection.from_params(str(row.id), row.params, box.decrypt(row.secrets_encrypted))


async def get_connection(session: AsyncSession, workspace_id: uuid.UUID, connection_id: uuid.UUID) -> Connection | None:
    return await session.scalar(scoped(Connection, workspace_id, Connection.id == connection_id))
