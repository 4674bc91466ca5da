"""An operation's error is stored as a message code with params, so history reads it in any language
later; the English `error` stays beside it for old clients."""

from bpmlink_worker.process import process_event

from bpmlink.kit.messages import Message
from tests.fixtures.app import execute
from tests.fixtures.pipeline import make_bundle, operation_of, post_event
from tests.pipeline.test_match_choices import three_with_one_email
from tests.pipeline.test_match_groups import bundle_of

MAPPING = [
    {"target": "Name", "source": "name"},
    {"target": "Email", "source": "email"},
    {"target": "MobilePhone", "source": "phone", "convert": [{"name": "phone_e164", "region": "RU"}]},
]


async def test_a_failed_mapping_stores_codes_and_reads_in_russian(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id, mapping=MAPPING, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], {"email": "a@example.com", "phone": "не телефон"})
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    assert "Name: the field is required but came out empty" in op.error
    assert "MobilePhone: phone_e164: 'не телефон' is not a phone number" in op.error
    stored = Message.model_validate(op.message)
    assert stored.code == "mapping_failed" and stored.text == op.error
    problems = {e["params"]["field"]: e["params"]["problem"] for e in stored.params["errors"]}
    assert problems["Name"]["code"] == "field_required_empty"
    assert problems["MobilePhone"]["code"] == "conversion_failed"
    assert problems["MobilePhone"]["params"]["problem"] == {
        "code": "not_a_phone",
        "params": {"value": "'не телефон'"},
        "text": "'не телефон' is not a phone number",
    }
    russian = stored.render("ru")
    assert "Name: поле обязательное, но значение получилось пустым" in russian
    assert "MobilePhone: phone_e164: 'не телефон' — не номер телефона" in russian

    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["error"] == op.error  # old clients read the English as before
    assert detail["message"]["code"] == "mapping_failed" and detail["message"]["params"] == stored.params


async def test_bpmonlines_own_words_are_kept_apart_as_remote(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    mapping = [
        {"target": "Name", "source": "name"},
        {"target": "AccountId", "constant": "0d7e2f4c-1b3a-4c5d-9e8f-000000000001"},
    ]
    bundle = await make_bundle(client, connection_id, mapping=mapping, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "Orphan"})
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    stored = Message.model_validate(op.message)
    assert stored.code.startswith("bpm_") and "foreign key" in (stored.remote or "").lower()
    assert "bpm'online" in stored.render("ru") and "отклонил" in stored.render("ru")


async def test_an_operation_written_before_messages_has_none_and_keeps_its_error(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id, mapping=MAPPING, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], {"email": "b@example.com"})
    await process_event(worker_ctx, str(event_id))
    op = await operation_of(sessionmaker, event_id)
    await execute(sessionmaker, "update operations set message = null where id = :id", id=op.id)
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["message"] is None and detail["error"].startswith("Name: the field is required")


async def test_a_dedup_note_is_stored_with_its_codes_and_reads_in_russian(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    email = "note@several.example"
    stored = three_with_one_email(sandbox, email)
    bundle = await bundle_of(client, connection_id, on_several="newest")
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "Renamed", "email": email})
    assert await process_event(worker_ctx, str(event_id)) == "updated"
    op = await operation_of(sessionmaker, event_id)
    note = Message.model_validate(op.message)
    assert note.code == "dedup_then" and note.text == op.error
    found, used = note.params["first"], note.params["then"]
    assert found["code"] == "dedup_matched" and found["params"]["count"] == 3 and found["params"]["group"] == 2
    assert sorted(found["params"]["ids"]) == sorted(r["Id"] for r in stored)
    assert used["code"] == "dedup_used_newest"
    russian = note.render("ru")
    assert russian.startswith("3 записи совпадают по группе 2 (Email = note@several.example): ")
    assert russian.endswith("; взята изменённая последней")
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["message"]["code"] == "dedup_then"


async def test_a_filtered_event_stores_the_verdict_with_codes_and_reads_in_russian(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    condition = {"field": "city", "op": "equals", "value": "Казань"}
    bundle = await make_bundle(
        client, connection_id, mapping=MAPPING, dedup={"mode": "always_create"}, filter={"conditions": [condition]}
    )
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "Far", "city": "Москва"})
    assert await process_event(worker_ctx, str(event_id)) == "filtered"
    op = await operation_of(sessionmaker, event_id)
    assert op.error == "city equals 'Казань' did not hold: the value is 'Москва'"
    verdict = Message.model_validate(op.message)
    assert verdict.code == "filter_did_not_hold" and verdict.text == op.error
    assert verdict.params["condition"]["params"]["op"]["code"] == "filter_op_equals"
    assert verdict.params["why"] == {
        "code": "filter_value_is",
        "params": {"value": "'Москва'"},
        "text": "the value is 'Москва'",
    }
    assert verdict.render("ru") == "условие «city равно 'Казань'» не выполнено: значение — 'Москва'"


async def test_a_defect_met_while_mapping_fails_the_operation_with_a_code_not_a_stack_trace(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, monkeypatch
):
    from bpmlink_worker import step_runner

    async def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(step_runner, "apply_mapping", broken)
    bundle = await make_bundle(client, connection_id, mapping=MAPPING, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "Ann", "email": "ann@example.com"})
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    stored = Message.model_validate(op.message)
    assert (stored.code, stored.params) == ("event_not_mapped", {"error": "KeyError"})
    assert "Traceback" not in op.error and "the event could not be mapped (KeyError)" in op.error
    assert "внутренняя ошибка bpmlink (KeyError)" in stored.render("ru")
