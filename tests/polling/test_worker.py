"""End to end on a real arq worker (burst): the scheduler queues the poll, the poll queues the events,
the pipeline pushes them to the sandbox; a second round stores and sends nothing again."""

from __future__ import annotations

import pytest
from bpmlink_worker.main import build_worker
from bpmlink_worker.polling import schedule_polls

from tests.fixtures.pipeline import job_ctx, sandbox_rows
from tests.polling.conftest import events_of, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def test_scheduled_polls_run_on_a_worker_and_each_item_becomes_one_record(
    settings, sessionmaker, sandbox, json_source, http_bundle_id, worker
):
    json_source.add(3, start=501)
    assert await schedule_polls(job_ctx(worker)) == 1
    pool = build_worker(settings, burst=True, cron_jobs=[], poll_delay=0.05)
    try:
        await pool.main()
    finally:
        await pool.close()
    assert pool.jobs_complete == 4 and pool.jobs_failed == 0  # one poll, three events
    events = await events_of(sessionmaker, http_bundle_id)
    assert [e.state for e in events] == ["done"] * 3
    assert len(sandbox_rows(sandbox, "Contact", "endswith(Email,'@poll.example')")) == 3

    # The poll released its lease and is due after its interval: nothing to claim now.
    state = await poll_state(sessionmaker, http_bundle_id)
    assert state.lease_until is None and state.cursor["id"] == 503
    assert await schedule_polls(job_ctx(worker)) == 0
