"""Bundles made of steps through the API: saved and read back, and the refusals at save naming the step."""

import uuid

from sqlalchemy import select

from bpmlink.db.models import Bundle
from tests.api.step_bodies import contact_step, lead_step, steps_body, task_step, three_steps
from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.pipeline import make_bundle


async def _second_connection(client, sandbox, name="Sandbox 2") -> str:
    body = {
        "app": "bpmonline",
        "name": name,
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": sandbox.username},
        "secrets": {"password": sandbox.password},
    }
    response = await client.post("/api/v1/connections", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _details(response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["error"]["details"]


async def test_three_steps_are_saved_and_read_back(client, owner, connection_id, sessionmaker):
    response = await client.post("/api/v1/bundles", json=steps_body(three_steps(connection_id)))
    assert response.status_code == 201, response.text
    saved = response.json()
    read = (await client.get(f"/api/v1/bundles/{saved['id']}")).json()
    for bundle in (saved, read):
        steps = bundle["steps"]
        assert [(s["key"], s["action"], s["entity"]) for s in steps] == [
            ("contact", "create_record", "Contact"),
            ("lead", "create_record", "Lead"),
            ("task", "create_activity", "Activity"),
        ]
        assert steps[0]["dedup"]["mode"] == "update_if_found" and steps[0]["dedup"]["match_fields"] == ["Email"]
        assert {"target": "QualifiedContactId", "source": "steps.contact.Id"}.items() <= steps[1]["mapping"][1].items()
        assert steps[2]["activity"]["due_in_minutes"] == 120  # the task's defaults are kept with it
        # several steps cannot be said in round 1's shape
        assert (bundle["target"], bundle["mapping"], bundle["dedup"]) == (None, None, None)
    async with sessionmaker() as session:
        row = await session.scalar(select(Bundle).where(Bundle.id == uuid.UUID(saved["id"])))
    assert row.target_connection_id == uuid.UUID(connection_id)
    assert "target" not in row.config and len(row.config["steps"]) == 3


async def test_a_round_one_body_is_the_step_main_and_reads_back_in_both_shapes(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    read = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    assert [(s["key"], s["action"], s["entity"], s["connection_id"]) for s in read["steps"]] == [
        ("main", "create_record", "Contact", connection_id)
    ]
    assert read["target"] == {"connection_id": connection_id, "action": "create_record", "entity": "Contact"}
    assert [r["target"] for r in read["mapping"]] == ["Name", "Email", "MobilePhone"]
    assert read["dedup"]["mode"] == "update_if_found" and read["dedup"]["match_fields"] == ["Email"]
    assert read["mapping"] == read["steps"][0]["mapping"] and read["dedup"] == read["steps"][0]["dedup"]


async def test_a_forward_and_an_unknown_reference_are_refused_naming_the_steps(client, owner, connection_id):
    lead = lead_step(connection_id, mapping=[{"target": "QualifiedContactId", "source": "steps.task.Id"}])
    task = task_step(
        connection_id,
        mapping=[{"target": "Title", "constant": "Call"}, {"target": "ContactId", "source": "steps.nope.Id"}],
    )
    details = _details(await client.post("/api/v1/bundles", json=steps_body([contact_step(connection_id), lead, task])))
    by_code = {d["code"]: d for d in details}
    assert by_code["step_ref_forward"]["loc"] == ["body", "steps", 1, "mapping", "QualifiedContactId"]
    assert by_code["step_ref_forward"]["field"] == "steps.1.mapping.QualifiedContactId"
    assert by_code["step_ref_forward"]["params"] == {
        "step": "lead",
        "ref": "task",
        "where": "mapping.QualifiedContactId",
    }
    assert by_code["step_ref_unknown"]["loc"] == ["body", "steps", 2, "mapping", "ContactId"]
    assert by_code["step_ref_unknown"]["params"] == {"step": "task", "ref": "nope", "where": "mapping.ContactId"}
    assert "steps.nope" in by_code["step_ref_unknown"]["message"]


async def test_a_key_used_twice_is_refused_at_the_second_step(client, owner, connection_id):
    steps = [contact_step(connection_id), contact_step(connection_id, name="again")]
    (detail,) = _details(await client.post("/api/v1/bundles", json=steps_body(steps)))
    assert (detail["code"], detail["params"]) == ("step_key_twice", {"step": "contact"})
    assert detail["loc"] == ["body", "steps", 1, "key"]  # the second of the two


async def test_more_than_twenty_steps_is_422(client, owner, connection_id, sandbox):
    steps = [contact_step(connection_id, key=f"s{i}") for i in range(21)]
    sandbox.reset_counts()
    details = _details(await client.post("/api/v1/bundles", json=steps_body(steps)))
    assert [(d["code"], d["params"], d["loc"]) for d in details] == [
        ("too_many_steps", {"limit": 20}, ["body", "steps"])
    ]
    assert sandbox.counts()["requests"] == {}  # refused before any step's connection is asked


async def test_no_step_at_all_is_422(client, owner, connection_id):
    details = _details(await client.post("/api/v1/bundles", json=steps_body([])))
    assert details[0]["code"] == "steps_empty"


async def test_another_workspaces_connection_in_a_step_is_refused_as_an_unknown_one(
    client, owner, connection_id, sandbox, sessionmaker
):
    other = await make_workspace(sessionmaker, "Other")
    client.cookies.clear()
    await login(client, other)
    own = await _second_connection(client, sandbox, "B's sandbox")
    foreign = await client.post("/api/v1/bundles", json=steps_body([contact_step(own), lead_step(connection_id)]))
    unknown = await client.post("/api/v1/bundles", json=steps_body([contact_step(own), lead_step(str(uuid.uuid4()))]))
    assert (
        _details(foreign)
        == _details(unknown)
        == [
            {
                "field": "steps.1.connection_id",
                "loc": ["body", "steps", 1, "connection_id"],
                "message": "no bpm'online connection with this id",
                "code": "connection_unknown",
                "params": {"step": "lead"},
            }
        ]
    )
    assert foreign.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_each_action_is_checked_against_what_it_sends(client, owner, connection_id):
    steps = [
        contact_step(connection_id),
        lead_step(connection_id, mapping=[{"target": "Nope", "constant": 1}]),
        task_step(connection_id, mapping=[{"target": "ContactId", "source": "steps.contact.Id"}]),  # no Title
        {
            "key": "process",
            "action": "run_process",
            "connection_id": connection_id,
            "process": {"schema_name": "UsrNotify"},
            "mapping": [{"target": "ContactId", "source": "steps.contact.Id"}, {"target": "not-a-code", "constant": 1}],
        },
        {
            "key": "file",
            "action": "attach_file",
            "connection_id": connection_id,
            "file": {"attach_to": "contact"},
            "mapping": [{"target": "Name", "constant": "cv.pdf"}, {"target": "Size", "constant": 1}],
        },
    ]
    details = _details(await client.post("/api/v1/bundles", json=steps_body(steps)))
    assert {(d["field"], d["code"]) for d in details} == {
        ("steps.1.mapping.Nope", "field_unknown"),
        ("steps.3.mapping.not-a-code", "process_parameter_invalid"),
        ("steps.4.mapping.Size", "file_field_unknown"),
        ("steps.4.mapping.Url", "file_url_required"),
    }  # a task is a create, but its unmapped Title makes the bundle incomplete, not refused (test_incomplete)


async def test_a_steps_dedup_is_checked_against_its_own_mapping_and_entity(client, owner, connection_id):
    lead = lead_step(connection_id, dedup={"mode": "update_if_found", "match_fields": ["Email"]})
    details = _details(await client.post("/api/v1/bundles", json=steps_body([contact_step(connection_id), lead])))
    assert [(d["field"], d["loc"][:3]) for d in details] == [("steps.1.dedup.Email", ["body", "steps", 1])]
    assert details[0]["code"]


async def test_a_connection_used_by_the_second_step_is_in_use(client, owner, connection_id, sandbox):
    second = await _second_connection(client, sandbox)
    body = steps_body([contact_step(connection_id), lead_step(second)])
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 201, response.text
    refused = await client.delete(f"/api/v1/connections/{second}")
    assert refused.status_code == 409 and body["name"] in refused.json()["error"]["message"]
    body["steps"][1]["connection_id"] = connection_id
    assert (await client.put(f"/api/v1/bundles/{response.json()['id']}", json=body)).status_code == 200
    assert (await client.delete(f"/api/v1/connections/{second}")).status_code == 204


async def test_starting_checks_every_steps_connection(client, owner, connection_id, sandbox, sessionmaker):
    response = await client.post("/api/v1/bundles", json=steps_body(three_steps(connection_id)))
    bundle_id = uuid.UUID(response.json()["id"])
    async with sessionmaker() as session, session.begin():  # a step's connection gone behind the API's back
        row = await session.scalar(select(Bundle).where(Bundle.id == bundle_id))
        steps = [dict(s) for s in row.config["steps"]]
        steps[2]["connection_id"] = str(uuid.uuid4())
        row.config = {**row.config, "steps": steps}
    started = await client.post(f"/api/v1/bundles/{bundle_id}/start")
    assert started.status_code == 422, started.text
    detail = started.json()["error"]["details"][0]
    assert (detail["field"], detail["code"], detail["params"]) == (
        "steps.2.connection_id",
        "connection_unknown",
        {"step": "task"},
    )
    assert (await client.get(f"/api/v1/bundles/{bundle_id}")).json()["status"] == "stopped"
