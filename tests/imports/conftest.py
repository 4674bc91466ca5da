"""Import tests: a started csv_import bundle, upload helpers, the worker's queue."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select

from bpmlink.db.models import Event, Operation
from tests.fixtures.pipeline import make_bundle

IMPORT_SOURCE = {"app": "csv_import", "trigger": "file_upload"}


@pytest.fixture
async def import_bundle_id(client: httpx.AsyncClient, connection_id: str) -> str:
    bundle = await make_bundle(client, connection_id, source=IMPORT_SOURCE)
    assert bundle["status"] == "waiting"
    return str(bundle["id"])


@pytest.fixture
def queue(worker) -> ArqRedis:
    """arq's pool, as the worker has it."""
    queue: ArqRedis = worker.queue
    return queue


async def upload(
    client: httpx.AsyncClient, bundle_id: str, name: str, data: bytes, content_type: str = "text/csv"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/bundles/{bundle_id}/import", files={"file": (name, io.BytesIO(data), content_type)}
    )


def csv_bytes(rows: int, *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [delimiter.join(["first_name", "last_name", "email", "phone"])]
    lines += [delimiter.join([f"Ann{i}", "Import", f"ann{i}@import.example", ""]) for i in range(1, rows + 1)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


async def import_events(sessionmaker, bundle_id: str) -> list[Event]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Event).where(Event.bundle_id == uuid.UUID(bundle_id)).order_by(Event.received_at, Event.id)
        )
        return list(rows)


async def operation_count(sessionmaker, bundle_id: str, status: str | None = None) -> int:
    async with sessionmaker() as session:
        query = select(func.count()).select_from(Operation).where(Operation.bundle_id == uuid.UUID(bundle_id))
        if status:
            query = query.where(Operation.status == status)
        return int(await session.scalar(query) or 0)


def items_by_row(events: list[Event]) -> dict[int, dict[str, Any]]:
    return {int(str(e.source_item_key).rsplit(":", 1)[1]): e.item for e in events}
