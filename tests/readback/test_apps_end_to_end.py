"""End to end for amoCRM, Bitrix24, Facebook Lead Ads and YooKassa: each recorded request
(tests/apps/payloads/<app>/<name>.json) sent to the real gateway, the events it stored processed by the
worker — read back from the vendor's stand-in — into the sandbox. A resend stores nothing, a request
that fails verification is refused with nothing stored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from bpmlink_gateway.app import create_app
from bpmlink_worker.process import process_event

from bpmlink.db.models import EventState, OperationStatus
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import BodySizeLimit
from tests.apps.recorded import Recorded
from tests.apps.recorded import load as payload
from tests.fixtures.bitrix24_api import APPLICATION_TOKEN
from tests.fixtures.graph_api import APP_SECRET, VERIFY_TOKEN
from tests.fixtures.pipeline import job_ctx, sandbox_rows
from tests.polling.conftest import events_of
from tests.readback.conftest import operations_of, source_bundle

Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def gateway(settings: Settings) -> AsyncIterator[Send]:
    """The gateway app in this process; `send(bundle, recorded, secret=…)` replays a recorded request
    from its sender's address (signed with `secret` by the vendor's scheme, where the file names one)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        guarded = BodySizeLimit(app, settings.max_request_bytes)

        async def send(bundle: dict[str, Any], recorded: Recorded, *, secret: str | None = None) -> httpx.Response:
            path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
            sent = recorded.signed(secret) if secret is not None else recorded
            transport = httpx.ASGITransport(app=guarded, client=(sent.client or "127.0.0.1", 44321))
            async with httpx.AsyncClient(transport=transport, base_url="https://hooks.test") as http:
                return await http.request(url=path, **sent.send_kwargs())

        yield send


async def process_all(worker, sessionmaker, bundle: dict[str, Any]) -> list[str]:
    """Run the worker's job for each queued event of the bundle; their results."""
    events = await events_of(sessionmaker, bundle["id"])
    return [await process_event(job_ctx(worker), str(e.id)) for e in events if e.state not in (EventState.done,)]


# --- amoCRM -------------------------------------------------------------------------------------------

AMO_MAPPING = [{"target": "Name", "source": "record.name"}]


async def test_amocrm_leads_and_contacts_are_split_read_back_and_stored_once(
    client, connection_id, amocrm_connection, amocrm_api, gateway, worker, sessionmaker, sandbox
):
    amocrm_api.add_lead(31750843, "amo: Анна, заявка с сайта", 1764600100, contact_ids=(27,))
    amocrm_api.add_lead(31750850, "amo: Борис, повторная заявка", 1764600100)
    amocrm_api.add_contact(27, "amo: Анна Контакт", "anna@amo.example", "+79123456789")
    source = {"app": "amocrm", "trigger": "lead_or_contact_event", "connection_id": amocrm_connection}
    bundle = await source_bundle(client, connection_id, source, AMO_MAPPING)

    added = await gateway(bundle, payload("amocrm", "lead_added"))
    assert added.status_code == 202, added.text
    two = await gateway(bundle, payload("amocrm", "two_leads_updated"))
    assert two.status_code == 202 and len(two.json()["event_ids"]) == 2
    contact = await gateway(bundle, payload("amocrm", "contact_added"))
    assert contact.status_code == 202
    resent = await gateway(bundle, payload("amocrm", "two_leads_updated"))
    assert resent.json()["event_ids"] == two.json()["event_ids"]  # the first events, nothing stored

    events = await events_of(sessionmaker, bundle["id"])
    assert sorted(e.idempotency_key for e in events) == [
        "contacts:27:add:1764600000",
        "leads:31750843:add:1764600000",
        "leads:31750843:update:1764600100",
        "leads:31750850:update:1764600100",
    ]
    assert all(e.item["account"]["subdomain"] == "acme" for e in events)
    assert sorted(await process_all(worker, sessionmaker, bundle)) == ["created"] * 4

    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'amo: Анна, заявка с сайта'")) == 2  # added, then updated
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'amo: Борис, повторная заявка'")) == 1
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'amo: Анна Контакт'")) == 1
    paths = sorted(r["path"] for r in amocrm_api.requests)
    assert paths == ["/api/v4/contacts/27", *["/api/v4/leads/31750843"] * 2, "/api/v4/leads/31750850"]


