"""Operations that outlast their fast tries are parked on a slow schedule, not failed (issue #19 §10)."""

import uuid
from datetime import UTC, datetime, timedelta

from arq.jobs import Job
from bpmlink_worker.parked_retries import key_turns, retry_in_order
from bpmlink_worker.parking import enqueue_due, probe_connections, retry_connection
from bpmlink_worker.process import MAX_TRIES, process_event
from bpmlink_worker.sweeper import requeue_lost
from sqlalchemy import select, update

from bpmlink.db.models import Event, EventState, Incident, Operation, OperationStatus, Workspace
from bpmlink.kit.queue import job_deserializer
from bpmlink.retry_schedule import PARKED, RETRY_CONNECTION, RetrySchedule, in_order_job_id
from tests.fixtures.pipeline import make_bundle, operation_of, post_event, sandbox_rows

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_schedule_steps_through_its_delays_repeats_the_last_and_ends_at_its_end() -> None:
    schedule = RetrySchedule(delays_seconds=(10, 30, 60), give_up_after_seconds=200)
    at = [schedule.next_attempt(T0, T0 + timedelta(seconds=s)) for s in (0, 10, 39, 40, 100, 160, 199, 200)]
    offsets = [None if a is None else (a - T0).total_seconds() for a in at]
    assert offsets == [10, 40, 40, 100, 160, 200, 200, None]
    default = RetrySchedule.of(None)
    assert default.delays_seconds[:3] == (600, 1800, 3600) and default.give_up_after_seconds == 72 * 3600


async def _incidents(sessionmaker, bundle_id: str) -> list[str]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Incident.kind).where(Incident.bundle_id == uuid.UUID(bundle_id)).order_by(Incident.id)
        )
        return list(rows)


async def test_past_the_fast_tries_operations_park_then_run_in_order_when_the_connection_answers(
    client, owner, connection_id, sandbox, sessionmaker, worker, worker_ctx
):
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Workspace)
            .where(Workspace.id == owner.workspace_id)
            .values(retry_schedule={"delays_seconds": [3600], "give_up_after_seconds": 7200})
        )
    bundle = await make_bundle(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], {"first_name": "A", "last_name": "1", "email": "p@x.io"})
    second = await post_event(sessionmaker, bundle["id"], {"first_name": "A", "last_name": "2", "email": "p@x.io"})
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
    worker_ctx["job_try"] = MAX_TRIES
    for event_id in (first, second):
        assert await process_event(worker_ctx, str(event_id)) == "retrying"  # not failed: parked
    ops = [await operation_of(sessionmaker, e) for e in (first, second)]
    for op in ops:
        assert op.status == OperationStatus.retrying and op.finished_at is None
        assert op.next_attempt_at == op.parked_at + timedelta(seconds=3600)  # the workspace's schedule
    assert await _incidents(sessionmaker, bundle["id"]) == ["retrying"]  # one when parking starts
    async with sessionmaker() as session:
        assert await enqueue_due(session, worker.queue) == 0  # not due for an hour
    # Parked operations are the slow schedule's, not the sweeper's (which would start fast tries over).
    assert await requeue_lost(worker.sessionmaker, worker.queue, now=datetime.now(UTC) + timedelta(hours=1)) == 0

    assert await probe_connections(worker) == []  # still down
    sandbox.clear_faults()
    assert await probe_connections(worker) == [uuid.UUID(connection_id)]
    job = await Job(in_order_job_id(uuid.UUID(bundle["id"])), worker.queue, _deserializer=job_deserializer).info()
    assert job is not None and list(job.args) == [bundle["id"], [str(first), str(second)]]  # at once, oldest first

    worker_ctx["job_try"] = 1  # the job's own arq try; its runs are slow tries, past the fast ones
    assert await retry_in_order(worker_ctx, *job.args) == 2
    assert [(await operation_of(sessionmaker, e)).status for e in (first, second)] == ["created", "updated"]
    for event_id in (first, second):
        op = await operation_of(sessionmaker, event_id)
        assert op.next_attempt_at is None and op.finished_at is not None
    assert await _incidents(sessionmaker, bundle["id"]) == ["retrying", "retrying_resolved"]


