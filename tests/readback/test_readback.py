"""Read-back in the worker: a thin item completed by one call to its source (through the stand-ins)
before it is mapped, the call kept in the operation's history, its failures ended as they should."""

from __future__ import annotations

import pytest
from arq import Retry
from bpmlink_worker.process import process_event

from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import Message
from tests.fixtures.amocrm_api import AMO_TOKEN
from tests.fixtures.bitrix24_api import BITRIX_CODE
from tests.fixtures.graph_api import PAGE_TOKEN
from tests.fixtures.pipeline import job_ctx, operation_of, post_event, sandbox_rows
from tests.fixtures.yookassa_api import SECRET_KEY
from tests.readback.conftest import connect, source_bundle, steps_of

AMO_SOURCE = {"app": "amocrm", "trigger": "lead_or_contact_event"}
AMO_MAPPING = [{"target": "Name", "source": "record.name"}]
# One item as the gateway stores it after splitting `leads[add][0]`.
AMO_ITEM = {"id": "31", "name": "Заявка", "_split": {"entity": "leads", "action": "add"}, "account": {"id": "1"}}


async def amo_bundle(client, connection_id: str, amocrm_connection: str) -> dict:
    return await source_bundle(client, connection_id, {**AMO_SOURCE, "connection_id": amocrm_connection}, AMO_MAPPING)


async def test_the_record_read_back_is_mapped_and_its_call_is_a_redacted_step(
    client, connection_id, amocrm_connection, amocrm_api, sandbox, sessionmaker, worker_ctx
):
    amocrm_api.add_lead(31, "Заявка с сайта: Анна Readback", 1764600000, contact_ids=(27,))
    bundle = await amo_bundle(client, connection_id, amocrm_connection)
    event_id = await post_event(sessionmaker, bundle["id"], AMO_ITEM)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    rows = sandbox_rows(sandbox, "Contact", "Name eq 'Заявка с сайта: Анна Readback'")
    assert len(rows) == 1  # the name came from the API, not from the thin item ("Заявка")
    [call] = amocrm_api.requests
    assert call["path"] == "/api/v4/leads/31" and call["params"] == {"with": "contacts"}
    op = await operation_of(sessionmaker, event_id)
    steps = await steps_of(sessionmaker, op.id)
    source_steps = [s for s in steps if s.system == "amocrm"]
    assert len(source_steps) == 1
    step = source_steps[0]
    assert step.method == "GET" and step.status == 200 and step.url.endswith("/api/v4/leads/31?with=contacts")
    assert step.request_headers["authorization"] == "[redacted]"
    assert AMO_TOKEN not in str([(s.url, s.request_headers, s.request_body, s.response_body) for s in steps])
    assert steps.index(step) < max(i for i, s in enumerate(steps) if s.system == "bpmonline")
    assert op.mapped_data == {"Name": "Заявка с сайта: Анна Readback"}


async def test_an_unknown_record_fails_the_operation_with_the_sources_answer(
    client, connection_id, amocrm_connection, amocrm_api, sandbox, sessionmaker, worker_ctx
):
    bundle = await amo_bundle(client, connection_id, amocrm_connection)
    event_id = await post_event(sessionmaker, bundle["id"], AMO_ITEM)  # lead 31 is not in amoCRM

    assert await process_event(worker_ctx, str(event_id)) == "failed"

    op = await operation_of(sessionmaker, event_id)
    assert op.error == "source_not_found: amoCRM has no record at GET /api/v4/leads/31"
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["status"] == "waiting"  # one record: still on
    assert sandbox_rows(sandbox, "Contact", "Name eq 'Заявка'") == []
    assert [s.status for s in await steps_of(sessionmaker, op.id) if s.system == "amocrm"] == [204]


