"""Polling triggers of source apps (http_polling with the app's preset) against the stand-ins: new
and changed records stored once each, the cursor sent as the vendor filters by it."""

from __future__ import annotations

import uuid

from bpmlink_worker.polling import run_poll

from tests.fixtures.bitrix24_api import BITRIX_CODE
from tests.polling.conftest import events_of, make_connection, make_polling_bundle, poll_state


async def test_amocrm_leads_changed_since_the_cursor_are_stored_once_per_version(
    client, connection_id, amocrm_connection, amocrm_api, sessionmaker, worker
):
    for i in range(1, 4):
        amocrm_api.add_lead(i, f"Lead {i}", 1764600000 + i)
    source = {"app": "amocrm", "connection_id": amocrm_connection, "trigger": "changed_leads", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source)

    first = await run_poll(worker, uuid.UUID(bundle_id))
    assert (first.status, first.stored) == ("caught_up", 3)
    assert amocrm_api.requests[0]["params"] == {"order[updated_at]": "asc", "with": "contacts", "limit": "100"}

    again = await run_poll(worker, uuid.UUID(bundle_id))  # the inclusive filter answers lead 3 again: stored once
    assert again.stored == 0
    assert amocrm_api.requests[-1]["params"]["filter[updated_at][from]"] == "1764600003"

    amocrm_api.add_lead(2, "Lead 2 renamed", 1764600100)  # changed in amoCRM
    changed = await run_poll(worker, uuid.UUID(bundle_id))
    assert changed.stored == 1
    events = await events_of(sessionmaker, bundle_id)
    assert sorted((e.source_item_key, e.item["name"]) for e in events) == [
        ("1@1764600001", "Lead 1"),
        ("2@1764600002", "Lead 2"),
        ("2@1764600100", "Lead 2 renamed"),
        ("3@1764600003", "Lead 3"),
    ]


