"""Source connections of catalog apps: the connection test makes one cheap call, and a trigger that
reads its source cannot be saved without its connection."""

from __future__ import annotations

from tests.fixtures.pipeline import bundle_body
from tests.readback.conftest import connect


async def test_the_connection_test_calls_the_apps_api_once(client, owner, amocrm_connection, amocrm_api):
    result = (await client.post(f"/api/v1/connections/{amocrm_connection}/test")).json()
    assert result == {
        "ok": True,
        "stage": "done",
        "message": "amoCRM answered",
        "code": "source_answered",
        "message_code": "source_answered",
        "params": {"app": "amoCRM"},
        "text": "amoCRM answered",
        "remote": None,
    }
    assert [r["path"] for r in amocrm_api.requests] == ["/api/v4/account"]


async def test_the_connection_test_tells_a_refused_key(client, owner, yookassa_api):
    conn = await connect(
        client, "yookassa", {"shop_id": "506751", "api_url": yookassa_api.base_url}, {"secret_key": "test_wrong"}
    )
    result = (await client.post(f"/api/v1/connections/{conn}/test")).json()
    assert result["ok"] is False and result["code"] == "source_refused"
    assert result["message"] == ("YooKassa answered HTTP 401 to GET /v3/me: Authentication by given credentials failed")
    assert "test_wrong" not in str(result)


async def test_the_connection_test_of_a_bitrix24_webhook(client, owner, bitrix24_connection, bitrix24_api):
    result = (await client.post(f"/api/v1/connections/{bitrix24_connection}/test")).json()
    assert result["ok"] is True
    assert bitrix24_api.requests[0]["path"].endswith("/crm.lead.fields")


async def test_a_read_back_or_polling_trigger_needs_its_source_connection(client, owner, connection_id):
    for source in (
        {"app": "amocrm", "trigger": "lead_or_contact_event"},
        {"app": "bitrix24", "trigger": "changed_records", "config": {"entity": "lead"}},
        {"app": "yookassa", "trigger": "payment_event"},
    ):
        response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=source))
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"] == [
            {"field": "source.connection_id", "message": "this source needs a connection"}
        ]


async def test_a_connection_of_another_app_is_refused(client, owner, connection_id, amocrm_connection):
    source = {"app": "bitrix24", "trigger": "crm_event", "connection_id": amocrm_connection}
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, source=source))
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["message"] == "no bitrix24 connection with this id"


def test_reading_the_source_back_overrides_what_the_app_or_trigger_says() -> None:
    from bpmlink_api.bundles.validation import needs_connection

    from bpmlink.catalog.model import App, ReadBack, ReadBackRequest, Trigger

    readback = ReadBack(requests=[ReadBackRequest(path="/x/{id}")])
    reads = Trigger(key="t", label={"en": "t", "ru": "t"}, kind="webhook", readback=readback, needs_connection=False)
    polls = Trigger(key="p", label={"en": "p", "ru": "p"}, kind="polling", needs_connection=False)
    plain = Trigger(key="w", label={"en": "w", "ru": "w"}, kind="webhook", needs_connection=False)
    app = App(key="x", label={"en": "x", "ru": "x"}, needs_connection=False, triggers=[reads, polls, plain])
    assert needs_connection(app, reads)
    assert not needs_connection(app, polls)  # a poll of a public link (sheet_url) needs none
    assert not needs_connection(app, plain)
    assert needs_connection(app.model_copy(update={"needs_connection": True}), plain) is False
    assert needs_connection(app.model_copy(update={"needs_connection": True}), None) is True