async def test_amocrm_at_a_wrong_url_stores_nothing(
    client, connection_id, amocrm_connection, amocrm_api, gateway, sessionmaker
):
    source = {"app": "amocrm", "trigger": "lead_or_contact_event", "connection_id": amocrm_connection}
    bundle = await source_bundle(client, connection_id, source, AMO_MAPPING)
    guessed = {**bundle, "webhook_url": bundle["webhook_url"][:-6] + "abcdef"}  # amoCRM's secret is the URL
    response = await gateway(guessed, payload("amocrm", "lead_added"))
    assert response.status_code == 404
    assert await events_of(sessionmaker, bundle["id"]) == []


# --- Bitrix24 -----------------------------------------------------------------------------------------

BITRIX_MAPPING = [{"target": "Name", "template": "{{ record.NAME }} {{ record.LAST_NAME }}"}]


async def test_bitrix24_events_carry_an_id_read_back_by_the_events_method(
    client, connection_id, bitrix24_connection, bitrix24_api, gateway, worker, sessionmaker, sandbox
):
    bitrix24_api.add("lead", 42, "2026-12-01T10:00:00+03:00", NAME="Лид", LAST_NAME="Битрикс")
    bitrix24_api.add("contact", 43, "2026-12-01T10:00:00+03:00", NAME="Контакт", LAST_NAME="Битрикс")
    source = {"app": "bitrix24", "trigger": "crm_event", "connection_id": bitrix24_connection}
    bundle = await source_bundle(client, connection_id, source, BITRIX_MAPPING, webhook_secret=APPLICATION_TOKEN)

    assert (await gateway(bundle, payload("bitrix24", "lead_added"))).status_code == 202
    assert (await gateway(bundle, payload("bitrix24", "contact_updated"))).status_code == 202
    assert (await gateway(bundle, payload("bitrix24", "lead_added"))).status_code == 202  # a resend
    refused = await gateway(bundle, payload("bitrix24", "wrong_token"))
    assert refused.status_code == 401

    assert len(await events_of(sessionmaker, bundle["id"])) == 2
    assert sorted(await process_all(worker, sessionmaker, bundle)) == ["created", "created"]
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Лид Битрикс'")) == 1
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Контакт Битрикс'")) == 1
    methods = sorted(r["path"].rsplit("/", 1)[1] for r in bitrix24_api.requests)
    assert methods == ["crm.contact.get", "crm.lead.get"]


# --- Facebook Lead Ads --------------------------------------------------------------------------------

FACEBOOK_MAPPING = [
    {"target": "Name", "source": "lead.fields.full_name"},
    {"target": "Email", "source": "lead.fields.email"},
]


async def facebook_bundle(client, connection_id: str, graph_connection: str) -> dict[str, Any]:
    source = {
        "app": "facebook_leads",
        "trigger": "new_lead",
        "connection_id": graph_connection,
        "config": {"verify_token": VERIFY_TOKEN},
    }
    return await source_bundle(client, connection_id, source, FACEBOOK_MAPPING, webhook_secret=APP_SECRET)


async def test_facebook_subscription_check_echoes_the_challenge_for_the_right_verify_token(
    client, connection_id, graph_connection, graph_api, gateway, sessionmaker
):
    bundle = await facebook_bundle(client, connection_id, graph_connection)
    check = payload("facebook_leads", "subscribe")
    response = await gateway(bundle, check)
    assert (response.status_code, response.text) == (200, "1158201444")
    assert isinstance(check.query, str)
    wrong = replace(check, query=check.query.replace(VERIFY_TOKEN, "guessed-phrase"))
    assert (await gateway(bundle, wrong)).status_code in (401, 403)
    [operation] = await operations_of(sessionmaker, bundle["id"])
    assert operation.status == OperationStatus.test  # kept as a test, never pushed
    assert graph_api.requests == []


