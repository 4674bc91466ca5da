"""Password reset (e-mailed through a real local SMTP server, or a link for the owner) and password change."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from bpmlink import accounts
from bpmlink.db.models import Membership, Role, TokenPurpose
from tests.fixtures.accounts import PASSWORD, add_member, api_key_client, login, make_workspace
from tests.fixtures.app import browser, execute
from tests.fixtures.smtp import link_token, smtp_settings

NEW_PASSWORD = "a brand new long secret"


@pytest.fixture
def smtp() -> bool:
    return True


@pytest.fixture
def settings(db_url, redis_url, smtp_server, smtp):
    return smtp_settings(db_url, redis_url, smtp_server, smtp=smtp)


async def _login(client, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def test_reset_by_email_sets_the_password_and_ends_every_session(app, client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    async with browser(app) as other_browser, browser(app) as anonymous:
        await login(other_browser, owner)
        forgot = await anonymous.post("/api/v1/auth/password/forgot", json={"email": owner.email.upper()})
        assert forgot.status_code == 202 and forgot.json() == {"emailed": True}
        assert mailbox.link(owner.email).startswith("http://bpmlink.test/reset-password?token=")
        token = mailbox.token(owner.email)
        reset = await anonymous.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
        assert reset.status_code == 204, reset.text
        for session in (client, other_browser):
            assert (await session.get("/api/v1/auth/me")).status_code == 401  # the old cookies are dead
        again = await anonymous.post("/api/v1/auth/password/reset", json={"token": token, "password": "x" * 20})
        assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"
        assert (await _login(anonymous, owner.email, PASSWORD)).status_code == 401
        assert (await _login(anonymous, owner.email, NEW_PASSWORD)).status_code == 200


async def test_forgot_password_answers_the_same_for_an_unknown_address(client, mailbox):
    response = await client.post("/api/v1/auth/password/forgot", json={"email": "nobody@example.com"})
    assert response.status_code == 202 and response.json() == {"emailed": True}
    assert mailbox.messages == []


async def test_expired_reset_link_is_refused(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    await execute(sessionmaker, "update account_tokens set expires_at = now() - interval '1 second'")
    reset = await client.post(
        "/api/v1/auth/password/reset", json={"token": mailbox.token(owner.email), "password": NEW_PASSWORD}
    )
    assert reset.status_code == 400 and reset.json()["error"]["code"] == "invalid_token"
    assert (await _login(client, owner.email, PASSWORD)).status_code == 200


async def test_a_reset_makes_the_other_reset_links_useless(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    first = mailbox.token(owner.email)
    await client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    second = mailbox.token(owner.email)
    used = await client.post("/api/v1/auth/password/reset", json={"token": second, "password": NEW_PASSWORD})
    assert used.status_code == 204
    stale = await client.post("/api/v1/auth/password/reset", json={"token": first, "password": "another long secret"})
    assert stale.status_code == 400


async def test_weak_password_is_refused_on_reset_and_the_link_still_works(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    token = mailbox.token(owner.email)
    weak = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": "12345678"})
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    good = await client.post("/api/v1/auth/password/reset", json={"token": token, "password": NEW_PASSWORD})
    assert good.status_code == 204


async def test_two_concurrent_resets_with_one_link_succeed_once(app, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    async with browser(app) as first, browser(app) as second:
        await first.post("/api/v1/auth/password/forgot", json={"email": owner.email})
        token = mailbox.token(owner.email)
        answers = await asyncio.gather(
            first.post("/api/v1/auth/password/reset", json={"token": token, "password": "first long secret"}),
            second.post("/api/v1/auth/password/reset", json={"token": token, "password": "second long secret"}),
        )
    assert sorted(a.status_code for a in answers) == [204, 400], [a.text for a in answers]


async def test_a_token_held_by_one_transaction_cannot_be_used_by_another(sessionmaker):
    """The consuming UPDATE waits for the first transaction's row lock, then finds the token used."""
    owner = await make_workspace(sessionmaker)
    async with sessionmaker() as setup:
        token, _ = await accounts.issue_token(setup, TokenPurpose.reset, timedelta(hours=1), user_id=owner.user_id)
        await setup.commit()
    async with sessionmaker() as first, sessionmaker() as second:
        await accounts.consume_token(first, TokenPurpose.reset, token)
        racing = asyncio.create_task(accounts.consume_token(second, TokenPurpose.reset, token))
        await asyncio.sleep(0.2)
        assert not racing.done()  # blocked on the row, not answered from a stale read
        await first.commit()
        with pytest.raises(accounts.InvalidToken):
            await racing