async def test_a_slow_try_that_still_fails_waits_for_the_next_and_the_schedules_end_fails_it(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Workspace)
            .where(Workspace.id == owner.workspace_id)
            .values(retry_schedule={"delays_seconds": [60], "give_up_after_seconds": 600})
        )
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "B", "last_name": "1", "email": "b@x.io"})
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
    worker_ctx["job_try"] = MAX_TRIES
    await process_event(worker_ctx, str(event_id))
    parked = await operation_of(sessionmaker, event_id)
    worker_ctx["job_try"] = 1
    await process_event(worker_ctx, str(event_id), PARKED)  # a slow try, still down: the next one is set
    again = await operation_of(sessionmaker, event_id)
    assert again.status == OperationStatus.retrying and again.parked_at == parked.parked_at
    assert again.attempts == parked.attempts + 1 and again.next_attempt_at is not None

    async with sessionmaker.begin() as session:  # ten minutes later
        await session.execute(
            update(Operation).where(Operation.id == again.id).values(parked_at=again.parked_at - timedelta(seconds=600))
        )
    assert await process_event(worker_ctx, str(event_id), PARKED) == "failed"
    ended = await operation_of(sessionmaker, event_id)
    assert ended.status == OperationStatus.failed and ended.next_attempt_at is None and ended.finished_at
    assert "retry schedule ended" in ended.error
    async with sessionmaker() as session:
        assert (await session.get(Event, event_id)).state == EventState.done
    sandbox.clear_faults()
    replay = await client.post(f"/api/v1/operations/{ended.id}/replay")  # replayable as before
    assert replay.status_code == 200 and replay.json()["status"] == "queued"


async def test_a_successful_connection_test_queues_its_parked_operations_at_once(
    client, owner, connection_id, sandbox, sessionmaker, worker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "B", "last_name": "1", "email": "t@x.io"})
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
    worker_ctx["job_try"] = MAX_TRIES
    assert await process_event(worker_ctx, str(event_id)) == "retrying"
    op = await operation_of(sessionmaker, event_id)
    sandbox.clear_faults()

    response = await client.post(f"/api/v1/connections/{connection_id}/test")
    assert response.status_code == 200 and response.json()["ok"], response.text
    queued = await worker.queue.zrange("arq:queue", 0, -1)
    asked = [j for j in queued if j.startswith(f"{RETRY_CONNECTION}:{connection_id}:".encode())]
    assert len(asked) == 1  # the api asked, after its commit, for this connection's parked operations
    assert await retry_connection(worker_ctx, connection_id) == 1  # the job the api asked for
    assert in_order_job_id(op.bundle_id).encode() in await worker.queue.zrange("arq:queue", 0, -1)


async def test_a_keys_turn_stops_at_an_operation_parked_again_and_the_later_ones_wait(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    items = [{"first_name": "K", "last_name": str(i), "email": "k@x.io"} for i in range(2)]
    first, second = [await post_event(sessionmaker, bundle["id"], item) for item in items]
    other = await post_event(sessionmaker, bundle["id"], {"first_name": "L", "last_name": "1", "email": "l@x.io"})
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
    worker_ctx["job_try"] = MAX_TRIES
    for event_id in (first, second, other):
        assert await process_event(worker_ctx, str(event_id)) == "retrying"  # parked
    before = {e: (await operation_of(sessionmaker, e)).attempts for e in (first, second, other)}

    worker_ctx["job_try"] = 1
    ids = [str(e) for e in (first, second, other)]
    assert await retry_in_order(worker_ctx, bundle["id"], ids) == 0  # still down: every turn stops at once
    after = {e: (await operation_of(sessionmaker, e)).attempts for e in (first, second, other)}
    assert after == {first: before[first] + 1, second: before[second], other: before[other] + 1}  # second waits

    sandbox.clear_faults()
    assert await retry_in_order(worker_ctx, bundle["id"], ids) == 3
    [row] = sandbox_rows(sandbox, "Contact", "Email eq 'k@x.io'")
    assert row["Name"] == "K 1"  # the key's last event, pushed after its first


async def test_parked_events_that_share_any_groups_key_take_one_turn(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    """Phone, else e-mail: A and B share a phone, C shares A's e-mail, D shares nothing."""
    dedup = {"mode": "update_if_found", "match": [{"fields": ["MobilePhone"]}, {"fields": ["Email"]}]}
    bundle = await make_bundle(client, connection_id, dedup=dedup)
    items = [
        {"first_name": "A", "email": "a@turn.io", "phone": "+7 912 345-67-89"},
        {"first_name": "B", "email": "b@turn.io", "phone": "8 912 345 67 89"},
        {"first_name": "C", "email": "a@turn.io"},
        {"first_name": "D", "email": "d@turn.io", "phone": "+7 912 000-00-00"},
    ]
    a, b, c, d = [await post_event(sessionmaker, bundle["id"], item) for item in items]
    sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
    worker_ctx["job_try"] = MAX_TRIES
    for event_id in (a, b, c, d):
        assert await process_event(worker_ctx, str(event_id)) == "retrying"  # parked, its values mapped
    sandbox.clear_faults()
    async with sessionmaker() as session:
        turns = await key_turns(session, uuid.UUID(bundle["id"]), [a, b, c, d])
    assert sorted(turns, key=len) == [[d], [a, b, c]]
