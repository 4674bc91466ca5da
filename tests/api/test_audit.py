"""The per-workspace audit log: one entry per change, written with the change, read by owners only."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from bpmlink_worker import polling
from bpmlink_worker.polling import run_poll
from bpmlink_worker.process import process_event

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, api_key_client, login, make_workspace
from tests.fixtures.app import execute
from tests.fixtures.pipeline import bundle_body, make_bundle, post_event

SECRET = "s3cr3t-Pa$$word-never-logged"
WEBHOOK_SECRET = "hook-secret-never-logged"
CHAT_TOKEN = "chat-token-never-logged"
ITEM = {"first_name": "Anna", "last_name": "Audit", "email": "anna@example.com", "phone": "+7 912 345-67-89"}


def bpm_body(domain: str, name: str = "Main CRM") -> dict:
    return {
        "app": "bpmonline",
        "name": name,
        "params": {"domain": domain, "auth": "forms", "username": "Supervisor"},
        "secrets": {"password": SECRET},
    }


async def entries(client: httpx.AsyncClient, **params: object) -> list[dict]:
    response = await client.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def kinds(items: list[dict]) -> list[tuple[str, str]]:
    """(entity_type, action), oldest first."""
    return [(e["entity_type"], e["action"]) for e in reversed(items)]


async def stored_text(sessionmaker) -> str:
    """Everything the audit log stores, as text, to search for secrets."""
    rows = await execute(
        sessionmaker, "select entity_name || ' ' || coalesce(entity_id, '') || details::text from audit_log"
    )
    return "\n".join(r[0] for r in rows)


async def test_connection_created_updated_deleted_with_actor_and_time(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    before = datetime.now(UTC) - timedelta(seconds=1)
    cid = (await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))).json()["id"]
    patch = {
        "name": "Renamed",
        "params": {"domain": "https://crm2.example.com", "auth": "forms", "username": "Supervisor"},
    }
    assert (await client.patch(f"/api/v1/connections/{cid}", json=patch)).status_code == 200
    new_secret = {"secrets": {"password": SECRET + "-2"}}
    assert (await client.patch(f"/api/v1/connections/{cid}", json=new_secret)).status_code == 200
    assert (await client.delete(f"/api/v1/connections/{cid}")).status_code == 204

    items = await entries(client)
    assert kinds(items) == [("connection", a) for a in ("created", "updated", "updated", "deleted")]
    assert {e["entity_id"] for e in items} == {cid}
    deleted, secret_changed, renamed, created = items
    assert created["entity_name"] == "Main CRM" and created["details"] == {"app": "bpmonline"}
    assert renamed["entity_name"] == "Renamed"
    assert renamed["details"] == {"changed": ["name", "params.domain"], "previous_name": "Main CRM"}
    assert secret_changed["details"] == {"changed": ["secrets.password"]}  # the name, not the value
    assert deleted["entity_name"] == "Renamed"
    for entry in items:
        assert entry["actor"] == {"id": str(owner.user_id), "email": owner.email, "name": ""}
        assert entry["via"] == "session"
        assert before <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)
    text = await stored_text(sessionmaker)
    assert SECRET not in text


async def test_a_change_refused_leaves_no_entry(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    cid = (await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))).json()["id"]
    response = await client.patch(f"/api/v1/connections/{cid}", json={"secrets": {"password": None}})
    assert response.status_code == 422
    unchanged = await client.patch(f"/api/v1/connections/{cid}", json={"name": "Main CRM"})
    assert unchanged.status_code == 200
    assert kinds(await entries(client)) == [("connection", "created")]


async def test_bundle_created_updated_started_stopped_deleted(client, owner, connection_id, sessionmaker):
    bundle = await make_bundle(client, connection_id, start=False)
    bid = bundle["id"]
    body = bundle_body(connection_id, name="Renamed bundle", webhook_secret=WEBHOOK_SECRET)
    assert (await client.put(f"/api/v1/bundles/{bid}", json=body)).status_code == 200
    assert (await client.post(f"/api/v1/bundles/{bid}/start")).status_code == 200
    assert (await client.post(f"/api/v1/bundles/{bid}/stop")).status_code == 200
    assert (await client.post(f"/api/v1/bundles/{bid}/stop")).status_code == 200  # already stopped: no change
    assert (await client.delete(f"/api/v1/bundles/{bid}")).status_code == 204

    items = await entries(client, entity_type="bundle")
    assert kinds(items) == [("bundle", a) for a in ("created", "updated", "started", "stopped", "deleted")]
    deleted, stopped, started, updated, created = items
    assert created["entity_id"] == bid and created["entity_name"] == "Site form → Contacts"
    assert created["details"] == {"source_app": "webhook", "trigger": "incoming_request", "entity": "Contact"}
    assert updated["entity_name"] == "Renamed bundle"
    assert updated["details"] == {
        "changed": ["name", "webhook_secret"],
        "previous_name": "Site form → Contacts",
        "config_version": 2,
    }
    assert started["details"] == {"previous_status": "stopped", "status": "waiting"}
    assert stopped["details"] == {"previous_status": "waiting"}
    assert deleted["details"] == {"previous_status": "stopped"}
    assert all(e["actor"]["email"] == owner.email and e["via"] == "session" for e in items)
    text = await stored_text(sessionmaker)
    assert WEBHOOK_SECRET not in text
    assert bundle["webhook_url"].rsplit("/", 1)[-1] not in text


async def test_a_bundle_bpmlink_stops_into_error_is_recorded_as_the_system(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    await client.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"password": "no-longer-valid"}})
    sandbox.expire_sessions()
    event_id = await post_event(sessionmaker, bundle["id"], ITEM)
    assert await process_event(worker_ctx, str(event_id)) == "failed"

    latest = (await entries(client, entity_type="bundle"))[0]
    assert (latest["action"], latest["entity_id"], latest["via"], latest["actor"]) == (
        "stopped",
        bundle["id"],
        "system",
        None,
    )
    assert latest["details"]["status"] == "error" and "refused" in latest["details"]["reason"]
    assert "no-longer-valid" not in await stored_text(sessionmaker)


async def test_a_polling_bundle_stopped_after_repeated_failures_is_recorded_as_the_system(
    client, owner, connection_id, sandbox, sessionmaker, worker
):
    source = await client.post(
        "/api/v1/connections",
        json={
            "app": "http_polling",
            "name": "Shop",
            "params": {"base_url": sandbox.base_url, "auth_header": "X-Api-Key"},
            "secrets": {"auth_value": "api-key"},
        },
    )
    trigger = {"path": "/no-such-items", "items_path": "items", "id_field": "id"}
    body = bundle_body(
        connection_id,
        source={"app": "http_polling", "connection_id": source.json()["id"], "trigger": "new_items", "config": trigger},
    )
    bid = (await client.post("/api/v1/bundles", json=body)).json()["id"]
    assert (await client.post(f"/api/v1/bundles/{bid}/start")).json()["status"] == "running"

    for _ in range(polling.STOP_AFTER):
        assert (await run_poll(worker, uuid.UUID(bid))).status == "failed"

    latest = (await entries(client, entity_type="bundle"))[0]
    assert (latest["action"], latest["entity_id"], latest["via"], latest["actor"]) == ("stopped", bid, "system", None)
    assert latest["details"]["status"] == "error"
    assert latest["details"]["reason"].startswith(f"polling failed {polling.STOP_AFTER} times")


async def test_api_key_created_and_revoked_without_the_key(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    created = (await client.post("/api/v1/api-keys", json={"name": "script"})).json()
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}")).status_code == 204
    assert (await client.delete(f"/api/v1/api-keys/{created['id']}")).status_code == 204  # already revoked

    items = await entries(client)
    assert kinds(items) == [("api_key", "created"), ("api_key", "revoked")]
    assert {(e["entity_id"], e["entity_name"]) for e in items} == {(created["id"], "script")}
    assert items[0]["details"] == {"prefix": created["key"][:10]}
    assert created["key"] not in await stored_text(sessionmaker)


async def test_changes_through_an_api_key_say_so(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    async with await api_key_client(app, owner, sessionmaker) as script:
        assert (await script.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))).status_code == 201
    latest = (await entries(client))[0]
    assert (latest["entity_type"], latest["action"], latest["via"]) == ("connection", "created", "api_key")
    assert latest["actor"]["id"] == str(owner.user_id)


async def test_workspace_updated_names_the_notification_fields_not_their_values(client, sessionmaker):
    owner = await make_workspace(sessionmaker, "Old name")
    await login(client, owner)
    webhook_url = f"https://chat.example.com/hooks/{CHAT_TOKEN}"
    patch = {"name": "New name", "notifications": {"emails": ["ops@example.com"], "webhook_url": webhook_url}}
    assert (await client.patch("/api/v1/workspace", json=patch)).status_code == 200
    assert (await client.patch("/api/v1/workspace", json=patch)).status_code == 200  # the same again: no change

    items = await entries(client, entity_type="workspace")
    assert kinds(items) == [("workspace", "updated")]
    entry = items[0]
    assert (entry["entity_id"], entry["entity_name"]) == (str(owner.workspace_id), "New name")
    assert entry["details"] == {
        "changed": ["name", "notifications.emails", "notifications.webhook_url"],
        "previous_name": "Old name",
    }
    assert CHAT_TOKEN not in await stored_text(sessionmaker)


async def test_only_owners_read_the_log(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    for role in (Role.editor, Role.viewer):
        member = await add_member(sessionmaker, owner.workspace_id, role)
        client.cookies.clear()
        await login(client, member)
        response = await client.get("/api/v1/audit")
        assert response.status_code == 403, (role, response.text)
    client.cookies.clear()
    assert (await client.get("/api/v1/audit")).status_code == 401


async def test_an_editors_change_is_read_by_the_owner(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, editor)
    await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))
    client.cookies.clear()
    await login(client, owner)
    assert [e["actor"]["email"] for e in await entries(client)] == [editor.email]


async def test_a_workspace_never_sees_another_workspaces_entries(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await login(client, a)
    await client.post("/api/v1/connections", json=bpm_body("https://a.example.com", name="A's CRM"))
    client.cookies.clear()
    await login(client, b)
    assert await entries(client) == []
    await client.post("/api/v1/connections", json=bpm_body("https://b.example.com", name="B's CRM"))
    assert [e["entity_name"] for e in await entries(client)] == ["B's CRM"]


async def test_pages_with_a_cursor_newest_first(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    for i in range(5):
        await client.post("/api/v1/connections", json=bpm_body(f"https://c{i}.example.com", name=f"c{i}"))
    names: list[str] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/audit", params=params)).json()
        names += [e["entity_name"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert names == ["c4", "c3", "c2", "c1", "c0"]
    assert cursor is None
    for bad in ("garbage", _cursor("2026-11-27T10:00:00+00:00|99999999999999999999"), _cursor("yesterday|1")):
        assert (await client.get("/api/v1/audit", params={"cursor": bad})).status_code == 422, bad
    naive = await client.get("/api/v1/audit", params={"cursor": _cursor("2000-01-01T00:00:00|1")})
    assert naive.status_code == 200 and naive.json()["items"] == []  # a hand-made cursor without a zone
    for limit in (0, 201):
        assert (await client.get("/api/v1/audit", params={"limit": limit})).status_code == 422


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_filter_by_entity_type(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))
    await client.post("/api/v1/api-keys", json={"name": "script"})
    await client.patch("/api/v1/workspace", json={"name": "Renamed"})
    assert kinds(await entries(client, entity_type="api_key")) == [("api_key", "created")]
    assert kinds(await entries(client, entity_type="connection")) == [("connection", "created")]
    assert len(await entries(client)) == 3
    assert (await client.get("/api/v1/audit", params={"entity_type": "nope"})).status_code == 422