@pytest.mark.parametrize("smtp", [False])
async def test_forgot_password_without_smtp_says_nothing_was_emailed(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    response = await client.post("/api/v1/auth/password/forgot", json={"email": owner.email})
    assert response.status_code == 202 and response.json() == {"emailed": False}
    assert await execute(sessionmaker, "select count(*) from account_tokens") == [(0,)]


@pytest.mark.parametrize("smtp", [False])
async def test_without_smtp_the_owner_gets_a_reset_link_for_a_member(app, client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, owner)
    created = await client.post(f"/api/v1/users/{editor.user_id}/reset-link")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["emailed"] is False and body["link"].startswith("http://127.0.0.1:8000/reset-password?token=")
    assert mailbox.messages == []
    async with browser(app) as member:
        reset = await member.post(
            "/api/v1/auth/password/reset", json={"token": link_token(body["link"]), "password": NEW_PASSWORD}
        )
        assert reset.status_code == 204
        assert (await _login(member, editor.email, NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize("smtp", [False])
async def test_no_reset_link_for_a_member_of_workspaces_the_owner_does_not_own(client, sessionmaker):
    owner = await make_workspace(sessionmaker, "Mine")
    stranger = await make_workspace(sessionmaker, "Theirs")
    async with sessionmaker() as session:
        session.add(Membership(workspace_id=owner.workspace_id, user_id=stranger.user_id, role=Role.editor))
        await session.commit()
    await login(client, owner)
    refused = await client.post(f"/api/v1/users/{stranger.user_id}/reset-link")
    assert refused.status_code == 403


async def test_with_smtp_the_member_gets_the_reset_link_by_email(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, owner)
    created = await client.post(f"/api/v1/users/{editor.user_id}/reset-link")
    assert created.status_code == 201 and created.json()["link"] is None and created.json()["emailed"] is True
    assert "/reset-password?token=" in mailbox.link(editor.email)


async def test_password_change_keeps_this_session_and_ends_the_others(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    async with browser(app) as other_browser:
        await login(other_browser, owner)
        changed = await client.post(
            "/api/v1/auth/password/change", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert changed.status_code == 204, changed.text
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        assert (await other_browser.get("/api/v1/auth/me")).status_code == 401
        assert (await _login(other_browser, owner.email, NEW_PASSWORD)).status_code == 200


async def test_password_change_needs_the_current_password_and_a_good_new_one(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    wrong = await client.post(
        "/api/v1/auth/password/change", json={"current_password": "not it", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["field"] == "current_password"
    weak = await client.post(
        "/api/v1/auth/password/change", json={"current_password": PASSWORD, "new_password": owner.email}
    )
    assert weak.status_code == 422
    assert weak.json()["error"]["code"] == "weak_password"
    assert weak.json()["error"]["details"][0]["field"] == "new_password"
    assert (await _login(client, owner.email, PASSWORD)).status_code == 200  # unchanged


@pytest.mark.parametrize("smtp", [False])
async def test_forgot_password_is_rate_limited_per_client_address(client, settings):
    for n in range(settings.mail_max_per_ip):
        response = await client.post("/api/v1/auth/password/forgot", json={"email": f"u{n}@example.com"})
        assert response.status_code == 202
    blocked = await client.post("/api/v1/auth/password/forgot", json={"email": "another@example.com"})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


@pytest.mark.parametrize("revoke", [False, True])
async def test_a_reset_revokes_the_users_api_keys_when_asked(app, sessionmaker, mailbox, revoke):
    owner = await make_workspace(sessionmaker)
    async with await api_key_client(app, owner, sessionmaker) as script, browser(app) as anonymous:
        await anonymous.post("/api/v1/auth/password/forgot", json={"email": owner.email})
        body = {"token": mailbox.token(owner.email), "password": NEW_PASSWORD, "revoke_api_keys": revoke}
        assert (await anonymous.post("/api/v1/auth/password/reset", json=body)).status_code == 204
        assert (await script.get("/api/v1/auth/me")).status_code == (401 if revoke else 200)
