"""Members of a workspace: only the owner manages them, roles change and end access, the last owner stays."""

import asyncio

import httpx

from bpmlink.db.models import Role
from tests.fixtures.accounts import PASSWORD, add_member, api_key_client, login, make_workspace
from tests.fixtures.app import browser, execute
from tests.fixtures.smtp import link_token


async def test_only_owner_manages_members_and_last_owner_stays(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, editor)
    assert (await client.post("/api/v1/invitations", json={"email": "x@example.com"})).status_code == 403
    assert (await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "viewer"})).status_code == 403
    client.cookies.clear()
    await login(client, owner)
    # Members come through invitations; the old direct creation is gone.
    gone = await client.post("/api/v1/users", json={"email": "new@example.com", "password": "longenough"})
    assert gone.status_code in (404, 405)
    invited = await client.post("/api/v1/invitations", json={"email": "new@example.com", "role": "viewer"})
    assert invited.status_code == 201 and invited.json()["role"] == "viewer"
    demote_self = await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "editor"})
    assert demote_self.status_code == 409 and demote_self.json()["error"]["code"] == "last_owner"


async def test_the_last_owner_can_be_neither_removed_nor_demoted(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    for response in (
        await client.delete(f"/api/v1/users/{owner.user_id}"),
        await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "editor"}),
    ):
        assert response.status_code == 409 and response.json()["error"]["code"] == "last_owner"
    second = await add_member(sessionmaker, owner.workspace_id, Role.owner)
    assert (await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "editor"})).status_code == 204
    client.cookies.clear()
    await login(client, second)
    last = await client.delete(f"/api/v1/users/{second.user_id}")
    assert last.status_code == 409 and last.json()["error"]["code"] == "last_owner"


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(app, sessionmaker):
    first = await make_workspace(sessionmaker)
    second = await add_member(sessionmaker, first.workspace_id, Role.owner)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as one,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as two,
    ):
        await login(one, first)
        await login(two, second)
        answers = await asyncio.gather(
            one.patch(f"/api/v1/users/{second.user_id}", json={"role": "viewer"}),
            two.patch(f"/api/v1/users/{first.user_id}", json={"role": "viewer"}),
        )
    assert sorted(a.status_code for a in answers) == [204, 409], [a.text for a in answers]
    owners = await execute(
        sessionmaker,
        "select count(*) from memberships where workspace_id = :ws and role = 'owner'",
        ws=first.workspace_id,
    )
    assert owners == [(1,)]


async def test_role_changes_and_removals_are_audited_and_end_access(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, owner)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as member:
        await login(member, editor)
        assert (await client.patch(f"/api/v1/users/{editor.user_id}", json={"role": "viewer"})).status_code == 204
        assert (await member.post("/api/v1/api-keys", json={"name": "k"})).status_code == 403  # a viewer now
        assert (await client.delete(f"/api/v1/users/{editor.user_id}")).status_code == 204
        assert (await member.get("/api/v1/auth/me")).status_code == 401
    assert (await client.delete(f"/api/v1/users/{editor.user_id}")).status_code == 404
    audit = await execute(sessionmaker, "select action, entity_name, details::text from audit_log order by id")
    assert [(action, name) for action, name, _ in audit] == [
        ("role_changed", editor.email),
        ("removed", editor.email),
    ]
    assert '"from": "editor"' in audit[0][2] and '"to": "viewer"' in audit[0][2]


async def test_removal_revokes_the_members_keys_and_sessions_there_and_a_new_invitation_does_not_revive_them(
    app, client, sessionmaker
):
    owner = await make_workspace(sessionmaker, "A")
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    elsewhere = await make_workspace(sessionmaker, "B")
    await execute(
        sessionmaker,
        "insert into memberships (workspace_id, user_id, role, created_at) values (:ws, :u, 'editor', now())",
        ws=elsewhere.workspace_id,
        u=editor.user_id,
    )
    await login(client, owner)
    key_here = await api_key_client(app, editor, sessionmaker)
    async with browser(app) as session_here, browser(app) as session_there:
        await login(session_here, editor)
        there = {"email": editor.email, "password": PASSWORD, "workspace_id": str(elsewhere.workspace_id)}
        assert (await session_there.post("/api/v1/auth/login", json=there)).status_code == 200
        session_there.headers["X-CSRF-Token"] = session_there.cookies["bpmlink_csrf"]
        key_there = (await session_there.post("/api/v1/api-keys", json={"name": "there"})).json()["key"]

        assert (await client.delete(f"/api/v1/users/{editor.user_id}")).status_code == 204
        link = (await client.post("/api/v1/invitations", json={"email": editor.email, "role": "editor"})).json()
        async with browser(app) as invitee:
            accepted = await invitee.post(
                f"/api/v1/auth/invitations/{link_token(link['link'])}/accept", json={"password": PASSWORD}
            )
            assert accepted.status_code == 200, accepted.text

        async with key_here:
            assert (await key_here.get("/api/v1/auth/me")).status_code == 401
        assert (await session_here.get("/api/v1/auth/me")).status_code == 401
        # Their keys and sessions in the other workspace are theirs to keep.
        assert (await session_there.get("/api/v1/auth/me")).status_code == 200
        async with browser(app) as script_there:
            bearer = {"Authorization": f"Bearer {key_there}"}
            assert (await script_there.get("/api/v1/auth/me", headers=bearer)).status_code == 200