async def test_a_503_is_retried_by_the_operations_schedule_then_the_record_is_read(
    client, connection_id, amocrm_connection, amocrm_api, sandbox, sessionmaker, worker
):
    amocrm_api.add_lead(31, "Anna Retried", 1764600000)
    bundle = await amo_bundle(client, connection_id, amocrm_connection)
    event_id = await post_event(sessionmaker, bundle["id"], AMO_ITEM)
    amocrm_api.fail_next = [503]

    with pytest.raises(Retry):
        await process_event(job_ctx(worker, 1), str(event_id))
    op = await operation_of(sessionmaker, event_id)
    assert op.status == OperationStatus.retrying and op.error.startswith("http_503: the source answered HTTP 503")
    assert sandbox_rows(sandbox, "Contact", "Name eq 'Anna Retried'") == []

    assert await process_event(job_ctx(worker, 2), str(event_id)) == "created"
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Anna Retried'")) == 1
    assert len(amocrm_api.requests) == 2  # read again on the retry: a GET, harmless to repeat
    statuses = [(s.attempt, s.status) for s in await steps_of(sessionmaker, op.id) if s.system == "amocrm"]
    assert statuses == [(1, 503), (2, 200)]


async def test_a_429_is_retried_too(
    client, connection_id, amocrm_connection, amocrm_api, sandbox, sessionmaker, worker
):
    amocrm_api.add_lead(31, "Anna Throttled", 1764600000)
    bundle = await amo_bundle(client, connection_id, amocrm_connection)
    event_id = await post_event(sessionmaker, bundle["id"], AMO_ITEM)
    amocrm_api.fail_next = [429]
    with pytest.raises(Retry):
        await process_event(job_ctx(worker, 1), str(event_id))
    assert await process_event(job_ctx(worker, 2), str(event_id)) == "created"


async def test_a_refused_token_fails_the_operation_and_keeps_the_token_out_of_history(
    client, connection_id, owner, amocrm_api, sandbox, sessionmaker, worker_ctx
):
    amocrm_api.add_lead(31, "Anna Refused", 1764600000)
    wrong = "amo-wrong-token-9876543210"
    conn = await connect(client, "amocrm", {"domain": amocrm_api.base_url}, {"token": wrong})
    bundle = await amo_bundle(client, connection_id, conn)
    event_id = await post_event(sessionmaker, bundle["id"], AMO_ITEM)

    assert await process_event(worker_ctx, str(event_id)) == "failed"

    op = await operation_of(sessionmaker, event_id)
    assert op.error == "source_refused: amoCRM answered HTTP 401 to GET /api/v4/leads/31: Unauthorized"
    # In any language: a code with params, the source's own words kept apart as `remote`.
    refused = Message.model_validate(op.message)
    assert refused.code == "readback_answered" and refused.remote == "Unauthorized"
    assert refused.params == {"app": "amoCRM", "status": 401, "request": "GET /api/v4/leads/31"}
    assert refused.render("ru") == "amoCRM ответил HTTP 401 на GET /api/v4/leads/31"
    steps = await steps_of(sessionmaker, op.id)
    assert wrong not in str([(s.url, s.request_headers, s.response_body) for s in steps])
    assert sandbox_rows(sandbox, "Contact", "Name eq 'Anna Refused'") == []
    # Every next event would be refused the same way: the bundle is stopped with the reason.
    stopped = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    assert stopped["status"] == "error" and stopped["status_reason"] == op.error


BITRIX_SOURCE = {"app": "bitrix24", "trigger": "crm_event"}
BITRIX_ITEM = {
    "event": "ONCRMCONTACTUPDATE",
    "data": {"FIELDS": {"ID": "42"}},
    "ts": "1764600000",
    "auth": {"domain": "acme.bitrix24.ru", "application_token": "outgoing-application-token-0123456789"},
}


