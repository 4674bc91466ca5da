"""A date conversion without a time zone is saved with the saving user's profile time zone (issue #9)."""

from typing import Any

import httpx
from bpmlink_worker.process import process_event

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, login
from tests.fixtures.pipeline import bundle_body, make_bundle, post_event, sandbox_rows

MEETING = {"target": "MeetingDate", "source": "when", "convert": [{"name": "date", "format": "%d.%m.%Y %H:%M"}]}
ITEM = {"lead": "Tea with Anna", "when": "05.03.2026 10:00"}


def lead_body(connection_id: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return bundle_body(
        connection_id,
        name="Meetings → Leads",
        target={"connection_id": connection_id, "action": "create_record", "entity": "Lead"},
        mapping=[{"target": "LeadName", "source": "lead"}, *rules],
        dedup={"mode": "always_create"},
    )


async def set_timezone(client: httpx.AsyncClient, timezone: str) -> None:
    response = await client.patch("/api/v1/auth/profile", json={"timezone": timezone})
    assert response.status_code == 200, response.text


def date_steps(bundle: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The date steps of each rule, by target field."""
    return {
        rule["target"]: [step for step in rule.get("convert", []) if step["name"] == "date"]
        for rule in bundle["mapping"]
    }


async def test_date_step_without_zone_is_saved_with_the_profile_zone_and_keeps_it(client, owner, connection_id):
    await set_timezone(client, "Europe/Moscow")
    bundle = await make_bundle(client, connection_id, start=False, **lead_body(connection_id, MEETING))
    saved = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    [step] = date_steps(saved)["MeetingDate"]
    assert (step["format"], step["timezone"]) == ("%d.%m.%Y %H:%M", "Europe/Moscow")
    await set_timezone(client, "Asia/Tokyo")
    later = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    assert date_steps(later)["MeetingDate"][0]["timezone"] == "Europe/Moscow"
    assert later["config_version"] == 1


async def test_saved_zone_is_used_by_the_preview_and_by_processing(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    await set_timezone(client, "Europe/Moscow")
    bundle = await make_bundle(client, connection_id, **lead_body(connection_id, MEETING))
    preview = (await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": ITEM})).json()
    assert preview["values"]["MeetingDate"] == "2026-03-05T07:00:00Z"
    await set_timezone(client, "Asia/Tokyo")  # the saved bundle does not follow the profile
    event_id = await post_event(sessionmaker, bundle["id"], ITEM)
    assert await process_event(worker_ctx, str(event_id)) == "created"
    rows = sandbox_rows(sandbox, "Lead", "LeadName eq 'Tea with Anna'")
    assert [row["MeetingDate"] for row in rows] == ["2026-03-05T07:00:00Z"]


async def test_preview_of_an_unsaved_mapping_uses_the_profile_zone_as_a_save_would(client, owner, connection_id):
    await set_timezone(client, "Europe/Moscow")
    bundle = await make_bundle(client, connection_id, start=False, **lead_body(connection_id))
    draft = [{"target": "LeadName", "source": "lead"}, MEETING]
    response = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": ITEM, "mapping": draft})
    assert response.json()["values"]["MeetingDate"] == "2026-03-05T07:00:00Z"


async def test_explicit_zone_is_kept(client, owner, connection_id):
    await set_timezone(client, "Europe/Moscow")
    tokyo = {**MEETING, "convert": [{"name": "date", "format": "%d.%m.%Y %H:%M", "timezone": "Asia/Tokyo"}]}
    bundle = await make_bundle(client, connection_id, start=False, **lead_body(connection_id, tokyo))
    assert date_steps(bundle)["MeetingDate"][0]["timezone"] == "Asia/Tokyo"
    preview = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": ITEM})
    assert preview.json()["values"]["MeetingDate"] == "2026-03-05T01:00:00Z"


async def test_utc_profile_writes_utc_explicitly(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False, **lead_body(connection_id, MEETING))
    assert date_steps(bundle)["MeetingDate"][0]["timezone"] == "UTC"


async def test_another_editors_save_keeps_zones_already_set_and_fills_new_steps_with_theirs(
    client, owner, connection_id, sessionmaker
):
    await set_timezone(client, "Europe/Moscow")
    bundle = await make_bundle(client, connection_id, start=False, **lead_body(connection_id, MEETING))
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    client.cookies.clear()
    await login(client, editor)
    await set_timezone(client, "Asia/Tokyo")
    saved = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    body = {key: saved[key] for key in ("name", "source", "target", "mapping", "dedup")}
    body["mapping"] = [*saved["mapping"], {"target": "DecisionDate", "source": "when", "convert": ["date"]}]
    updated = await client.put(f"/api/v1/bundles/{bundle['id']}", json=body)
    assert updated.status_code == 200, updated.text
    steps = date_steps((await client.get(f"/api/v1/bundles/{bundle['id']}")).json())
    assert steps["MeetingDate"][0]["timezone"] == "Europe/Moscow"
    assert [step["timezone"] for step in steps["DecisionDate"]] == ["Asia/Tokyo"]
