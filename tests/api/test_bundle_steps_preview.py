"""The preview of a bundle of steps: each step's values in its scope, the earlier steps as stand-ins;
for_each elements; the dedup preview of one step. Nothing is written to bpm'online."""

import uuid

from bpmlink_api.bundles.step_preview import PREVIEW_NAMESPACE

from tests.api.step_bodies import contact_step, lead_step, steps_body, task_step, three_steps
from tests.fixtures.pipeline import make_bundle, sandbox_rows

SAMPLE = {"first_name": "Анна", "last_name": "Ли", "email": "anna@steps.example", "phone": "8 (912) 345-67-89"}


def _stand_in(key: str) -> str:
    return str(uuid.uuid5(PREVIEW_NAMESPACE, key))


def _writes(sandbox) -> dict:
    return {k: v for k, v in sandbox.counts()["requests"].items() if k.split()[0] in ("POST", "PATCH", "DELETE")}


async def _bundle(client, steps) -> dict:
    response = await client.post("/api/v1/bundles", json=steps_body(steps))
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_three_steps_preview_shows_each_steps_values_and_the_stand_in_ids(
    client, owner, connection_id, sandbox
):
    bundle = await _bundle(client, three_steps(connection_id))
    sandbox.reset_counts()
    response = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE})
    assert response.status_code == 200, response.text
    preview = response.json()
    contact, lead, task = preview["steps"]
    assert [(s["key"], s["name"], s["action"], s["entity"], s["runs"]) for s in preview["steps"]] == [
        ("contact", "Контакт", "create_record", "Contact", True),
        ("lead", "Лид", "create_record", "Lead", True),
        ("task", "Задача", "create_activity", "Activity", True),
    ]
    assert contact["values"] == {"Name": "Анна Ли", "Email": "anna@steps.example", "MobilePhone": "+79123456789"}
    assert contact["stand_ins"] == {}
    assert lead["values"] == {"LeadName": "Заявка: Анна Ли", "QualifiedContactId": _stand_in("contact")}
    assert lead["stand_ins"] == {"steps.contact.Id": _stand_in("contact")}
    assert task["values"] == {"Title": "Позвонить Анна", "ContactId": _stand_in("contact"), "LeadId": _stand_in("lead")}
    assert task["stand_ins"] == {"steps.contact.Id": _stand_in("contact"), "steps.lead.Id": _stand_in("lead")}
    assert all(s["errors"] == [] for s in preview["steps"]), preview["steps"]
    # old clients read the first step at the top level
    assert (preview["values"], preview["errors"], preview["passed_filter"]) == (contact["values"], [], True)
    assert all("Login" in k for k in _writes(sandbox)), _writes(sandbox)


async def test_unsaved_steps_are_previewed_on_a_round_one_bundle_without_saving_them(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    draft = [contact_step(connection_id), lead_step(connection_id)]
    response = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE, "steps": draft})
    assert response.status_code == 200, response.text
    assert [s["key"] for s in response.json()["steps"]] == ["contact", "lead"]
    assert response.json()["steps"][1]["values"]["QualifiedContactId"] == _stand_in("contact")
    read = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    assert [s["key"] for s in read["steps"]] == ["main"] and read["config_version"] == 1


async def test_unsaved_steps_with_a_forward_reference_are_refused_as_at_save(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    draft = [lead_step(connection_id), contact_step(connection_id)]
    response = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE, "steps": draft})
    assert response.status_code == 422, response.text
    (detail,) = response.json()["error"]["details"]
    assert (detail["code"], detail["loc"]) == (
        "step_ref_forward",
        ["body", "steps", 0, "mapping", "QualifiedContactId"],
    )


