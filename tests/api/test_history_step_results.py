"""History of a bundle of steps: an operation's read shows each step's result (`step_results`) and
its HTTP requests (`requests`, and `steps` as their deprecated round-1 name); a replay keeps the
finished steps' results for the worker to resume after them. Rows are written here as the worker
writes them (its side: tests/pipeline)."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from bpmlink.bundle_steps import StepAction
from bpmlink.db.models import Operation, OperationStatus, Step
from bpmlink.kit.messages import message
from bpmlink.step_results import ElementResult, StepOutcome, StepResult
from tests.api.step_bodies import steps_body, three_steps
from tests.fixtures.pipeline import operation_of, post_event

CONTACT_ID, LEAD_ID = str(uuid.uuid4()), str(uuid.uuid4())
RESULTS = [
    StepResult(
        key="contact",
        action=StepAction.create_record,
        entity="Contact",
        result=StepOutcome.updated,
        record_id=CONTACT_ID,
        record={"Id": CONTACT_ID, "OwnerId": None},
        values={"Email": "anna@steps.example"},
        note=message("dedup_matched", "matched by Email", group=1),
    ),
    StepResult(
        key="lead", action=StepAction.create_record, entity="Lead", result=StepOutcome.created, record_id=LEAD_ID
    ),
    StepResult(
        key="task",
        action=StepAction.create_activity,
        entity="Activity",
        result=StepOutcome.failed,
        elements=[ElementResult(index=0, result=StepOutcome.failed)],
        error=message("bpm_rejected", "bpm'online refused the record", remote="Поле Title обязательно", status=400),
    ),
]


async def _failed_operation(client, connection_id, sessionmaker) -> Operation:
    bundle = (await client.post("/api/v1/bundles", json=steps_body(three_steps(connection_id)))).json()
    event_id = await post_event(sessionmaker, bundle["id"], {"first_name": "Анна", "email": "anna@steps.example"})
    op = await operation_of(sessionmaker, event_id)
    async with sessionmaker.begin() as session:
        await session.execute(
            update(Operation)
            .where(Operation.id == op.id)
            .values(
                status=OperationStatus.failed,
                attempts=1,
                error="step «Задача»: bpm'online refused the record",
                step_results=[r.model_dump(mode="json") for r in RESULTS],
                search_terms=[CONTACT_ID, LEAD_ID],
            )
        )
        session.add(
            Step(
                operation_id=op.id,
                attempt=1,
                position=0,
                system="bpmonline",
                method="POST",
                url="/0/odata/Activity",
                status=400,
                started_at=datetime.now(UTC),
            )
        )
    return await operation_of(sessionmaker, event_id)


async def test_the_operation_read_shows_each_steps_result_and_its_requests(client, owner, connection_id, sessionmaker):
    op = await _failed_operation(client, connection_id, sessionmaker)
    read = (await client.get(f"/api/v1/operations/{op.id}")).json()
    contact, lead, task = read["step_results"]
    assert contact == {
        "key": "contact",
        "action": "create_record",
        "entity": "Contact",
        "result": "updated",
        "record_id": CONTACT_ID,
        "elements": [],
        "error": None,
        "note": {"code": "dedup_matched", "params": {"group": 1}, "text": "matched by Email", "remote": None},
        "values": {"Email": "anna@steps.example"},
        "changes": None,
    }
    assert (lead["result"], lead["record_id"]) == ("created", LEAD_ID)
    assert task["error"] == {
        "code": "bpm_rejected",
        "params": {"status": 400},
        "text": "bpm'online refused the record",
        "remote": "Поле Title обязательно",
    }
    assert task["elements"] == [{"index": 0, "result": "failed", "record_id": None, "error": None}]
    assert [(r["method"], r["url"], r["status"]) for r in read["requests"]] == [("POST", "/0/odata/Activity", 400)]
    assert read["steps"] == read["requests"]  # the deprecated name of the same list


async def test_the_list_shows_a_summary_of_the_steps_and_finds_a_steps_record(
    client, owner, connection_id, sessionmaker
):
    op = await _failed_operation(client, connection_id, sessionmaker)
    listed = (await client.get(f"/api/v1/bundles/{op.bundle_id}/operations", params={"q": LEAD_ID})).json()["items"]
    assert [item["id"] for item in listed] == [str(op.id)]
    assert listed[0]["step_results"] == [
        {"key": "contact", "action": "create_record", "result": "updated", "record_id": CONTACT_ID},
        {"key": "lead", "action": "create_record", "result": "created", "record_id": LEAD_ID},
        {"key": "task", "action": "create_activity", "result": "failed", "record_id": None},
    ]


async def test_an_operation_of_round_one_has_no_step_results(client, owner, connection_id, sessionmaker):
    bundle = (await client.post("/api/v1/bundles", json=steps_body(three_steps(connection_id)))).json()
    op = await operation_of(sessionmaker, await post_event(sessionmaker, bundle["id"], {"email": "x@y.z"}))
    read = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert read["step_results"] == [] and read["requests"] == read["steps"] == []


async def test_a_replay_keeps_the_finished_steps_results(client, owner, connection_id, sessionmaker):
    op = await _failed_operation(client, connection_id, sessionmaker)
    response = await client.post(f"/api/v1/operations/{op.id}/replay")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "queued"
    replayed = await operation_of(sessionmaker, op.event_id)
    assert replayed.status == OperationStatus.queued and replayed.error is None
    assert replayed.step_results == [r.model_dump(mode="json") for r in RESULTS]  # the worker resumes at "task"


async def test_openapi_marks_the_round_one_names_deprecated(client):
    schemas = (await client.get("/api/openapi.json")).json()["components"]["schemas"]
    detail = schemas["OperationDetail"]["properties"]
    assert detail["steps"]["deprecated"] is True and "requests" in detail["steps"]["description"]
    assert "deprecated" not in detail["requests"]
    for name in ("BundleIn", "BundleOut"):
        fields = schemas[name]["properties"]
        assert all(fields[f]["deprecated"] is True for f in ("target", "mapping", "dedup")), name
        assert "deprecated" not in fields["steps"]
