"""End to end on a real arq worker (burst): the scheduler queues the poll, the poll queues the events,
the pipeline pushes them to the sandbox; a second round stores and sends nothing again."""

from __future__ import annotations

import pytest
from bpmlink_worker.main import build_worker
from bpmlink_worker.polling import schedule_polls
from redis.asyncio import ConnectionPool

from bpmlink.redis import arq_queue
from tests.fixtures.pipeline import sandbox_rows
from tests.polling.conftest import events_of, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def test_scheduled_polls_run_on_a_worker_and_each_item_becomes_one_record(
    settings, sessionmaker, sandbox, json_source, http_bundle_id
):
    json_source.add(3, start=501)
    queue = arq_queue(ConnectionPool.from_url(settings.redis_url))
    try:
        ctx = {"sessionmaker": sessionmaker, "redis": queue, "settings": settings}
        assert await schedule_polls(ctx) == 1
        worker = build_worker(settings, burst=True, cron_jobs=[], poll_delay=0.05)
        try:
            await worker.main()
        finally:
            await worker.close()
        assert worker.jobs_complete == 4 and worker.jobs_failed == 0  # one poll, three events
        events = await events_of(sessionmaker, http_bundle_id)
        assert [e.state for e in events] == ["done"] * 3
        assert len(sandbox_rows(sandbox, "Contact", "endswith(Email,'@poll.example')")) == 3

        # The poll released its lease and is due after its interval: nothing to claim now.
        state = await poll_state(sessionmaker, http_bundle_id)
        assert state.lease_until is None and state.cursor["id"] == 503
        assert await schedule_polls(ctx) == 0
    finally:
        await queue.aclose()
