"""The scheduler: one indexed claiming statement, SKIP LOCKED + lease, jitter, deferred jobs."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from bpmlink_worker import polling
from bpmlink_worker.jobs import CRON_JOBS
from bpmlink_worker.polling import Claim, schedule_polls
from sqlalchemy import event, text

from bpmlink.kit.queue import enqueue_jobs
from bpmlink.sources import POLL_JOB
from tests.fixtures.accounts import make_workspace
from tests.fixtures.pipeline import job_ctx
from tests.polling.conftest import claim

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def _bundles(sessionmaker, n: int, *, due: str, status: str = "running", interval: int = 5) -> None:
    """`n` bundles with poll states whose next_due_at is the SQL expression `due` (of the series index g)."""
    member = await make_workspace(sessionmaker)
    async with sessionmaker() as session:
        await session.execute(
            text(
                f"""
                WITH b AS (
                    INSERT INTO bundles (id, workspace_id, name, status, config, config_version, source_app,
                                         capture_sample)
                    SELECT gen_random_uuid(), :ws, 'b' || g, :status, '{{}}'::jsonb, 1, 'http_polling', false
                    FROM generate_series(1, :n) g
                    RETURNING id, workspace_id, (substring(name from 2))::int AS g
                )
                INSERT INTO poll_states (bundle_id, workspace_id, interval_minutes, next_due_at, failures)
                SELECT id, workspace_id, :interval, {due}, 0 FROM b
                """  # noqa: S608 - test data
            ),
            {"ws": member.workspace_id, "n": n, "status": status, "interval": interval},
        )
        await session.commit()


async def _drain(sessionmaker, limit: int) -> list[Claim]:
    claims: list[Claim] = []
    while batch := await claim(sessionmaker, limit=limit):
        claims += batch
    return claims


async def test_due_polls_are_found_by_one_indexed_statement_and_claimed_once_by_two_schedulers(sessionmaker):
    await _bundles(sessionmaker, 10_000, due="now() + make_interval(mins => 10 + g % 300)")  # not due
    await _bundles(sessionmaker, 2_000, due="now() - make_interval(secs => g % 120)")  # due
    await _bundles(sessionmaker, 50, due="NULL", status="stopped")
    await _bundles(sessionmaker, 50, due="now() - interval '1 minute'", status="stopped")  # belt and braces
    await _bundles(sessionmaker, 50, due="now() - interval '1 minute'", status="error")
    async with sessionmaker() as session:
        await session.execute(text("ANALYZE poll_states, bundles"))
        await session.commit()
        plan = "\n".join(
            r[0]
            for r in await session.execute(
                text(
                    "EXPLAIN SELECT p.bundle_id FROM poll_states p JOIN bundles b ON b.id = p.bundle_id "
                    "WHERE p.next_due_at IS NOT NULL AND p.next_due_at <= now() + interval '60 seconds' "
                    "AND (p.lease_until IS NULL OR p.lease_until < now()) AND b.status = 'running' "
                    "ORDER BY p.next_due_at LIMIT 5000 FOR UPDATE OF p SKIP LOCKED"
                )
            )
        )
    assert "ix_poll_states_due" in plan, plan

    statements: list[str] = []
    engine = sessionmaker.kw["bind"].sync_engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        first, second = await asyncio.gather(_drain(sessionmaker, 300), _drain(sessionmaker, 300))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    ids_first = {c.bundle_id for c in first}
    ids_second = {c.bundle_id for c in second}
    assert len(ids_first) + len(ids_second) == len(first) + len(second) == 2_000  # nobody claimed twice
    assert not ids_first & ids_second
    assert first and second  # both schedulers took part
    # One statement per batch (7 batches of 300 per 2,000 due, split between two schedulers, plus the empty ends).
    assert len(statements) == len(first) // 300 + len(second) // 300 + 2 + bool(len(first) % 300) + bool(
        len(second) % 300
    )
    # Claimed rows are leased and due later: an immediate second pass finds nothing.
    assert await claim(sessionmaker) == []


async def test_next_due_times_are_spread_over_the_minute_and_do_not_drift(sessionmaker):
    await _bundles(sessionmaker, 1_000, due="now() - interval '5 seconds'", interval=5)
    now = datetime.now(UTC)
    claims = await claim(sessionmaker, now=now)
    assert len(claims) == 1_000
    async with sessionmaker() as session:
        rows = (await session.execute(text("SELECT bundle_id, next_due_at, lease_until FROM poll_states"))).all()
    slot = now.replace(second=0, microsecond=0) + timedelta(minutes=5)
    offsets = [(due - slot).total_seconds() for _, due, _ in rows]
    assert all(0 <= o < 60 for o in offsets)
    assert len({int(o) for o in offsets}) >= 55  # 1,000 bundles spread over (almost) every second
    per_second = max(sum(1 for o in offsets if int(o) == s) for s in range(60))
    assert per_second < 40  # vs 1,000 in one second without jitter
    assert all(lease >= now + polling.LEASE for _, _, lease in rows)
    # The offset belongs to the bundle: claimed by the tick before its due time, the next run lands
    # on the same second five minutes on (no drift).
    tick = slot - timedelta(seconds=1)
    async with sessionmaker() as session:
        await session.execute(text("UPDATE poll_states SET lease_until = NULL"))
        await session.commit()
    again = await claim(sessionmaker, now=tick, ahead=timedelta(seconds=61))
    assert len(again) == 1_000
    async with sessionmaker() as session:
        rows2 = dict((await session.execute(text("SELECT bundle_id, next_due_at FROM poll_states"))).all())
    for bundle_id, due, _ in rows:
        assert rows2[bundle_id] - due == timedelta(minutes=5)


async def test_the_cron_queues_the_polls_of_each_second_together_with_deterministic_job_ids(sessionmaker, worker):
    await _bundles(sessionmaker, 300, due="now() + make_interval(secs => g % 50)")
    await _bundles(sessionmaker, 45, due="date_trunc('second', now()) + interval '55.5 seconds'")  # one second
    queue = worker.queue
    assert await schedule_polls(job_ctx(worker)) == 345
    jobs = await queue.queued_jobs()
    assert {j.function for j in jobs} == {POLL_JOB}
    ids = [bundle_id for j in jobs for bundle_id in j.args]
    assert len(ids) == len(set(ids)) == 345  # every claim in exactly one job
    assert max(len(j.args) for j in jobs) == polling.POLL_BATCH  # 45 in one second: 20 + 20 + 5
    async with sessionmaker() as session:
        rows = (await session.execute(text("SELECT bundle_id, lease_until FROM poll_states"))).all()
    due = {str(b): lease - polling.LEASE for b, lease in rows}
    scores = dict(await queue.zrange("arq:queue", 0, -1, withscores=True))
    for job in jobs:
        seconds = {int(due[b].timestamp()) for b in job.args}
        assert len(seconds) == 1  # a job holds polls due in the same second, deferred to the first of them
        assert scores[job.job_id.encode()] == min(int(due[b].timestamp() * 1000) for b in job.args)
    assert len({int(s // 1000) for s in scores.values()}) >= 45  # deferred to their due seconds
    # The same claims make the same jobs: sending them again is a no-op.
    again = polling.poll_jobs([Claim(uuid.UUID(b), at) for b, at in due.items()])
    assert {j.job_id for j in again} == {j.job_id for j in jobs}
    assert await enqueue_jobs(queue, again) == 0
    one = again[0]
    assert await queue.enqueue_job(one.function, *one.args, _job_id=one.job_id) is None


async def test_an_expired_lease_is_claimed_again_and_a_live_one_is_not(sessionmaker):
    await _bundles(sessionmaker, 4, due="now() - interval '1 second'")
    async with sessionmaker() as session:
        await session.execute(
            text(
                "UPDATE poll_states SET lease_until = CASE WHEN random() < 2 AND bundle_id IN "
                "(SELECT bundle_id FROM poll_states ORDER BY bundle_id LIMIT 2) "
                "THEN now() - interval '1 second' ELSE now() + interval '5 minutes' END"
            )
        )
        await session.commit()
    claims = await claim(sessionmaker)
    assert len(claims) == 2  # the polls whose worker died; the two still running are left alone


async def test_the_scheduler_ticks_every_10_seconds_and_claims_a_minute_ahead(sessionmaker):
    [schedule] = [c for c in CRON_JOBS if c.name == "poll.schedule"]
    assert schedule.second == {0, 10, 20, 30, 40, 50}
    await _bundles(sessionmaker, 10, due="now() + interval '55 seconds'")  # claimed ~50 s before it is due
    await _bundles(sessionmaker, 10, due="now() + interval '65 seconds'")  # left for a later tick
    claims = await claim(sessionmaker)
    assert len(claims) == 10
    async with sessionmaker() as session:
        left = await session.scalar(text("SELECT count(*) FROM poll_states WHERE lease_until IS NULL"))
    assert left == 10
