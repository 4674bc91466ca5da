"""Invitations: e-mailed through a real local SMTP server or shown to the owner; single use, expiry, revocation."""

import asyncio

import pytest

from bpmlink.db.models import Role
from tests.fixtures.accounts import PASSWORD, add_member, login, make_workspace
from tests.fixtures.app import browser, execute
from tests.fixtures.smtp import link_token, smtp_settings

NEW_PASSWORD = "a long enough secret"


@pytest.fixture
def smtp() -> bool:
    return True


@pytest.fixture
def settings(db_url, redis_url, smtp_server, smtp):
    return smtp_settings(db_url, redis_url, smtp_server, smtp=smtp)


async def _invite(client, email: str, role: str = "editor") -> dict:
    created = await client.post("/api/v1/invitations", json={"email": email, "role": role})
    assert created.status_code == 201, created.text
    return created.json()


async def test_new_user_joins_from_the_emailed_link(app, client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker, "Sales")
    await login(client, owner)
    invitation = await _invite(client, "New@Example.com", "viewer")
    assert invitation["emailed"] is True and invitation["link"] is None
    assert invitation["email"] == "new@example.com" and invitation["invited_by"] == owner.email
    message = mailbox.last("new@example.com")
    assert "Sales" in str(message["Subject"])
    assert mailbox.link("new@example.com").startswith("http://bpmlink.test/invite?token=")
    token = mailbox.token("new@example.com")

    async with browser(app) as invitee:
        preview = await invitee.get(f"/api/v1/auth/invitations/{token}")
        assert preview.status_code == 200, preview.text
        assert {k: v for k, v in preview.json().items() if k != "expires_at"} == {
            "workspace_name": "Sales",
            "email": "new@example.com",
            "role": "viewer",
            "invited_by": owner.email,
            "account_exists": False,
        }
        accepted = await invitee.post(
            f"/api/v1/auth/invitations/{token}/accept", json={"password": NEW_PASSWORD, "name": "Newbie"}
        )
        assert accepted.status_code == 200, accepted.text
        me = accepted.json()
        assert me["workspace"]["id"] == str(owner.workspace_id) and me["role"] == "viewer"
        assert me["user"]["name"] == "Newbie"
        assert (await invitee.get("/api/v1/auth/me")).status_code == 200  # the accept logged in
        again = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": NEW_PASSWORD})
        assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
        assert (await invitee.get(f"/api/v1/auth/invitations/{token}")).status_code == 400

    members = (await client.get("/api/v1/users")).json()["items"]
    assert {(m["email"], m["role"]) for m in members} == {(owner.email, "owner"), ("new@example.com", "viewer")}
    assert (await client.get("/api/v1/invitations")).json()["items"] == []
    audit = await execute(sessionmaker, "select action, entity_type, entity_name from audit_log order by id")
    assert audit == [("invited", "invitation", "new@example.com"), ("joined", "member", "new@example.com")]


async def test_existing_account_joins_with_its_own_password(app, client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker, "Sales")
    other = await make_workspace(sessionmaker, "Elsewhere")
    await login(client, owner)
    await _invite(client, other.email, "editor")
    token = mailbox.token(other.email)
    async with browser(app) as invitee:
        assert (await invitee.get(f"/api/v1/auth/invitations/{token}")).json()["account_exists"] is True
        wrong = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": "not the password"})
        assert wrong.status_code == 401
        assert (await invitee.get(f"/api/v1/auth/invitations/{token}")).status_code == 200  # still usable
        joined = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": PASSWORD})
        assert joined.status_code == 200, joined.text
        me = joined.json()
        assert me["workspace"]["id"] == str(owner.workspace_id) and me["role"] == "editor"
        assert {w["name"] for w in me["workspaces"]} == {"Sales", "Elsewhere"}


