"""A parked operation shows when it is tried next and can be retried now; the slow schedule is a workspace
setting (issue #19 §10; the parking itself: tests/pipeline/test_parking.py)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from bpmlink.db.models import Operation, OperationStatus, Role
from bpmlink.kit.queue import create_arq_pool
from bpmlink.retry_schedule import DEFAULT_DELAYS_SECONDS, parked_job_id
from tests.fixtures.accounts import add_member, login, make_workspace
from tests.fixtures.pipeline import make_bundle, operation_of, post_event

LATER = datetime.now(UTC) + timedelta(hours=3)


async def _parked_operation(client, connection_id, sessionmaker) -> Operation:
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "P", "last_name": "1", "email": "p@x.io"})
    op = await operation_of(sessionmaker, event_id)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Operation)
            .where(Operation.id == op.id)
            .values(status=OperationStatus.retrying, parked_at=datetime.now(UTC), next_attempt_at=LATER, attempts=8)
        )
    return await operation_of(sessionmaker, event_id)


async def test_a_parked_operation_shows_its_next_try_and_retry_now_queues_it_at_once(
    client, owner, connection_id, sessionmaker, settings
):
    op = await _parked_operation(client, connection_id, sessionmaker)
    read = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert read["status"] == "retrying" and datetime.fromisoformat(read["next_attempt_at"]) == LATER
    listed = (await client.get(f"/api/v1/bundles/{op.bundle_id}/operations")).json()["items"]
    assert listed[0]["next_attempt_at"] == read["next_attempt_at"] and listed[0]["parked_at"]

    response = await client.post(f"/api/v1/operations/{op.id}/retry-now")
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["next_attempt_at"]) < LATER  # due now
    pool = await create_arq_pool(settings)
    try:
        assert await pool.zscore("arq:queue", parked_job_id(op.event_id, 8)) is not None  # sent after the commit
    finally:
        await pool.aclose()


async def test_retry_now_is_409_for_an_operation_not_parked(client, owner, connection_id, sessionmaker):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "Q", "last_name": "1", "email": "q@x.io"})
    op = await operation_of(sessionmaker, event_id)
    response = await client.post(f"/api/v1/operations/{op.id}/retry-now")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "operation_not_parked"
    assert response.json()["error"]["details"] == {"status": op.status}


async def test_retry_now_takes_an_editor_of_the_operations_workspace(client, owner, connection_id, sessionmaker):
    op = await _parked_operation(client, connection_id, sessionmaker)
    viewer = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    other = await make_workspace(sessionmaker, "Other")
    client.cookies.clear()
    await login(client, viewer)
    assert (await client.post(f"/api/v1/operations/{op.id}/retry-now")).status_code == 403
    client.cookies.clear()
    await login(client, other)
    assert (await client.post(f"/api/v1/operations/{op.id}/retry-now")).status_code == 404
    assert (await operation_of(sessionmaker, op.event_id)).next_attempt_at == LATER


async def test_the_retry_schedule_is_a_workspace_setting_with_the_documented_default(client, owner):
    schedule = (await client.get("/api/v1/workspace")).json()["retry_schedule"]
    assert schedule == {"delays_seconds": list(DEFAULT_DELAYS_SECONDS), "give_up_after_seconds": 72 * 3600}
    short = {"delays_seconds": [60, 300], "give_up_after_seconds": 3600}
    response = await client.patch("/api/v1/workspace", json={"retry_schedule": short})
    assert response.status_code == 200, response.text
    assert (await client.get("/api/v1/workspace")).json()["retry_schedule"] == short
    bad = await client.patch("/api/v1/workspace", json={"retry_schedule": {"delays_seconds": []}})
    assert bad.status_code == 422
