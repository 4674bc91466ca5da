"""`GET /api/v1/stats`: operations counted per time slot, bundle and status, in the caller's workspace only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Bundle, Event, EventState, Operation, OperationStatus
from tests.fixtures.accounts import Member, make_workspace

# Two hours back, on the hour: every slot the tests write lies inside the default day.
HOUR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


async def make_bundle_row(sm: async_sessionmaker[AsyncSession], workspace_id: uuid.UUID) -> uuid.UUID:
    """A bundle row: stats read operations only, so no connection or configuration is needed."""
    async with sm() as session:
        bundle = Bundle(workspace_id=workspace_id, name=f"b-{uuid.uuid4().hex[:6]}", config={}, source_app="webhook")
        session.add(bundle)
        await session.commit()
        return bundle.id


async def add_operations(
    sm: async_sessionmaker[AsyncSession],
    workspace_id: uuid.UUID,
    bundle_id: uuid.UUID,
    status: OperationStatus,
    at: datetime,
    count: int = 1,
) -> None:
    async with sm() as session:
        for _ in range(count):
            event = Event(
                workspace_id=workspace_id, bundle_id=bundle_id, origin="webhook", state=EventState.done, item={}
            )
            session.add(event)
            await session.flush()
            session.add(
                Operation(
                    workspace_id=workspace_id,
                    bundle_id=bundle_id,
                    event_id=event.id,
                    config_version=1,
                    status=status,
                    created_at=at,
                )
            )
        await session.commit()


async def stats(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counted(body: dict[str, Any]) -> set[tuple[datetime, str, str, int]]:
    return {(datetime.fromisoformat(i["bucket"]), i["bundle_id"], i["status"], i["count"]) for i in body["items"]}


async def test_counts_each_bundle_and_status_per_hour(
    client: httpx.AsyncClient, owner: Member, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await make_bundle_row(sessionmaker, owner.workspace_id)
    second = await make_bundle_row(sessionmaker, owner.workspace_id)
    ws = owner.workspace_id
    await add_operations(sessionmaker, ws, first, OperationStatus.created, HOUR + timedelta(minutes=10), count=2)
    await add_operations(sessionmaker, ws, first, OperationStatus.failed, HOUR + timedelta(minutes=50))
    await add_operations(sessionmaker, ws, second, OperationStatus.created, HOUR + timedelta(minutes=70))
    body = await stats(client)
    assert body["bucket"] == "hour"
    assert counted(body) == {
        (HOUR, str(first), "created", 2),
        (HOUR, str(first), "failed", 1),
        (HOUR + timedelta(hours=1), str(second), "created", 1),
    }
    assert [i["bucket"] for i in body["items"]] == sorted(i["bucket"] for i in body["items"])  # oldest slot first


async def test_a_day_bucket_sums_the_hours(
    client: httpx.AsyncClient, owner: Member, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bundle = await make_bundle_row(sessionmaker, owner.workspace_id)
    day = datetime(2026, 11, 2, tzinfo=UTC)
    for hour in (1, 9, 23):
        await add_operations(
            sessionmaker, owner.workspace_id, bundle, OperationStatus.created, day + timedelta(hours=hour)
        )
    body = await stats(client, bucket="day", since=(day - timedelta(days=1)).isoformat())
    assert counted(body) == {(day, str(bundle), "created", 3)}


async def test_since_leaves_older_operations_out_and_defaults_to_one_day(
    client: httpx.AsyncClient, owner: Member, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    bundle = await make_bundle_row(sessionmaker, owner.workspace_id)
    old = HOUR - timedelta(days=3)
    await add_operations(sessionmaker, owner.workspace_id, bundle, OperationStatus.created, old)
    await add_operations(sessionmaker, owner.workspace_id, bundle, OperationStatus.updated, HOUR)
    assert counted(await stats(client)) == {(HOUR, str(bundle), "updated", 1)}
    wider = await stats(client, since=(old - timedelta(hours=1)).isoformat())
    assert counted(wider) == {(old, str(bundle), "created", 1), (HOUR, str(bundle), "updated", 1)}
    assert counted(await stats(client, since=(HOUR + timedelta(hours=1)).isoformat())) == set()


async def test_bundle_id_narrows_the_counts_to_one_bundle(
    client: httpx.AsyncClient, owner: Member, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    first = await make_bundle_row(sessionmaker, owner.workspace_id)
    second = await make_bundle_row(sessionmaker, owner.workspace_id)
    await add_operations(sessionmaker, owner.workspace_id, first, OperationStatus.created, HOUR)
    await add_operations(sessionmaker, owner.workspace_id, second, OperationStatus.failed, HOUR)
    assert counted(await stats(client, bundle_id=str(second))) == {(HOUR, str(second), "failed", 1)}


async def test_another_workspaces_operations_are_never_counted(
    client: httpx.AsyncClient, owner: Member, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mine = await make_bundle_row(sessionmaker, owner.workspace_id)
    other = await make_workspace(sessionmaker, "Other")
    theirs = await make_bundle_row(sessionmaker, other.workspace_id)
    await add_operations(sessionmaker, owner.workspace_id, mine, OperationStatus.created, HOUR)
    await add_operations(sessionmaker, other.workspace_id, theirs, OperationStatus.created, HOUR, count=3)
    await add_operations(sessionmaker, other.workspace_id, theirs, OperationStatus.failed, HOUR)
    # Without any filter parameter: the workspace alone limits the counts.
    assert counted(await stats(client)) == {(HOUR, str(mine), "created", 1)}
    assert counted(await stats(client, bucket="day", since=(HOUR - timedelta(days=2)).isoformat())) == {
        (HOUR.replace(hour=0), str(mine), "created", 1)
    }
    # Naming the other workspace's bundle finds nothing of it.
    assert (await stats(client, bundle_id=str(theirs)))["items"] == []