@pytest.mark.parametrize("smtp", [False])
async def test_without_smtp_the_owner_gets_the_link_to_pass_on(app, client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    invitation = await _invite(client, "new@example.com")
    assert invitation["emailed"] is False
    assert invitation["link"].startswith("http://127.0.0.1:8000/invite?token=")
    assert mailbox.messages == []
    listed = (await client.get("/api/v1/invitations")).json()["items"]
    assert [(i["id"], i["link"], i["emailed"]) for i in listed] == [(invitation["id"], None, False)]
    async with browser(app) as invitee:
        accepted = await invitee.post(
            f"/api/v1/auth/invitations/{link_token(invitation['link'])}/accept", json={"password": NEW_PASSWORD}
        )
        assert accepted.status_code == 200, accepted.text


@pytest.mark.parametrize("smtp", [False])
async def test_a_new_invitation_for_the_same_address_revokes_the_older_link(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    first = await _invite(client, "new@example.com", "viewer")
    second = await _invite(client, "new@example.com", "editor")
    assert [i["id"] for i in (await client.get("/api/v1/invitations")).json()["items"]] == [second["id"]]
    async with browser(app) as invitee:
        old = await invitee.get(f"/api/v1/auth/invitations/{link_token(first['link'])}")
        assert old.status_code == 400 and old.json()["error"]["code"] == "invalid_token"
        assert (await invitee.get(f"/api/v1/auth/invitations/{link_token(second['link'])}")).json()["role"] == "editor"


@pytest.mark.parametrize("smtp", [False])
async def test_revoked_invitation_link_stops_working(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    invitation = await _invite(client, "new@example.com")
    assert (await client.delete(f"/api/v1/invitations/{invitation['id']}")).status_code == 204
    assert (await client.get("/api/v1/invitations")).json()["items"] == []
    async with browser(app) as invitee:
        accept = await invitee.post(
            f"/api/v1/auth/invitations/{link_token(invitation['link'])}/accept", json={"password": NEW_PASSWORD}
        )
        assert accept.status_code == 400 and accept.json()["error"]["code"] == "invalid_token"
    audit = await execute(sessionmaker, "select action from audit_log where entity_type = 'invitation' order by id")
    assert audit == [("invited",), ("revoked",)]


@pytest.mark.parametrize("smtp", [False])
async def test_expired_invitation_link_is_refused_and_not_listed(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    invitation = await _invite(client, "new@example.com")
    await execute(sessionmaker, "update account_tokens set expires_at = now() - interval '1 second'")
    assert (await client.get("/api/v1/invitations")).json()["items"] == []
    async with browser(app) as invitee:
        token = link_token(invitation["link"])
        assert (await invitee.get(f"/api/v1/auth/invitations/{token}")).status_code == 400
        accept = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": NEW_PASSWORD})
        assert accept.status_code == 400 and accept.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize("smtp", [False])
async def test_weak_password_is_refused_on_accept_and_the_link_still_works(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    token = link_token((await _invite(client, "new@example.com"))["link"])
    async with browser(app) as invitee:
        weak = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": "password"})
        assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
        ok = await invitee.post(f"/api/v1/auth/invitations/{token}/accept", json={"password": NEW_PASSWORD})
        assert ok.status_code == 200


@pytest.mark.parametrize("smtp", [False])
async def test_two_concurrent_accepts_of_one_link_join_once(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    token = link_token((await _invite(client, "new@example.com"))["link"])
    url = f"/api/v1/auth/invitations/{token}/accept"
    async with browser(app) as first, browser(app) as second:
        answers = await asyncio.gather(*(c.post(url, json={"password": NEW_PASSWORD}) for c in (first, second)))
    assert sorted(a.status_code for a in answers) == [200, 400], [a.text for a in answers]
    assert await execute(sessionmaker, "select count(*) from users where email = 'new@example.com'") == [(1,)]


async def test_inviting_a_member_is_409_on_email(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, owner)
    response = await client.post("/api/v1/invitations", json={"email": editor.email.upper(), "role": "viewer"})
    assert response.status_code == 409
    assert response.json()["error"]["details"][0]["field"] == "email"


async def test_only_owners_see_and_send_invitations(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, editor)
    assert (await client.get("/api/v1/invitations")).status_code == 403
    assert (await client.post("/api/v1/invitations", json={"email": "x@example.com"})).status_code == 403
    assert mailbox.messages == []
