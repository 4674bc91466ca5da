"""http_polling against a JSON API served by the test: pages, cursor, dedup, atomicity, errors."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from bpmlink_worker import polling
from bpmlink_worker.polling import run as poll_module
from bpmlink_worker.polling import run_poll
from bpmlink_worker.polling import source as poll_source
from bpmlink_worker.sweeper import sweep_unqueued
from redis.asyncio import ConnectionPool
from sqlalchemy import func, select

from bpmlink.db.models import Operation, PollState, Step
from bpmlink.kit.embedded import free_port
from bpmlink.kit.queue import arq_queue
from bpmlink.sources.http_polling import HttpPollingSource
from tests.fixtures.pipeline import bundle_body, job_ctx, worker_process
from tests.polling.conftest import API_KEY, HTTP_TRIGGER, claim, events_of, make_polling_bundle, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def test_a_poll_stores_new_items_as_events_with_the_fetch_as_step_zero(
    deps, sessionmaker, json_source, http_bundle_id
):
    json_source.add(3)
    result = await run_poll(deps, uuid.UUID(http_bundle_id))
    assert (result.status, result.found, result.stored) == ("caught_up", 3, 3)
    events = await events_of(sessionmaker, http_bundle_id)
    assert sorted(e.source_item_key for e in events) == ["1", "2", "3"]
    assert {e.origin for e in events} == {"poll"} and {e.state for e in events} == {"pending"}
    state = await poll_state(sessionmaker, http_bundle_id)
    assert state.cursor == {"value": "2026-11-27T10:00:03Z", "id": 3}
    assert state.lease_until is None and state.last_error is None and state.last_polled_at is not None
    async with sessionmaker() as session:
        op = await session.scalar(select(Operation).where(Operation.event_id == events[0].id))
        steps = list(await session.scalars(select(Step).where(Step.operation_id == op.id)))
    assert len(steps) == 1
    step = steps[0]
    assert (step.attempt, step.position, step.system, step.method, step.status) == (0, 0, "http_polling", "GET", 200)
    assert "limit=100" in step.url and step.request_headers["x-api-key"] == "[redacted]"
    assert API_KEY not in str(step.request_headers) + step.url
    # The next poll asks after the cursor and finds nothing new.
    again = await run_poll(deps, uuid.UUID(http_bundle_id))
    assert (again.status, again.stored) == ("caught_up", 0)
    assert json_source.requests[-1]["params"]["since"] == "2026-11-27T10:00:03Z"


async def test_pagination_is_followed_until_caught_up_and_bounded_per_run(
    deps, sessionmaker, json_source, http_bundle_id
):
    json_source.add(25)
    first = await run_poll(deps, uuid.UUID(http_bundle_id), page_size=10, max_pages=2)
    assert (first.status, first.pages, first.stored) == ("more", 2, 20)
    state = await poll_state(sessionmaker, http_bundle_id)
    # Stopped at the bound: due again now, so the next scheduler tick continues.
    assert state.next_due_at is not None and state.next_due_at <= datetime.now(UTC)
    second = await run_poll(deps, uuid.UUID(http_bundle_id), page_size=10, max_pages=2)
    assert (second.status, second.pages, second.stored) == ("caught_up", 1, 5)
    assert len(await events_of(sessionmaker, http_bundle_id)) == 25
    assert [r["params"].get("since") for r in json_source.requests] == [
        None,
        "2026-11-27T10:00:10Z",
        "2026-11-27T10:00:20Z",
    ]


async def test_an_item_seen_twice_is_stored_once(deps, sessionmaker, json_source, http_bundle_id):
    json_source.add(5)
    await run_poll(deps, uuid.UUID(http_bundle_id))
    # The source answers everything again (it ignores the cursor) and the cursor is forgotten.
    json_source.ignore_cursor = True
    async with sessionmaker() as session:
        state = await session.get(PollState, uuid.UUID(http_bundle_id))
        state.cursor = None
        await session.commit()
    again = await run_poll(deps, uuid.UUID(http_bundle_id))
    assert (again.found, again.stored) == (5, 0)
    assert len(await events_of(sessionmaker, http_bundle_id)) == 5


async def test_overlapping_polls_of_one_bundle_store_each_item_once(deps, sessionmaker, json_source, http_bundle_id):
    json_source.add(30)
    results = await asyncio.gather(*(run_poll(deps, uuid.UUID(http_bundle_id), page_size=7) for _ in range(3)))
    events = await events_of(sessionmaker, http_bundle_id)
    assert len(events) == 30 and len({e.source_item_key for e in events}) == 30
    assert sum(r.stored for r in results) == 30


async def test_a_crash_inside_the_transaction_loses_and_doubles_nothing(
    deps, sessionmaker, json_source, http_bundle_id, monkeypatch
):
    json_source.add(6)
    real_args = poll_module.page_args

    def fourth_item_breaks(*args, **kwargs):
        values = real_args(*args, **kwargs)
        values[3][3] = "{not json"  # the items' JSON: the statement fails at the 4th row, after three inserts
        return values

    monkeypatch.setattr(poll_module, "page_args", fourth_item_breaks)
    with pytest.raises(asyncpg.PostgresError):
        await run_poll(deps, uuid.UUID(http_bundle_id))
    # Neither the first three events nor the cursor were committed.
    assert await events_of(sessionmaker, http_bundle_id) == []
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Operation)) == 0
    assert (await poll_state(sessionmaker, http_bundle_id)).cursor is None
    monkeypatch.setattr(poll_module, "page_args", real_args)
    result = await run_poll(deps, uuid.UUID(http_bundle_id))
    assert result.stored == 6
    assert len(await events_of(sessionmaker, http_bundle_id)) == 6


async def test_a_failed_enqueue_after_commit_leaves_events_for_the_sweeper(
    deps, sessionmaker, json_source, http_bundle_id
):
    json_source.add(4)

    # Nothing listens on this port: every Redis command fails to connect.
    dead = arq_queue(ConnectionPool.from_url(f"redis://127.0.0.1:{free_port()}", socket_connect_timeout=1))
    result = await run_poll(dataclasses.replace(deps, queue=dead), uuid.UUID(http_bundle_id))
    assert result.stored == 4
    state = await poll_state(sessionmaker, http_bundle_id)
    assert state.cursor == {"value": "2026-11-27T10:00:04Z", "id": 4}  # committed with the events
    events = await events_of(sessionmaker, http_bundle_id)
    assert {e.state for e in events} == {"pending"}
    assert (await run_poll(deps, uuid.UUID(http_bundle_id))).stored == 0  # nothing doubled
    assert await sweep_unqueued(sessionmaker, deps.queue, older_than=timedelta(0)) == 4


async def test_source_errors_are_recorded_and_repeated_permanent_ones_stop_the_bundle(
    deps, sessionmaker, client, json_source, http_bundle_id, monkeypatch
):
    json_source.fail_status = 503
    result = await run_poll(deps, uuid.UUID(http_bundle_id))
    assert result.status == "failed"
    state = await poll_state(sessionmaker, http_bundle_id)
    assert state.failures == 1 and "HTTP 503" in state.last_error and "/items" in state.last_error
    assert state.next_due_at is not None  # transient: retried at the next interval
    for _ in range(5):  # transient failures never stop the bundle
        await run_poll(deps, uuid.UUID(http_bundle_id))
    assert (await client.get(f"/api/v1/bundles/{http_bundle_id}")).json()["status"] == "running"

    json_source.fail_status = 404
    for _ in range(polling.STOP_AFTER):
        await run_poll(deps, uuid.UUID(http_bundle_id))
    bundle = (await client.get(f"/api/v1/bundles/{http_bundle_id}")).json()
    assert bundle["status"] == "error" and "HTTP 404" in bundle["status_reason"]
    assert (await poll_state(sessionmaker, http_bundle_id)).next_due_at is None

    # Starting again resets the count; an unexpected exception in a source is recorded, not lost.
    json_source.fail_status = None
    json_source.add(1)
    assert (await client.post(f"/api/v1/bundles/{http_bundle_id}/start")).status_code == 200
    assert (await poll_state(sessionmaker, http_bundle_id)).failures == 0

    async def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(HttpPollingSource, "fetch", broken)
    assert (await run_poll(deps, uuid.UUID(http_bundle_id))).status == "failed"
    assert "[internal] unexpected error: KeyError" in (await poll_state(sessionmaker, http_bundle_id)).last_error
    monkeypatch.undo()
    assert (await run_poll(deps, uuid.UUID(http_bundle_id))).stored == 1
    state = await poll_state(sessionmaker, http_bundle_id)
    assert state.failures == 0 and state.last_error is None


async def test_a_stopped_bundle_is_not_polled(deps, sessionmaker, client, json_source, http_bundle_id, monkeypatch):
    json_source.add(6)
    assert (await client.post(f"/api/v1/bundles/{http_bundle_id}/stop")).status_code == 200
    assert await claim(sessionmaker) == []
    result = await run_poll(deps, uuid.UUID(http_bundle_id))  # a job queued before the stop
    assert result.status == "not_running"
    assert json_source.requests == [] and await events_of(sessionmaker, http_bundle_id) == []

    # Stopped while a poll runs: the page in hand is kept as held events, no further page is read.
    assert (await client.post(f"/api/v1/bundles/{http_bundle_id}/start")).status_code == 200
    real_fetch = HttpPollingSource.fetch

    async def fetch_then_stop(self, *args, **kwargs):
        page = await real_fetch(self, *args, **kwargs)
        assert (await client.post(f"/api/v1/bundles/{http_bundle_id}/stop")).status_code == 200
        return page

    monkeypatch.setattr(HttpPollingSource, "fetch", fetch_then_stop)
    result = await run_poll(deps, uuid.UUID(http_bundle_id), page_size=2)
    assert (result.status, result.stored, len(json_source.requests)) == ("stopped", 2, 1)
    assert [e.state for e in await events_of(sessionmaker, http_bundle_id)] == ["held", "held"]
    assert (await poll_state(sessionmaker, http_bundle_id)).next_due_at is None


async def test_a_private_address_is_refused_unless_allowed(settings, json_source):
    from bpmlink.bpmonline.steps import StepRecorder
    from bpmlink.sources import FetchEnv, PermanentSourceError, SourceConnection
    from bpmlink.sources.http_polling import HttpPollingSource
    from tests.fixtures.app import make_settings

    strict = make_settings(settings.database_url, settings.redis_url, BPMLINK_OUTBOUND_ALLOW_HOSTS="")
    conn = SourceConnection(id="c", app="http_polling", params={"base_url": json_source.base_url}, secrets={})
    recorder = StepRecorder(system="http_polling")
    with pytest.raises(PermanentSourceError) as caught:
        await HttpPollingSource().fetch(conn, HTTP_TRIGGER, None, 10, recorder, FetchEnv(settings=strict))
    assert caught.value.code == "blocked_address" and json_source.requests == []
    assert recorder.steps[0].error and recorder.steps[0].status is None  # the refused request is still a step


async def test_one_job_polls_several_bundles_together_and_one_failure_does_not_stop_the_others(
    deps, sessionmaker, client, connection_id, http_connection_id, json_source, http_bundle_id, monkeypatch
):
    source = {
        "app": "http_polling",
        "connection_id": http_connection_id,
        "trigger": "new_items",
        "config": HTTP_TRIGGER,
    }
    second = await make_polling_bundle(client, connection_id, source)
    stopped = await make_polling_bundle(client, connection_id, source, start=False)
    json_source.add(3)
    ctx = {**job_ctx(deps), "score": time.time() * 1000}
    assert await polling.poll_run(ctx, http_bundle_id, second, stopped) == "2 caught_up, 1 not_running"
    for bundle_id in (http_bundle_id, second):
        assert len(await events_of(sessionmaker, bundle_id)) == 3
        assert (await poll_state(sessionmaker, bundle_id)).cursor["id"] == 3
    assert await events_of(sessionmaker, stopped) == []

    # A poll that raises fails the job (arq runs it again), after the others have finished.
    json_source.add(2, start=4)
    real_run = poll_module.run_poll

    async def crash_one(deps, bundle_id, **kwargs):
        if str(bundle_id) == second:
            raise RuntimeError("worker bug")
        return await real_run(deps, bundle_id, **kwargs)

    monkeypatch.setattr(poll_module, "run_poll", crash_one)
    with pytest.raises(RuntimeError, match="worker bug"):
        await polling.poll_run(ctx, second, http_bundle_id)
    assert len(await events_of(sessionmaker, http_bundle_id)) == 5
    assert len(await events_of(sessionmaker, second)) == 3
    monkeypatch.undo()
    assert await polling.poll_run(ctx, second, http_bundle_id) == "2 caught_up"  # the job's retry
    assert len(await events_of(sessionmaker, second)) == 5


async def test_a_changed_trigger_configuration_is_used_by_the_next_poll(
    deps, client, connection_id, http_connection_id, json_source, http_bundle_id
):
    json_source.add(2)
    bundle_id = uuid.UUID(http_bundle_id)
    assert (await run_poll(deps, bundle_id)).stored == 2  # its configuration is cached now
    await run_poll(deps, bundle_id)
    assert set(json_source.requests[-1]["params"]) == {"since", "limit"}
    config = {**HTTP_TRIGGER, "cursor_param": "after"}
    source = {"app": "http_polling", "connection_id": http_connection_id, "trigger": "new_items", "config": config}
    body = bundle_body(connection_id, source=source, schedule={"interval_minutes": 5})
    assert (await client.put(f"/api/v1/bundles/{http_bundle_id}", json=body)).status_code == 200
    await run_poll(deps, bundle_id)
    assert set(json_source.requests[-1]["params"]) == {"after", "limit"}

    # Read with a job's other polls while the cache held the version, then the cache was emptied:
    # the poll reads its configuration again rather than run without one.
    loaded = await poll_module.load(deps.db, [bundle_id])
    assert loaded[bundle_id]["source"] is None  # the cached version is the current one: not sent
    poll_source.TRIGGERS.clear()
    assert (await run_poll(deps, bundle_id, loaded=loaded)).status == "caught_up"
    assert set(json_source.requests[-1]["params"]) == {"after", "limit"}


async def test_polls_run_on_the_worker_contexts_pool_which_closes_with_it(settings, json_source, http_bundle_id):
    json_source.add(2)
    async with worker_process(settings) as context:
        assert (await run_poll(context, uuid.UUID(http_bundle_id))).stored == 2
        assert context.db.get_size() >= 1 and not context.db.is_closing()
    assert context.db.is_closing()
