"""The api side: fetching a sample from a polling source, backfills with progress in the bundle read."""

from __future__ import annotations

import uuid

import pytest
from bpmlink_worker.polling import run_backfill, run_poll
from bpmlink_worker.process import process_event
from sqlalchemy import select

from bpmlink.db.models import Operation, Step
from tests.polling.conftest import events_of, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


async def test_a_sample_is_fetched_from_the_source_without_touching_the_cursor(
    client, sessionmaker, json_source, http_bundle_id
):
    json_source.add(3)
    response = await client.post(f"/api/v1/bundles/{http_bundle_id}/sample", json={"fetch": True})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sample"]["id"] == 1 and {"path": "email", "value": "ann1@poll.example"} in body["fields"]
    assert json_source.requests[-1]["params"] == {"limit": "1"}
    assert (await poll_state(sessionmaker, http_bundle_id)).cursor is None
    assert await events_of(sessionmaker, http_bundle_id) == []

    json_source.fail_status = 500
    failed = await client.post(f"/api/v1/bundles/{http_bundle_id}/sample", json={"fetch": True})
    assert failed.status_code == 502 and "HTTP 500" in failed.json()["error"]["message"]
    (request,) = failed.json()["error"]["details"]["requests"]  # what was asked and what came back, for the wizard
    assert request["method"] == "GET" and request["status"] == 500 and request["url"].startswith(json_source.base_url)
    assert "forced" in request["response_body"]


async def test_a_backfill_transfers_existing_items_once_with_progress_in_the_bundle_read(
    client, deps, sessionmaker, settings, json_source, http_bundle_id, worker_ctx
):
    json_source.add(25)
    await run_poll(deps, uuid.UUID(http_bundle_id), page_size=10, max_pages=1)  # 10 already polled

    response = await client.post(f"/api/v1/bundles/{http_bundle_id}/backfill")
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["backfill"]["status"] == "queued" and started["job_id"].startswith(f"backfill:{http_bundle_id}:")
    assert await deps.queue.exists(f"arq:job:{started['job_id']}")  # enqueued after the commit
    again = await client.post(f"/api/v1/bundles/{http_bundle_id}/backfill")
    assert again.status_code == 409

    outcome = await run_backfill(deps, uuid.UUID(http_bundle_id), started["backfill"]["id"], page_size=10)
    assert outcome == "done"
    events = await events_of(sessionmaker, http_bundle_id)
    assert len(events) == 25 and len({e.source_item_key for e in events}) == 25
    assert sum(e.origin == "backfill" for e in events) == 15  # the 10 polled ones were not stored again

    backfill_event = next(e for e in events if e.origin == "backfill")
    assert await process_event(worker_ctx, str(backfill_event.id)) == "created"
    bundle = (await client.get(f"/api/v1/bundles/{http_bundle_id}")).json()
    progress = bundle["polling"]["backfill"]
    assert (progress["status"], progress["pages"], progress["found"], progress["stored"]) == ("done", 3, 25, 15)
    assert (progress["processed"], progress["failed"]) == (1, 0)
    assert bundle["polling"]["interval_minutes"] == 5 and bundle["polling"]["last_error"] is None

    # The operation's history: the source fetch (attempt 0), then the pipeline's bpm'online requests.
    async with sessionmaker() as session:
        operation_id = select(Operation.id).where(Operation.event_id == backfill_event.id).scalar_subquery()
        op_steps = list(
            await session.scalars(
                select(Step).where(Step.operation_id == operation_id).order_by(Step.attempt, Step.position)
            )
        )
    assert op_steps[0].attempt == 0 and op_steps[0].system == "http_polling"
    assert {s.system for s in op_steps[1:]} == {"bpmonline"} and op_steps[-1].attempt == 1

    # A backfill from a date starts at that cursor value.
    json_source.requests.clear()
    since = await client.post(f"/api/v1/bundles/{http_bundle_id}/backfill", json={"since": "2026-11-27T10:00:20Z"})
    assert since.status_code == 202
    assert await run_backfill(deps, uuid.UUID(http_bundle_id), since.json()["backfill"]["id"]) == "done"
    assert json_source.requests[0]["params"]["since"] == "2026-11-27T10:00:20Z"


async def test_sample_fetch_and_backfill_are_for_polling_bundles(client, connection_id):
    from tests.fixtures.pipeline import make_bundle

    webhook = await make_bundle(client, connection_id, start=False)
    fetched = await client.post(f"/api/v1/bundles/{webhook['id']}/sample", json={"fetch": True})
    assert fetched.status_code == 422
    backfill = await client.post(f"/api/v1/bundles/{webhook['id']}/backfill")
    assert backfill.status_code == 422
