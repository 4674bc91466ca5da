"""Group commit: concurrent webhooks share one INSERT statement (one commit), each still gets its own answer.

Only what is committed is answered 202: a group that cannot be stored answers nothing but errors, a group
that fails on one row's data is stored again row by row so only that row's request fails.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from bpmlink_gateway.committer import GroupCommitter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Bundle, OperationStatus
from bpmlink.events import EventRow, event_row
from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings

from .conftest import GatewayClient, MakeBundle
from .support import bundle_row, events_of, operations_of


async def test_concurrent_webhooks_share_statements_and_each_gets_its_own_event(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    assert (await hook.post(f"/hooks/{token}", json={"n": -1})).status_code == 202  # the bundle is now cached
    before = hook.gateway.committer.batches
    # 40 new events, and 3 resends of each of two keys in the same burst.
    keyed = [("key-a", n) for n in range(3)] + [("key-b", n) for n in range(3)]
    plain = [hook.post(f"/hooks/{token}", json={"n": n}) for n in range(40)]
    resent = [hook.post(f"/hooks/{token}", json={"k": k, "n": n}, headers={"Idempotency-Key": k}) for k, n in keyed]
    responses = await asyncio.gather(*plain, *resent)
    assert {r.status_code for r in responses} == {202}
    statements = hook.gateway.committer.batches - before
    assert statements < len(responses), "every request had a statement of its own"

    events = {str(e.id): e for e in await events_of(sm, bundle_id)}
    assert len(events) == 1 + 40 + 2
    for n, response in enumerate(responses[:40]):  # each answer names the event made of its own body
        assert events[response.json()["event_id"]].item == {"n": n}
    for key in ("key-a", "key-b"):
        ids = {r.json()["event_id"] for (k, _), r in zip(keyed, responses[40:], strict=True) if k == key}
        assert len(ids) == 1
        assert events[ids.pop()].idempotency_key == key
    operations = await operations_of(sm, bundle_id)
    assert sorted(str(o.event_id) for o in operations) == sorted(events)
    assert {o.status for o in operations} == {OperationStatus.queued}


async def test_a_resend_in_a_later_group_gets_the_first_event(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    first = await hook.post(f"/hooks/{token}", json={"n": 1}, headers={"Idempotency-Key": "x"})
    again = await asyncio.gather(
        *[hook.post(f"/hooks/{token}", json={"n": n}, headers={"Idempotency-Key": "x"}) for n in range(10)],
        *[hook.post(f"/hooks/{token}", json={"other": n}) for n in range(10)],
    )
    assert {r.json()["event_id"] for r in again[:10]} == {first.json()["event_id"]}
    assert len(await events_of(sm, bundle_id)) == 1 + 10
    assert len(await operations_of(sm, bundle_id)) == 1 + 10


async def _rows(sm: async_sessionmaker[AsyncSession], bundle_id: uuid.UUID, keys: list[str | None]) -> list[EventRow]:
    bundle: Bundle = await bundle_row(sm, bundle_id)
    return [event_row(bundle, origin="webhook", item={"n": n}, idempotency_key=k) for n, k in enumerate(keys)]


async def test_a_row_postgresql_refuses_fails_alone(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """One row's key is longer than the column (value too long, SQLSTATE 22001): the group fails, is stored
    again row by row, and only that row's caller gets the error."""
    bundle_id, _ = await make_bundle()
    rows = await _rows(sm, bundle_id, ["ok-1", "k" * 300, None, "ok-1"])
    pool = await asyncpg.create_pool(settings.database_url, min_size=0)
    try:
        committer = GroupCommitter(pool, max_in_flight=1)
        results = await asyncio.gather(*[committer.store(row) for row in rows], return_exceptions=True)
    finally:
        await pool.close()
    first, refused, plain, resend = results
    assert isinstance(refused, asyncpg.StringDataRightTruncationError)
    assert not isinstance(first, BaseException) and first.created
    assert not isinstance(plain, BaseException) and plain.created
    assert not isinstance(resend, BaseException) and (resend.id, resend.created) == (first.id, False)
    assert {e.id for e in await events_of(sm, bundle_id)} == {first.id, plain.id}
    assert {o.event_id for o in await operations_of(sm, bundle_id)} == {first.id, plain.id}


