"""A bundle of three steps — contact → lead → task — through the public API and the worker: one
event gives one Contact, one Lead linked to it and one Activity linked to both; the same e-mail
again updates the contact and adds a lead and a task; a failed task step, fixed and replayed,
creates the task only."""

from __future__ import annotations

import uuid

from bpmlink_worker.process import process_event

from bpmlink.bundle_steps import record_id_for
from bpmlink.db.models import OperationStatus
from bpmlink.step_results import StepResult
from tests.fixtures.pipeline import operation_of, post_event, sandbox_rows

from .flows import lead_flow_steps, make_lead_flow

ANNA = {"first_name": "Анна", "last_name": "Петрова", "email": "anna@example.com", "phone": "+7 912 345-67-89"}


def _results(op) -> dict[str, StepResult]:
    return {r["key"]: StepResult.model_validate(r) for r in op.step_results}


async def test_one_event_makes_a_contact_a_lead_linked_to_it_and_a_task_linked_to_both(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_lead_flow(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    [contact] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    [lead] = sandbox_rows(sandbox, "Lead", f"QualifiedContact/Id eq {contact['Id']}")
    [task] = sandbox_rows(sandbox, "Activity", f"Lead/Id eq {lead['Id']}")
    assert contact["Id"] == str(record_id_for(event_id, "contact"))
    assert lead["Id"] == str(record_id_for(event_id, "lead"))
    assert task["ContactId"] == contact["Id"] and task["OwnerId"] == contact["OwnerId"]
    assert task["Title"] == "Перезвонить: Анна Петрова"
    assert task["TypeId"] == "fbe0acdc-cfc0-df11-b00f-001d60e938c6"  # Creatio's defaults: a task, to do
    assert task["ActivityCategoryId"] == "f2c0ce0e-cfc1-df11-b00f-001d60e938c6"
    op = await operation_of(sessionmaker, event_id)
    results = _results(op)
    assert [(k, r.result, r.record_id) for k, r in results.items()] == [
        ("contact", "created", contact["Id"]),
        ("lead", "created", lead["Id"]),
        ("task", "created", task["Id"]),
    ]
    assert results["contact"].record == {"OwnerId": contact["OwnerId"]}  # what the task step read
    assert op.record_id == uuid.UUID(contact["Id"])  # the first writing step's record

    found = await client.get(f"/api/v1/bundles/{bundle['id']}/operations", params={"q": lead["Id"]})
    assert found.status_code == 200, found.text
    assert [item["id"] for item in found.json()["items"]] == [str(op.id)]  # history finds it by any step's id


async def test_the_same_email_again_updates_the_contact_and_adds_a_lead_and_a_task(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_lead_flow(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], ANNA)
    assert await process_event(worker_ctx, str(first)) == "created"
    second = await post_event(sessionmaker, bundle["id"], {**ANNA, "last_name": "Иванова"})

    assert await process_event(worker_ctx, str(second)) == "updated"

    [contact] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    assert contact["Name"] == "Анна Иванова"
    leads = sandbox_rows(sandbox, "Lead", f"QualifiedContact/Id eq {contact['Id']}")
    tasks = sandbox_rows(sandbox, "Activity", f"Contact/Id eq {contact['Id']}")
    assert len(leads) == 2 and len(tasks) == 2
    results = _results(await operation_of(sessionmaker, second))
    assert [r.result for r in results.values()] == ["updated", "created", "created"]


async def test_a_failed_task_step_fixed_and_replayed_creates_the_task_only(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    """The task names an owner bpm'online does not have: bpm'online refuses it (a foreign key), the
    operation fails naming the step; the user fixes the mapping and replays: only the task is new."""
    missing_owner = str(uuid.uuid4())
    bad_task = [
        {"target": "Title", "constant": "Перезвонить"},
        {"target": "ContactId", "source": "steps.contact.Id"},
        {"target": "OwnerId", "constant": missing_owner},
    ]
    bundle = await make_lead_flow(client, connection_id)
    put = await client.put(
        f"/api/v1/bundles/{bundle['id']}",
        json={"name": bundle["name"], "source": bundle["source"], "steps": lead_flow_steps(connection_id, bad_task)},
    )
    assert put.status_code == 200, put.text
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)

    assert await process_event(worker_ctx, str(event_id)) == "failed"

    op = await operation_of(sessionmaker, event_id)
    assert op.status == OperationStatus.failed and op.error.startswith("step «Задача»: ")
    results = _results(op)
    assert [r.result for r in results.values()] == ["created", "created", "failed"]
    assert results["task"].error is not None and results["task"].error.remote  # bpm'online's own words kept
    assert sandbox_rows(sandbox, "Activity", "Title eq 'Перезвонить'") == []

    fixed = await client.put(
        f"/api/v1/bundles/{bundle['id']}",
        json={"name": bundle["name"], "source": bundle["source"], "steps": lead_flow_steps(connection_id)},
    )
    assert fixed.status_code == 200, fixed.text
    replay = await client.post(f"/api/v1/operations/{op.id}/replay")
    assert replay.status_code in (200, 202), replay.text
    assert await process_event(worker_ctx, str(event_id)) == "created"

    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")) == 1
    [lead] = sandbox_rows(sandbox, "Lead", "Email eq 'anna@example.com'")
    [task] = sandbox_rows(sandbox, "Activity", f"Lead/Id eq {lead['Id']}")
    results = _results(await operation_of(sessionmaker, event_id))
    # The contact and the lead were not sent again: their results are the first run's.
    assert [r.result for r in results.values()] == ["created", "created", "created"]
    assert results["task"].record_id == task["Id"]


async def test_a_step_whose_condition_does_not_hold_is_not_run_and_a_later_read_of_it_fails(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    steps = lead_flow_steps(connection_id)
    steps[1]["condition"] = {"conditions": [{"field": "wants_call", "op": "equals", "value": "yes"}]}
    bundle = await make_lead_flow(client, connection_id, steps=steps)
    event_id = await post_event(sessionmaker, bundle["id"], {**ANNA, "wants_call": "no"})

    assert await process_event(worker_ctx, str(event_id)) == "failed"

    results = _results(await operation_of(sessionmaker, event_id))
    assert [r.result for r in results.values()] == ["created", "not_run", "failed"]
    assert results["task"].error is not None and results["task"].error.code == "step_not_run"
    assert results["task"].error.params["ref"] == "lead"
    assert sandbox_rows(sandbox, "Lead", "Email eq 'anna@example.com'") == []
