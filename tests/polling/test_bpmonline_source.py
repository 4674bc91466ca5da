"""bpm'online as a source, against the sandbox: CreatedOn/ModifiedOn cursor with $skip through ties."""

from __future__ import annotations

import uuid
from urllib.parse import unquote_plus

import pytest
from bpmlink_worker.polling import run_poll
from sqlalchemy import select

from bpmlink.db.models import Operation, PollState, Step
from tests.polling.conftest import events_of, make_polling_bundle, poll_state

pytestmark = pytest.mark.usefixtures("_clean_tables")


def _sandbox_count(sandbox, entity: str) -> int:
    http = sandbox.login()
    try:
        response = http.get(f"/0/odata/{entity}", params={"$count": "true", "$top": "0"})
        assert response.status_code == 200, response.text
        return int(response.json()["@odata.count"])
    finally:
        http.close()


def _sandbox_get(sandbox, path: str) -> dict:
    http = sandbox.login()
    try:
        response = http.get(f"/0/odata/{path}")
        assert response.status_code == 200, response.text
        return response.json()
    finally:
        http.close()


def _sandbox_write(sandbox, method: str, path: str, body: dict) -> dict:
    http = sandbox.login()
    try:
        response = http.request(method, f"/0/odata/{path}", json=body)
        assert response.status_code in (200, 201, 204), response.text
        return response.json() if response.content else {}
    finally:
        http.close()


async def test_new_and_changed_records_are_polled_once_each(client, deps, sessionmaker, sandbox, connection_id):
    total = _sandbox_count(sandbox, "Contact")
    source = {
        "app": "bpmonline",
        "connection_id": connection_id,
        "trigger": "new_record",
        "config": {"entity": "Contact"},
    }
    new_id = await make_polling_bundle(client, connection_id, source)
    first = await run_poll(deps, uuid.UUID(new_id), page_size=40, max_pages=1000)
    assert first.status == "caught_up" and first.stored == total
    events = await events_of(sessionmaker, new_id)
    assert len({e.source_item_key for e in events}) == total

    created = _sandbox_write(sandbox, "POST", "Contact", {"Name": "Polled O'Brien", "Email": "obrien@poll.example"})
    second = await run_poll(deps, uuid.UUID(new_id), page_size=7)
    assert second.stored == 1
    newest = (await events_of(sessionmaker, new_id))[-1]
    assert newest.source_item_key == created["Id"] and newest.item["Name"] == "Polled O'Brien"
    assert (await run_poll(deps, uuid.UUID(new_id))).stored == 0

    async with sessionmaker() as session:
        op = await session.scalar(select(Operation).where(Operation.event_id == newest.id))
        steps = list(await session.scalars(select(Step).where(Step.operation_id == op.id, Step.attempt == 0)))
    url = unquote_plus(steps[0].url)
    assert steps[0].system == "bpmonline" and "$filter=CreatedOn ge " in url and "$orderby=CreatedOn,Id" in url
    state = await poll_state(sessionmaker, new_id)
    assert set(state.cursor) == {"value", "ids", "skip"}

    # A changed-records bundle: every change is one new event, a repeated poll adds none.
    source = {
        "app": "bpmonline",
        "connection_id": connection_id,
        "trigger": "changed_record",
        "config": {"entity": "Contact"},
    }
    changed_id = await make_polling_bundle(client, connection_id, source)
    # Start it caught up at the new contact's ModifiedOn (as if it had polled everything before).
    current = _sandbox_get(sandbox, f"Contact({created['Id']})")
    async with sessionmaker() as session:
        state = await session.get(PollState, uuid.UUID(changed_id))
        state.cursor = {"value": current["ModifiedOn"], "ids": [created["Id"]], "skip": 0}
        await session.commit()
    assert (await run_poll(deps, uuid.UUID(changed_id))).stored == 0
    # The record moves on from the cursor's timestamp: its new version is found, nothing is skipped.
    _sandbox_write(sandbox, "PATCH", f"Contact({created['Id']})", {"JobTitle": "Buyer"})
    changed = await run_poll(deps, uuid.UUID(changed_id))
    assert changed.stored == 1
    last = (await events_of(sessionmaker, changed_id))[-1]
    assert last.source_item_key.startswith(created["Id"] + "@") and last.item["JobTitle"] == "Buyer"
    assert (await run_poll(deps, uuid.UUID(changed_id))).stored == 0
