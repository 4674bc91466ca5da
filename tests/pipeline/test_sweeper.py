"""The sweeper's second job: operations whose queue entry was lost (Redis lost its data) are queued again."""

from bpmlink_worker.sweeper import requeue_lost, sweep_events
from sqlalchemy import text

from bpmlink.events import enqueue_event, process_job_id
from tests.fixtures.pipeline import job_ctx, make_bundle, post_event

ITEM = {"first_name": "Lost", "last_name": "Job", "email": "lost@example.com"}


async def _age(sessionmaker, event_id, minutes: int, state: str = "queued") -> None:
    async with sessionmaker() as session:
        await session.execute(
            text("UPDATE operations SET updated_at = now() - make_interval(mins => :m) WHERE event_id = :e"),
            {"m": minutes, "e": event_id},
        )
        await session.execute(
            text("UPDATE events SET state = :s, received_at = now() - make_interval(mins => :m) WHERE id = :e"),
            {"s": state, "m": minutes, "e": event_id},
        )
        await session.commit()


async def test_an_operation_whose_job_vanished_from_redis_is_queued_again_once(
    client, owner, connection_id, sessionmaker, worker
):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ITEM)
    queue = worker.queue
    await enqueue_event(queue, event_id)
    await queue.flushdb()  # Redis lost its data
    await _age(sessionmaker, event_id, 20)
    assert await requeue_lost(sessionmaker, queue) == 1
    assert [j.job_id for j in await queue.queued_jobs()] == [process_job_id(event_id)]
    assert await requeue_lost(sessionmaker, queue) == 0  # its job exists now


async def test_a_waiting_job_is_not_queued_twice(client, owner, connection_id, sessionmaker, worker):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ITEM)
    queue = worker.queue
    await enqueue_event(queue, event_id, defer_seconds=600)  # e.g. a retry deferred by Retry-After
    await _age(sessionmaker, event_id, 20)
    assert await requeue_lost(sessionmaker, queue) == 0
    assert len(await queue.queued_jobs()) == 1


async def test_the_cron_job_queues_pending_and_lost_events(client, owner, connection_id, sessionmaker, worker):
    bundle = await make_bundle(client, connection_id)
    pending = await post_event(sessionmaker, bundle["id"], ITEM)
    lost = await post_event(sessionmaker, bundle["id"], dict(ITEM, email="lost2@example.com"))
    await _age(sessionmaker, pending, 1, state="pending")
    await _age(sessionmaker, lost, 20)
    assert await sweep_events(job_ctx(worker)) == 2
    queued = {j.job_id for j in await worker.queue.queued_jobs()}
    assert queued == {process_job_id(pending), process_job_id(lost)}
