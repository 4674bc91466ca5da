"""The step actions beyond records: a business process started with mapped parameters, a file
downloaded and attached to an earlier step's record, and a step run once per array element."""

from __future__ import annotations

from urllib.parse import quote

from bpmlink_worker.process import process_event

from bpmlink.bundle_steps import MAX_ELEMENTS, record_id_for
from bpmlink.step_results import StepResult
from tests.fixtures.pipeline import CONTACT_MAPPING, operation_of, post_event, sandbox_rows

ANNA = {"first_name": "Анна", "last_name": "Петрова", "email": "anna@example.com"}


def _contact_step(connection_id: str) -> dict:
    return {
        "key": "contact",
        "name": "Контакт",
        "connection_id": connection_id,
        "entity": "Contact",
        "mapping": CONTACT_MAPPING,
        "dedup": {"mode": "update_if_found", "match_fields": ["Email"]},
    }


async def _bundle(client, steps: list[dict]) -> dict:
    body = {"name": "Steps", "source": {"app": "webhook", "trigger": "incoming_request"}, "steps": steps}
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 201, response.text
    started = await client.post(f"/api/v1/bundles/{response.json()['id']}/start")
    assert started.status_code == 200, started.text
    return started.json()


def _results(op) -> dict[str, StepResult]:
    return {r["key"]: StepResult.model_validate(r) for r in op.step_results}


async def test_a_process_runs_with_the_mapped_parameters_and_its_result_is_kept(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    process = {
        "key": "callback",
        "connection_id": connection_id,
        "action": "run_process",
        "process": {"schema_name": "UsrBpmlinkCallBack", "result_parameter": "TaskId"},
        "mapping": [
            {"target": "ContactId", "source": "steps.contact.Id"},
            {"target": "Comment", "template": "Перезвонить & уточнить = {{ first_name }}"},
        ],
    }
    bundle = await _bundle(client, [_contact_step(connection_id), process])
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    [contact] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    [run] = sandbox.process_runs()
    assert run["schema"] == "UsrBpmlinkCallBack" and run["status"] == "completed"
    assert run["parameters"] == {"ContactId": contact["Id"], "Comment": "Перезвонить & уточнить = Анна"}
    result = _results(await operation_of(sessionmaker, event_id))["callback"]
    assert result.result == "ran" and result.record == {"result": run["result"]}
    [task] = sandbox_rows(sandbox, "Activity", f"Contact/Id eq {contact['Id']}")  # what the process made
    assert task["Id"] == run["result"]


async def test_an_unknown_process_fails_the_step_with_bpmonlines_words(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    process = {
        "key": "callback",
        "connection_id": connection_id,
        "action": "run_process",
        "process": {"schema_name": "UsrNoSuchProcess"},
    }
    bundle = await _bundle(client, [_contact_step(connection_id), process])
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)

    assert await process_event(worker_ctx, str(event_id)) == "failed"

    result = _results(await operation_of(sessionmaker, event_id))["callback"]
    assert result.result == "failed" and result.error is not None
    assert result.error.code == "bpm_process_unknown" and "UsrNoSuchProcess" in (result.error.remote or "")


async def test_a_file_is_downloaded_and_attached_to_the_contact_once(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, file_server
):
    name = quote("Договор №1.pdf")
    attach = {
        "key": "file",
        "connection_id": connection_id,
        "action": "attach_file",
        "file": {"attach_to": "contact"},
        "mapping": [{"target": "Url", "source": "file_url"}],
    }
    bundle = await _bundle(client, [_contact_step(connection_id), attach])
    url = file_server.url(f"/bytes/3000?ct=application/pdf&cd=attachment;%20filename*=UTF-8''{name}")
    event_id = await post_event(sessionmaker, bundle["id"], {**ANNA, "file_url": url})

    assert await process_event(worker_ctx, str(event_id)) == "created"
    [contact] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    [stored] = sandbox.files(entity="ContactFile")
    assert stored["parent_id"] == contact["Id"] and stored["size"] == 3000
    assert stored["name"] == "Договор №1.pdf" and stored["id"] == str(record_id_for(event_id, "file"))

    # Run again (a retry after a lost answer): the same file, not a second one.
    async with sessionmaker() as session:
        op = await operation_of(sessionmaker, event_id)
        op = await session.get(type(op), op.id)
        op.status, op.step_results = "queued", None
        await session.commit()
    assert await process_event(worker_ctx, str(event_id), "") in ("created", "updated")
    assert len(sandbox.files(entity="ContactFile")) == 1


async def test_a_for_each_step_writes_one_record_per_element_and_never_twice(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    phones = {
        "key": "phones",
        "connection_id": connection_id,
        "entity": "ContactCommunication",
        "for_each": "phones",
        "mapping": [
            {"target": "ContactId", "source": "steps.contact.Id"},
            {"target": "Number", "template": "{{ item.number }} ({{ index }})"},
        ],
    }
    bundle = await _bundle(client, [_contact_step(connection_id), phones])
    item = {**ANNA, "phones": [{"number": "+7 912 000-00-01"}, {"number": "+7 912 000-00-02"}]}
    event_id = await post_event(sessionmaker, bundle["id"], item)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    [contact] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    typed = f"Contact/Id eq {contact['Id']} and startswith(Number, '+7 912')"  # not the e-mail's own row
    rows = sandbox_rows(sandbox, "ContactCommunication", typed)
    assert sorted(r["Number"] for r in rows) == ["+7 912 000-00-01 (0)", "+7 912 000-00-02 (1)"]
    assert {r["Id"] for r in rows} == {str(record_id_for(event_id, "phones", i)) for i in range(2)}
    result = _results(await operation_of(sessionmaker, event_id))["phones"]
    assert [(e.index, e.result) for e in result.elements] == [(0, "created"), (1, "created")]

    too_many = await post_event(sessionmaker, bundle["id"], {**ANNA, "phones": [{"number": "1"}] * (MAX_ELEMENTS + 1)})
    assert await process_event(worker_ctx, str(too_many)) == "failed"
    result = _results(await operation_of(sessionmaker, too_many))["phones"]
    assert result.error is not None and result.error.code == "too_many_elements"