async def test_a_group_that_cannot_be_stored_answers_no_one_stored(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, _ = await make_bundle()
    rows = await _rows(sm, bundle_id, [None, "k", None])
    dead = await asyncpg.create_pool(f"postgresql://bpmlink:x@127.0.0.1:{free_port()}/bpmlink", min_size=0)
    try:
        committer = GroupCommitter(dead)
        results = await asyncio.gather(*[committer.store(row) for row in rows], return_exceptions=True)
    finally:
        await dead.close()
    assert all(isinstance(r, OSError) for r in results), results
    assert await events_of(sm, bundle_id) == []


async def test_a_caller_that_stops_waiting_leaves_the_others_answered(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, _ = await make_bundle()
    rows = await _rows(sm, bundle_id, [None, None, None])
    pool = await asyncpg.create_pool(settings.database_url, min_size=0)
    try:
        committer = GroupCommitter(pool, max_in_flight=1)
        waits = [asyncio.ensure_future(committer.store(row)) for row in rows]
        await asyncio.sleep(0)
        waits[1].cancel()
        done = await asyncio.gather(*waits, return_exceptions=True)
        await committer.drain()
    finally:
        await pool.close()
    assert isinstance(done[1], asyncio.CancelledError)
    stored = {e.id for e in await events_of(sm, bundle_id)}
    assert {r.id for r in (done[0], done[2]) if not isinstance(r, BaseException)} <= stored
    assert len(stored) in (2, 3)  # the cancelled row may have been in the statement already


@pytest.mark.parametrize("in_flight", [1, 3])
async def test_every_waiting_row_is_stored_whatever_the_timing(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], in_flight: int
) -> None:
    """Rows arriving while batches finish are never left without a batch (200 rows in bursts)."""
    bundle_id, _ = await make_bundle()
    rows = await _rows(sm, bundle_id, [None] * 200)
    pool = await asyncpg.create_pool(settings.database_url, min_size=0, max_size=4)
    try:
        committer = GroupCommitter(pool, max_in_flight=in_flight, max_batch=16)
        waits = []
        for n, row in enumerate(rows):
            waits.append(asyncio.ensure_future(committer.store(row)))
            if n % 7 == 0:
                await asyncio.sleep(0.001 * (n % 3))
        results = await asyncio.wait_for(asyncio.gather(*waits), timeout=30)
    finally:
        await pool.close()
    assert len({r.id for r in results}) == 200 and all(r.created for r in results)
    assert len(await events_of(sm, bundle_id)) == 200


def test_new_ids_are_random_version_4_uuids_and_never_repeat() -> None:
    import os

    from bpmlink.events import new_id

    ids = [new_id() for _ in range(3000)]  # several refills of the pool
    assert len(set(ids)) == 3000
    assert {i.version for i in ids} == {4} and {i.variant for i in ids} == {uuid.RFC_4122}
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child's first id is not the parent's next one
        os.write(write, new_id().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child = uuid.UUID(bytes=os.read(read, 16))
    assert child != new_id()


async def test_a_wait_longer_than_its_timeout_is_a_timeout_error(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, _ = await make_bundle()
    [row] = await _rows(sm, bundle_id, [None])
    pool = await asyncpg.create_pool(settings.database_url, min_size=0)
    try:
        async with pool.acquire() as conn:  # a lock on events holds the group's INSERT
            async with conn.transaction():
                await conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                committer = GroupCommitter(pool, wait_timeout=0.2)
                with pytest.raises(TimeoutError):
                    await committer.store(row)
        await committer.drain()  # the group itself commits once the lock is gone
    finally:
        await pool.close()
