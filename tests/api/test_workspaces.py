"""Several workspaces per user, switching without leaks, creating one, the profile (members: test_users.py)."""

import pytest
from bpmlink_api.app import create_app

from bpmlink.db.models import Membership, Role
from tests.fixtures.accounts import PASSWORD, add_member, api_key_client, login, make_workspace
from tests.fixtures.app import browser, execute, make_settings

CONNECTION = {
    "app": "bpmonline",
    "params": {"domain": "https://crm.example.com", "auth": "forms", "username": "Supervisor"},
    "secrets": {"password": "p"},
}


async def _join(sessionmaker, workspace_id, user_id, role: Role) -> None:
    async with sessionmaker() as session:
        session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))
        await session.commit()


async def test_after_a_switch_every_call_works_in_the_new_workspace_only(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await _join(sessionmaker, b.workspace_id, a.user_id, Role.editor)
    await login(client, a)
    a_connection = (await client.post("/api/v1/connections", json={**CONNECTION, "name": "A CRM"})).json()["id"]
    a_key = (await client.post("/api/v1/api-keys", json={"name": "A key"})).json()["id"]

    switched = await client.post("/api/v1/auth/switch", json={"workspace_id": str(b.workspace_id)})
    assert switched.status_code == 200, switched.text
    assert switched.json()["workspace"]["name"] == "B" and switched.json()["role"] == "editor"
    assert (await client.get("/api/v1/auth/me")).json()["workspace"]["id"] == str(b.workspace_id)
    assert (await client.get("/api/v1/workspace")).json()["name"] == "B"
    assert (await client.get("/api/v1/connections")).json()["items"] == []
    assert (await client.get("/api/v1/api-keys")).json()["items"] == []
    assert {m["email"] for m in (await client.get("/api/v1/users")).json()["items"]} == {a.email, b.email}
    assert (await client.get(f"/api/v1/connections/{a_connection}")).status_code == 404
    assert (await client.delete(f"/api/v1/api-keys/{a_key}")).status_code == 404
    b_connection = (await client.post("/api/v1/connections", json={**CONNECTION, "name": "B CRM"})).json()["id"]

    await client.post("/api/v1/auth/switch", json={"workspace_id": str(a.workspace_id)})
    assert [c["id"] for c in (await client.get("/api/v1/connections")).json()["items"]] == [a_connection]
    assert (await client.get(f"/api/v1/connections/{b_connection}")).status_code == 404
    assert [k["id"] for k in (await client.get("/api/v1/api-keys")).json()["items"]] == [a_key]


async def test_switching_to_a_workspace_of_which_one_is_not_a_member_is_404(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await login(client, a)
    response = await client.post("/api/v1/auth/switch", json={"workspace_id": str(b.workspace_id)})
    assert response.status_code == 404
    assert (await client.get("/api/v1/workspace")).json()["name"] == "A"


async def test_an_api_key_stays_in_its_workspace(app, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await _join(sessionmaker, b.workspace_id, a.user_id, Role.owner)
    async with await api_key_client(app, a, sessionmaker) as script:
        response = await script.post("/api/v1/auth/switch", json={"workspace_id": str(b.workspace_id)})
        assert response.status_code == 422
        assert (await script.get("/api/v1/workspace")).json()["name"] == "A"


async def test_a_new_workspace_is_owned_by_its_creator_and_selected(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    await login(client, a)
    created = await client.post("/api/v1/workspaces", json={"name": "Second"})
    assert created.status_code == 201, created.text
    me = created.json()
    assert me["workspace"]["name"] == "Second" and me["role"] == "owner"
    assert sorted(w["name"] for w in me["workspaces"]) == ["A", "Second"]
    assert (await client.get("/api/v1/workspace")).json()["name"] == "Second"
    audit = await execute(sessionmaker, "select action, entity_type, entity_name, workspace_id::text from audit_log")
    assert audit == [("created", "workspace", "Second", me["workspace"]["id"])]


@pytest.mark.parametrize(
    ("signup", "role", "status"),
    [
        ("invite", Role.viewer, 403),
        ("closed", Role.editor, 403),
        ("invite", Role.owner, 201),
        ("open", Role.viewer, 201),
    ],
)
@pytest.mark.usefixtures("_clean_tables")
async def test_who_may_create_a_workspace_follows_the_signup_mode(db_url, redis_url, signup, role, status):
    settings = make_settings(db_url, redis_url, BPMLINK_SIGNUP=signup)
    app = create_app(settings)
    async with app.router.lifespan_context(app), browser(app) as client:
        owner = await make_workspace(app.state.sessionmaker)
        member = owner if role == Role.owner else await add_member(app.state.sessionmaker, owner.workspace_id, role)
        await login(client, member)
        created = await client.post("/api/v1/workspaces", json={"name": "Mine"})
        assert created.status_code == status, created.text
        if status == 403:
            assert created.json()["error"]["code"] == "workspace_creation_closed"
            assert created.json()["error"]["details"] == {"signup": signup}


async def test_profile_changes_name_language_and_time_zone(client, sessionmaker):
    a = await make_workspace(sessionmaker)
    await login(client, a)
    assert (await client.get("/api/v1/auth/me")).json()["user"] | {"id": None} == {
        "id": None,
        "email": a.email,
        "name": "",
        "language": "en",
        "timezone": "UTC",
    }
    patched = await client.patch(
        "/api/v1/auth/profile", json={"name": "Анна", "language": "ru", "timezone": "Europe/Moscow"}
    )
    assert patched.status_code == 200, patched.text
    user = (await client.get("/api/v1/auth/me")).json()["user"]
    assert (user["name"], user["language"], user["timezone"]) == ("Анна", "ru", "Europe/Moscow")
    bad_zone = await client.patch("/api/v1/auth/profile", json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and bad_zone.json()["error"]["details"][0]["field"] == "timezone"
    bad_language = await client.patch("/api/v1/auth/profile", json={"language": "de"})
    assert bad_language.status_code == 422 and bad_language.json()["error"]["details"][0]["field"] == "language"


async def test_logging_in_picks_a_workspace_and_lists_them_all(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await _join(sessionmaker, b.workspace_id, a.user_id, Role.viewer)
    chosen = await client.post(
        "/api/v1/auth/login", json={"email": a.email, "password": PASSWORD, "workspace_id": str(b.workspace_id)}
    )
    assert chosen.json()["workspace"]["name"] == "B" and chosen.json()["role"] == "viewer"
    assert sorted(w["name"] for w in chosen.json()["workspaces"]) == ["A", "B"]