async def test_bitrix24_reads_the_method_of_the_event_and_hides_the_webhook_code(
    client, connection_id, bitrix24_connection, bitrix24_api, sandbox, sessionmaker, worker_ctx
):
    bitrix24_api.add("contact", 42, "2026-12-01T10:00:00+03:00", NAME="Анна", LAST_NAME="Битрикс")
    bitrix24_api.add("lead", 42, "2026-12-01T10:00:00+03:00", NAME="Лид", LAST_NAME="Неверный")
    mapping = [{"target": "Name", "template": "{{ record.NAME }} {{ record.LAST_NAME }}"}]
    source = {**BITRIX_SOURCE, "connection_id": bitrix24_connection}
    bundle = await source_bundle(client, connection_id, source, mapping)
    event_id = await post_event(sessionmaker, bundle["id"], BITRIX_ITEM)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Анна Битрикс'")) == 1  # the contact, not the lead 42
    assert [r["path"] for r in bitrix24_api.requests] == [f"/rest/1/{BITRIX_CODE}/crm.contact.get"]
    op = await operation_of(sessionmaker, event_id)
    [step] = [s for s in await steps_of(sessionmaker, op.id) if s.system == "bitrix24"]
    assert BITRIX_CODE not in step.url
    assert step.url == f"{bitrix24_api.base_url}/[redacted]/crm.contact.get?id=42"


async def test_bitrix24_not_found_fails_with_its_own_words(
    client, connection_id, bitrix24_connection, bitrix24_api, sessionmaker, worker_ctx
):
    mapping = [{"target": "Name", "source": "record.NAME"}]
    bundle = await source_bundle(
        client, connection_id, {**BITRIX_SOURCE, "connection_id": bitrix24_connection}, mapping
    )
    event_id = await post_event(sessionmaker, bundle["id"], BITRIX_ITEM)
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    assert op.error == "source_rejected: Bitrix24 answered HTTP 400 to GET crm.contact.get: Not found"


FACEBOOK_ITEM = {"field": "leadgen", "value": {"leadgen_id": "444", "page_id": "777", "form_id": "555"}}


async def test_facebook_answers_become_fields_of_the_lead(
    client, connection_id, graph_connection, graph_api, sandbox, sessionmaker, worker_ctx
):
    graph_api.add_lead("444", full_name="Анна Фейсбук", email="anna@fb.example")
    mapping = [
        {"target": "Name", "source": "lead.fields.full_name"},
        {"target": "Email", "source": "lead.fields.email"},
    ]
    source = {"app": "facebook_leads", "trigger": "new_lead", "connection_id": graph_connection}
    bundle = await source_bundle(client, connection_id, {**source, "config": {"verify_token": "phrase"}}, mapping)
    event_id = await post_event(sessionmaker, bundle["id"], FACEBOOK_ITEM)

    assert await process_event(worker_ctx, str(event_id)) == "created"

    [row] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@fb.example'")
    assert row["Name"] == "Анна Фейсбук"
    [call] = graph_api.requests
    assert call["path"] == "/v21.0/444" and call["params"]["access_token"] == PAGE_TOKEN
    op = await operation_of(sessionmaker, event_id)
    [step] = [s for s in await steps_of(sessionmaker, op.id) if s.system == "facebook_leads"]
    assert PAGE_TOKEN not in step.url and "access_token=%5Bredacted%5D" in step.url


async def test_facebook_refusing_the_page_token_fails_with_graphs_message(
    client, connection_id, owner, graph_api, sessionmaker, worker_ctx
):
    graph_api.add_lead("444", full_name="Анна Фейсбук")
    conn = await connect(client, "facebook_leads", {"api_url": graph_api.base_url}, {"page_access_token": "EAAGwrong"})
    source = {"app": "facebook_leads", "trigger": "new_lead", "connection_id": conn, "config": {"verify_token": "x"}}
    bundle = await source_bundle(client, connection_id, source, [{"target": "Name", "source": "lead.fields.full_name"}])
    event_id = await post_event(sessionmaker, bundle["id"], FACEBOOK_ITEM)
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    assert op.error == (
        "source_rejected: Facebook / Instagram Lead Ads answered HTTP 400 to GET /v21.0/444: "
        "Invalid OAuth access token - Cannot parse access token"
    )