async def test_facebook_leads_signed_with_the_app_secret_are_read_back_from_graph(
    client, connection_id, graph_connection, graph_api, gateway, worker, sessionmaker, sandbox
):
    graph_api.add_lead("444444444444", full_name="Анна Лидформа", email="anna@fb.example")
    graph_api.add_lead("444444444445", full_name="Борис Лидформа", email="boris@fb.example")
    bundle = await facebook_bundle(client, connection_id, graph_connection)

    one = await gateway(bundle, payload("facebook_leads", "leadgen"), secret=APP_SECRET)
    assert (one.status_code, one.text) == (200, "ok")
    two = await gateway(bundle, payload("facebook_leads", "two_changes"), secret=APP_SECRET)  # 444 again, and 445
    assert two.status_code == 200
    forged = await gateway(bundle, payload("facebook_leads", "wrong_signature"), secret=APP_SECRET)
    assert forged.status_code == 401
    unsigned = await gateway(bundle, payload("facebook_leads", "leadgen"))
    assert unsigned.status_code == 401

    events = await events_of(sessionmaker, bundle["id"])
    assert sorted(e.idempotency_key for e in events) == ["444444444444", "444444444445"]
    assert sorted(await process_all(worker, sessionmaker, bundle)) == ["created", "created"]
    [anna] = sandbox_rows(sandbox, "Contact", "Email eq 'anna@fb.example'")
    assert anna["Name"] == "Анна Лидформа"
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'boris@fb.example'")) == 1
    assert sorted(r["path"] for r in graph_api.requests) == ["/v21.0/444444444444", "/v21.0/444444444445"]


# --- YooKassa -----------------------------------------------------------------------------------------

YOOKASSA_MAPPING = [{"target": "Name", "template": "ЮKassa {{ payment.id }} {{ payment.status }}"}]


async def test_yookassa_notifications_from_its_addresses_are_read_back_and_checked(
    client, connection_id, yookassa_connection, yookassa_api, gateway, worker, sessionmaker, sandbox
):
    yookassa_api.add_payment("22e12f66-000f-5000-8000-18db351245c7", "succeeded")
    yookassa_api.add_payment("22e12f66-000f-5000-8000-18db351245c8", "waiting_for_capture")
    yookassa_api.add_payment("22e12f66-000f-5000-8000-18db351245c9", "succeeded")
    source = {"app": "yookassa", "trigger": "payment_event", "connection_id": yookassa_connection}
    bundle = await source_bundle(client, connection_id, source, YOOKASSA_MAPPING)

    paid = await gateway(bundle, payload("yookassa", "payment_succeeded"))
    assert (paid.status_code, paid.text) == (200, "")
    assert (await gateway(bundle, payload("yookassa", "payment_waiting_for_capture"))).status_code == 200  # IPv6
    assert (await gateway(bundle, payload("yookassa", "payment_succeeded"))).status_code == 200  # a resend
    outsider = await gateway(bundle, payload("yookassa", "from_another_address"))
    assert outsider.status_code == 401

    events = await events_of(sessionmaker, bundle["id"])
    assert sorted(e.idempotency_key for e in events) == [
        "22e12f66-000f-5000-8000-18db351245c7:payment.succeeded",
        "22e12f66-000f-5000-8000-18db351245c8:payment.waiting_for_capture",
    ]
    assert sorted(await process_all(worker, sessionmaker, bundle)) == ["created", "created"]
    rows = sandbox_rows(sandbox, "Contact", "startswith(Name, 'ЮKassa ')")
    assert sorted(r["Name"] for r in rows) == [
        "ЮKassa 22e12f66-000f-5000-8000-18db351245c7 succeeded",
        "ЮKassa 22e12f66-000f-5000-8000-18db351245c8 waiting_for_capture",
    ]
    assert {uuid.UUID(r["Id"]) for r in rows} == {
        op.record_id for op in await operations_of(sessionmaker, bundle["id"])
    }