async def test_a_step_whose_condition_fails_does_not_run_and_a_step_reading_it_shows_why(client, owner, connection_id):
    lead = lead_step(
        connection_id, condition={"conditions": [{"field": "email", "op": "ends_with", "value": "@company.example"}]}
    )
    task = task_step(connection_id)
    bundle = await _bundle(client, [contact_step(connection_id), lead, task])
    preview = (await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": SAMPLE})).json()
    _, lead_out, task_out = preview["steps"]
    assert lead_out["runs"] is False and lead_out["condition_reason"] and lead_out["values"] == {}
    assert task_out["runs"] is True
    assert [(e["field"], e["code"], e["params"]["ref"]) for e in task_out["errors"]] == [
        ("mapping.LeadId", "step_not_run", "lead")
    ]
    assert task_out["stand_ins"] == {"steps.contact.Id": _stand_in("contact")}  # none for the lead that did not run


async def test_a_for_each_step_previews_each_element(client, owner, connection_id):
    task = task_step(
        connection_id,
        for_each="products",
        mapping=[
            {"target": "Title", "template": "{{ item.sku }} #{{ index }} для {{ event.first_name }}"},
            {"target": "ContactId", "source": "steps.contact.Id"},
        ],
    )
    bundle = await _bundle(client, [contact_step(connection_id), task])
    item = {**SAMPLE, "products": [{"sku": "A-1"}, {"sku": "B-2"}]}
    preview = (await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": item})).json()
    task_out = preview["steps"][1]
    assert task_out["elements"] == [
        {"index": 0, "values": {"Title": "A-1 #0 для Анна", "ContactId": _stand_in("contact")}, "errors": []},
        {"index": 1, "values": {"Title": "B-2 #1 для Анна", "ContactId": _stand_in("contact")}, "errors": []},
    ]
    assert task_out["values"] == task_out["elements"][0]["values"]
    none = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": {**SAMPLE, "products": []}})
    assert none.json()["steps"][1]["runs"] is False


async def test_a_for_each_over_more_than_500_elements_is_an_error_of_that_step(client, owner, connection_id):
    task = task_step(connection_id, for_each="products", mapping=[{"target": "Title", "template": "{{ item }}"}])
    bundle = await _bundle(client, [contact_step(connection_id), task])
    item = {**SAMPLE, "products": list(range(501))}
    preview = (await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": item})).json()
    contact_out, task_out = preview["steps"]
    assert contact_out["errors"] == []
    assert [(e["field"], e["code"], e["params"]) for e in task_out["errors"]] == [
        ("for_each", "too_many_elements", {"count": 501, "max": 500})
    ]
    assert task_out["elements"] == []


async def test_the_dedup_preview_searches_for_the_step_named(client, owner, connection_id, sandbox):
    http = sandbox.login()
    try:
        created = http.post("/0/odata/Lead", json={"LeadName": "Old lead", "Email": "anna@steps.example"})
        assert created.status_code == 201, created.text
    finally:
        http.close()
    lead = lead_step(
        connection_id,
        mapping=[*lead_step(connection_id)["mapping"], {"target": "Email", "source": "email"}],
        dedup={"mode": "update_if_found", "match_fields": ["Email"]},
    )
    bundle = await _bundle(client, [contact_step(connection_id), lead, task_step(connection_id)])
    url = f"/api/v1/bundles/{bundle['id']}/dedup-preview"
    found = (await client.post(url, json={"item": SAMPLE, "step": "lead"})).json()
    assert (found["step"], found["fields"], found["action"]) == ("lead", ["Email"], "update")
    assert found["candidates"] == [{"id": created.json()["Id"], "name": "Old lead"}]
    first = (await client.post(url, json={"item": SAMPLE})).json()
    assert (first["step"], first["candidates"], first["action"]) == ("contact", [], "create")
    for step, code in (("task", "step_does_not_search"), ("nope", "step_unknown")):
        refused = await client.post(url, json={"item": SAMPLE, "step": step})
        assert refused.status_code == 422 and refused.json()["error"]["details"][0]["code"] == code
    [row] = sandbox_rows(sandbox, "Lead", f"Id eq {created.json()['Id']}")
    assert row["QualifiedContactId"] == "00000000-0000-0000-0000-000000000000"  # nothing written