YOOKASSA_SOURCE = {"app": "yookassa", "trigger": "payment_event"}
YOOKASSA_MAPPING = [{"target": "Name", "template": "Оплата {{ payment.metadata.order_id }}"}]


def yookassa_item(payment_id: str, status: str = "succeeded") -> dict:
    return {
        "type": "notification",
        "event": f"payment.{status}",
        "object": {"id": payment_id, "status": status, "paid": True, "amount": {"value": "2.00", "currency": "RUB"}},
    }


async def test_yookassa_payment_read_back_must_hold_the_notified_status(
    client, connection_id, yookassa_connection, yookassa_api, sandbox, sessionmaker, worker_ctx
):
    yookassa_api.add_payment("2ab1-paid", "succeeded", order_id="72")
    yookassa_api.add_payment("2ab1-pending", "pending", order_id="73")
    source = {**YOOKASSA_SOURCE, "connection_id": yookassa_connection}
    bundle = await source_bundle(client, connection_id, source, YOOKASSA_MAPPING)

    paid = await post_event(sessionmaker, bundle["id"], yookassa_item("2ab1-paid"))
    forged = await post_event(sessionmaker, bundle["id"], yookassa_item("2ab1-pending"))  # says succeeded: it is not
    assert await process_event(worker_ctx, str(paid)) == "created"
    assert await process_event(worker_ctx, str(forged)) == "failed"

    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Оплата 72'")) == 1
    assert sandbox_rows(sandbox, "Contact", "Name eq 'Оплата 73'") == []
    op = await operation_of(sessionmaker, forged)
    assert (
        op.error
        == "source_mismatch: the record read back from YooKassa has status 'pending', not 'succeeded' as notified"
    )
    steps = await steps_of(sessionmaker, op.id)
    assert SECRET_KEY not in str([(s.url, s.request_headers) for s in steps])
    assert [s.request_headers["authorization"] for s in steps if s.system == "yookassa"] == ["[redacted]"]


async def test_yookassa_unknown_payment_fails_with_yookassas_description(
    client, connection_id, yookassa_connection, yookassa_api, sessionmaker, worker_ctx
):
    source = {**YOOKASSA_SOURCE, "connection_id": yookassa_connection}
    bundle = await source_bundle(client, connection_id, source, YOOKASSA_MAPPING)
    event_id = await post_event(sessionmaker, bundle["id"], yookassa_item("nope-0000"))
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    assert op.error == (
        "source_not_found: YooKassa answered HTTP 404 to GET /v3/payments/nope-0000: Incorrect payment_id. "
        "Payment doesn't exist or access denied. Specify the payment ID created in your store."
    )


async def test_a_yookassa_refund_is_read_back_as_a_refund(
    client, connection_id, yookassa_connection, yookassa_api, sandbox, sessionmaker, worker_ctx
):
    yookassa_api.add_refund("216749f7-0016-50be-b000-078d43a63ae4", "2ab1-paid", "succeeded", value="1.00")
    mapping = [{"target": "Name", "template": "Возврат {{ payment.amount.value }}"}]
    bundle = await source_bundle(
        client, connection_id, {**YOOKASSA_SOURCE, "connection_id": yookassa_connection}, mapping
    )
    item = {
        "type": "notification",
        "event": "refund.succeeded",
        "object": {"id": "216749f7-0016-50be-b000-078d43a63ae4", "payment_id": "2ab1-paid", "status": "succeeded"},
    }
    event_id = await post_event(sessionmaker, bundle["id"], item)
    assert await process_event(worker_ctx, str(event_id)) == "created"
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Возврат 1.00'")) == 1
    assert [r["path"] for r in yookassa_api.requests] == ["/v3/refunds/216749f7-0016-50be-b000-078d43a63ae4"]
