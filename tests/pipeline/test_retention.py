"""The retention sweep: old operations go with their steps and finished events; the rest stays."""

import uuid
from datetime import UTC, datetime, timedelta

from bpmlink_worker.retention import prune_history
from sqlalchemy import func, select, update

from bpmlink.db.models import Event, EventState, Operation, OperationStatus, Step
from tests.fixtures.pipeline import make_bundle, post_event

ITEM = {"name": "Ann", "email": "ann@example.com"}


async def _age(sessionmaker, event_id: uuid.UUID, *, days: int, finished: bool) -> None:
    at = datetime.now(UTC) - timedelta(days=days)
    async with sessionmaker() as session:
        await session.execute(
            update(Operation)
            .where(Operation.event_id == event_id)
            .values(created_at=at, status=OperationStatus.created if finished else OperationStatus.queued)
        )
        await session.execute(
            update(Event)
            .where(Event.id == event_id)
            .values(received_at=at, state=EventState.done if finished else EventState.pending)
        )
        op_id = await session.scalar(select(Operation.id).where(Operation.event_id == event_id))
        session.add(Step(operation_id=op_id, position=0, system="bpmonline", method="POST", url="/x", started_at=at))
        await session.commit()


async def _count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_old_operations_go_with_their_steps_and_finished_events(client, owner, connection_id, sessionmaker):
    bundle = await make_bundle(client, connection_id)
    old_done = [await post_event(sessionmaker, bundle["id"], ITEM) for _ in range(5)]
    old_pending = await post_event(sessionmaker, bundle["id"], ITEM)
    recent = await post_event(sessionmaker, bundle["id"], ITEM)
    for event_id in old_done:
        await _age(sessionmaker, event_id, days=40, finished=True)
    await _age(sessionmaker, old_pending, days=40, finished=False)
    await _age(sessionmaker, recent, days=1, finished=True)
    orphan = await post_event(sessionmaker, bundle["id"], ITEM)  # a finished event whose operation is gone
    async with sessionmaker() as session:
        await session.execute(
            update(Event)
            .where(Event.id == orphan)
            .values(received_at=datetime.now(UTC) - timedelta(days=40), state=EventState.done)
        )
        await session.execute(Operation.__table__.delete().where(Operation.event_id == orphan))
        await session.commit()

    # Batches of 2: the loop has to come back for more than one batch.
    deleted = await prune_history(sessionmaker, 30, batch=2)

    # 6 old operations, the 5 finished events of theirs, and the orphan event.
    assert deleted == 6 + 5 + 1
    ours = Operation.bundle_id == uuid.UUID(bundle["id"])
    assert await _count(sessionmaker, Operation, ours) == 1
    assert await _count(sessionmaker, Operation, Operation.event_id == recent) == 1
    steps = Step.operation_id.in_(select(Operation.id).where(ours))
    assert await _count(sessionmaker, Step, steps) == 1  # the recent operation's step only
    remaining = set(await _events(sessionmaker, bundle["id"]))
    # The pending event stays for the sweeper, which settles it (its operation is gone).
    assert remaining == {recent, old_pending}
    assert await prune_history(sessionmaker, 30, batch=2) == 0


async def _events(sessionmaker, bundle_id: str) -> list[uuid.UUID]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Event.id).where(Event.bundle_id == uuid.UUID(bundle_id))))