async def test_amocrm_answering_204_for_nothing_new_is_an_empty_page(
    client, connection_id, amocrm_connection, amocrm_api, sessionmaker, worker
):
    source = {"app": "amocrm", "connection_id": amocrm_connection, "trigger": "changed_leads", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(worker, uuid.UUID(bundle_id))
    assert (result.status, result.stored, result.error) == ("caught_up", 0, None)


async def test_bitrix24_records_are_paged_50_at_a_time_by_date_modify_and_each_stored_once(
    client, connection_id, bitrix24_connection, bitrix24_api, sessionmaker, worker
):
    for i in range(1, 61):
        bitrix24_api.add("contact", i, f"2026-12-01T10:{i // 60:02d}:{i % 60:02d}+03:00", NAME=f"Анна{i}")
    bitrix24_api.add("lead", 500, "2026-12-01T09:00:00+03:00")  # another entity: not polled
    source = {
        "app": "bitrix24",
        "connection_id": bitrix24_connection,
        "trigger": "changed_records",
        "config": {"entity": "contact"},
    }
    bundle_id = await make_polling_bundle(client, connection_id, source)

    result = await run_poll(worker, uuid.UUID(bundle_id))
    assert (result.pages, result.stored) == (2, 60)
    first, second = bitrix24_api.requests
    assert first["path"] == f"/rest/1/{BITRIX_CODE}/crm.contact.list"
    assert "filter[>=DATE_MODIFY]" not in first["params"]
    assert second["params"]["filter[>=DATE_MODIFY]"] == "2026-12-01T10:00:50+03:00"
    assert "select%5B%5D=UF_%2A" in second["query"] and "select%5B%5D=EMAIL" in second["query"]

    bitrix24_api.add("contact", 7, "2026-12-01T11:00:00+03:00", NAME="Анна7 changed")
    assert (await run_poll(worker, uuid.UUID(bundle_id))).stored == 1
    assert (await run_poll(worker, uuid.UUID(bundle_id))).stored == 0
    events = await events_of(sessionmaker, bundle_id)
    assert len(events) == 61 and len({e.source_item_key for e in events}) == 61
    assert [e.item["NAME"] for e in events if e.item["ID"] == "7"].count("Анна7 changed") == 1


async def test_a_polled_source_apps_steps_hide_the_secret_inside_the_webhook_url(
    client, connection_id, bitrix24_connection, bitrix24_api, sessionmaker, worker
):
    bitrix24_api.add("lead", 1, "2026-12-01T10:00:00+03:00")
    source = {"app": "bitrix24", "connection_id": bitrix24_connection, "trigger": "changed_records", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source)
    assert (await run_poll(worker, uuid.UUID(bundle_id))).stored == 1
    [event] = await events_of(sessionmaker, bundle_id)
    ops = (await client.get(f"/api/v1/bundles/{bundle_id}/operations")).json()["items"]
    detail = (await client.get(f"/api/v1/operations/{ops[0]['id']}")).json()
    urls = [s["url"] for s in detail["steps"]]
    assert urls and all(BITRIX_CODE not in u for u in urls)
    assert urls[0].startswith(f"{bitrix24_api.base_url}/[redacted]/crm.lead.list?")
    assert event.item["ID"] == "1"


async def test_a_sample_is_fetched_through_the_apps_preset(
    client, connection_id, amocrm_connection, amocrm_api, sessionmaker
):
    amocrm_api.add_lead(5, "Sample lead", 1764600005)
    source = {"app": "amocrm", "connection_id": amocrm_connection, "trigger": "changed_leads", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source, start=False)
    response = await client.post(f"/api/v1/bundles/{bundle_id}/sample", json={"fetch": True})
    assert response.status_code == 200, response.text
    assert response.json()["sample"]["name"] == "Sample lead"
    assert amocrm_api.requests[0]["params"]["limit"] == "1"
    assert await events_of(sessionmaker, bundle_id) == []


async def test_a_refused_token_is_told_in_the_apps_words(
    client, connection_id, owner, amocrm_api, sessionmaker, worker
):
    conn = await make_connection(client, "amocrm", {"domain": amocrm_api.base_url}, {"token": "amo-revoked-0123456789"})
    source = {"app": "amocrm", "connection_id": conn, "trigger": "changed_leads", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(worker, uuid.UUID(bundle_id))
    assert result.status == "failed"
    state = await poll_state(sessionmaker, bundle_id)
    assert state.last_error.startswith("[source_refused] amoCRM answered HTTP 401 to GET /api/v4/leads: Unauthorized")
    assert "amo-revoked-0123456789" not in state.last_error


async def test_bitrix24_records_of_one_second_beyond_a_page_are_all_taken(
    client, connection_id, bitrix24_connection, bitrix24_api, sessionmaker, worker
):
    """An import stamps 120 contacts with one DATE_MODIFY: an inclusive cursor alone would answer the
    same 50 forever; the walk by `start` takes them all, then the cursor moves on."""
    for i in range(1, 121):
        bitrix24_api.add("contact", i, "2026-12-01T10:00:00+03:00", NAME=f"Импорт{i}")
    source = {
        "app": "bitrix24",
        "connection_id": bitrix24_connection,
        "trigger": "changed_records",
        "config": {"entity": "contact"},
    }
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(worker, uuid.UUID(bundle_id))
    assert (result.status, result.stored) == ("caught_up", 120)
    # The first page moved the cursor from nothing; the second (from that second, inclusive) did not: the walk.
    assert [r["params"].get("start") for r in bitrix24_api.requests] == [None, None, "50", "100"]

    bitrix24_api.add("contact", 121, "2026-12-01T10:00:01+03:00", NAME="После")
    later = await run_poll(worker, uuid.UUID(bundle_id))
    assert later.stored == 1
    events = await events_of(sessionmaker, bundle_id)
    assert len(events) == 121 and len({e.item["ID"] for e in events}) == 121


async def test_amocrm_leads_of_one_second_beyond_a_page_are_all_taken(
    client, connection_id, amocrm_connection, amocrm_api, sessionmaker, worker
):
    for i in range(1, 8):
        amocrm_api.add_lead(i, f"Bulk {i}", 1764600000)
    source = {"app": "amocrm", "connection_id": amocrm_connection, "trigger": "changed_leads", "config": {}}
    bundle_id = await make_polling_bundle(client, connection_id, source)
    result = await run_poll(worker, uuid.UUID(bundle_id), page_size=3)
    assert (result.status, result.stored) == ("caught_up", 7)
    assert [r["params"].get("page") for r in amocrm_api.requests] == [None, None, "2", "3"]
