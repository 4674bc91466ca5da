"""Sign-up in the three modes, with e-mail confirmation through a real local SMTP server, and without SMTP."""

import pytest

from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.app import execute
from tests.fixtures.smtp import smtp_settings

PASSWORD = "a long enough secret"
ANN = {"email": "Ann@Example.com", "password": PASSWORD, "name": "Ann"}


@pytest.fixture
def smtp() -> bool:
    return True


@pytest.fixture
def signup_mode() -> str:
    return "open"


@pytest.fixture
def settings(db_url, redis_url, smtp_server, smtp, signup_mode):
    return smtp_settings(db_url, redis_url, smtp_server, smtp=smtp, BPMLINK_SIGNUP=signup_mode)


def _login(email: str = "ann@example.com", password: str = PASSWORD) -> dict:
    return {"email": email, "password": password}


async def test_signup_with_smtp_logs_in_only_after_the_emailed_link(client, mailbox, sessionmaker):
    signed = await client.post("/api/v1/auth/signup", json=ANN)
    assert signed.status_code == 201, signed.text
    assert signed.json() == {"confirmation_required": True}
    refused = await client.post("/api/v1/auth/login", json=_login())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "email_not_confirmed"

    assert mailbox.link("ann@example.com").startswith("http://bpmlink.test/confirm-email?token=")
    confirmed = await client.post("/api/v1/auth/confirm", json={"token": mailbox.token("ann@example.com")})
    assert confirmed.status_code == 200, confirmed.text
    me = confirmed.json()
    assert me["user"]["email"] == "ann@example.com" and me["user"]["language"] == "en"
    assert me["workspace"]["name"] == "Ann's workspace" and me["role"] == "owner"
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # the confirmation logged in

    client.cookies.clear()
    assert (await client.post("/api/v1/auth/login", json=_login())).status_code == 200
    audit = await execute(sessionmaker, "select action, entity_type, entity_name from audit_log")
    assert audit == [("created", "workspace", "Ann's workspace")]


async def test_confirmation_link_works_once(client, mailbox):
    await client.post("/api/v1/auth/signup", json=ANN)
    token = mailbox.token("ann@example.com")
    assert (await client.post("/api/v1/auth/confirm", json={"token": token})).status_code == 200
    again = await client.post("/api/v1/auth/confirm", json={"token": token})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"


async def test_expired_confirmation_link_is_refused(client, mailbox, sessionmaker):
    await client.post("/api/v1/auth/signup", json=ANN)
    await execute(sessionmaker, "update account_tokens set expires_at = now() - interval '1 second'")
    expired = await client.post("/api/v1/auth/confirm", json={"token": mailbox.token("ann@example.com")})
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "invalid_token"
    assert (await client.post("/api/v1/auth/login", json=_login())).status_code == 403


async def test_the_confirmation_email_is_in_the_chosen_language(client, mailbox):
    await client.post("/api/v1/auth/signup", json={**ANN, "language": "ru", "workspace_name": "Отдел продаж"})
    message = mailbox.last("ann@example.com")
    assert "Подтвердите" in str(message["Subject"])
    confirmed = await client.post("/api/v1/auth/confirm", json={"token": mailbox.token("ann@example.com")})
    assert confirmed.json()["user"]["language"] == "ru" and confirmed.json()["workspace"]["name"] == "Отдел продаж"


@pytest.mark.parametrize("smtp", [False])
async def test_signup_without_smtp_needs_no_confirmation(client, mailbox):
    config = (await client.get("/api/v1/auth/config")).json()
    assert config == {"signup": "open", "email_confirmation": False, "smtp": False}
    signed = await client.post("/api/v1/auth/signup", json=ANN)
    assert signed.status_code == 201 and signed.json() == {"confirmation_required": False}
    logged = await client.post("/api/v1/auth/login", json=_login())
    assert logged.status_code == 200 and logged.json()["role"] == "owner"
    assert mailbox.messages == []


@pytest.mark.parametrize("signup_mode", ["invite", "closed"])
async def test_signup_is_refused_unless_the_mode_is_open(client, signup_mode, mailbox):
    assert (await client.get("/api/v1/auth/config")).json()["signup"] == signup_mode
    refused = await client.post("/api/v1/auth/signup", json=ANN)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "signup_closed"
    assert mailbox.messages == []


@pytest.mark.parametrize(("signup_mode", "invitations"), [("open", 201), ("invite", 201), ("closed", 403)])
async def test_invitations_are_off_only_in_closed_mode(client, sessionmaker, signup_mode, invitations):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    created = await client.post("/api/v1/invitations", json={"email": "bob@example.com", "role": "viewer"})
    assert created.status_code == invitations, created.text
    if invitations == 403:
        assert created.json()["error"]["code"] == "signup_closed"


async def test_signup_with_a_registered_address_answers_the_same_and_emails_the_owner(client, mailbox):
    await client.post("/api/v1/auth/signup", json=ANN)
    await client.post("/api/v1/auth/confirm", json={"token": mailbox.token("ann@example.com")})
    client.cookies.clear()
    again = await client.post("/api/v1/auth/signup", json={**ANN, "password": "another long secret"})
    assert again.status_code == 201 and again.json() == {"confirmation_required": True}
    assert len(mailbox.to("ann@example.com")) == 2
    assert "/reset-password?token=" in mailbox.link("ann@example.com")
    assert (await client.post("/api/v1/auth/login", json=_login())).status_code == 200  # the password is unchanged


@pytest.mark.parametrize("smtp", [True, False])
async def test_signup_answers_the_same_after_the_same_work_for_a_registered_address(
    client, mailbox, sessionmaker, hasher
):
    new = await client.post("/api/v1/auth/signup", json=ANN)
    registered = await client.post("/api/v1/auth/signup", json={**ANN, "password": "another long secret"})
    assert (registered.status_code, registered.json()) == (new.status_code, new.json())
    assert hasher.hashed == [PASSWORD, "another long secret"]
    assert await execute(sessionmaker, "select count(*) from users") == [(1,)]


@pytest.mark.parametrize(
    "password", ["short", "password1", "QWERTYUIOP", "ann@example.com", "  iloveyou  "], ids=str.strip
)
async def test_weak_password_is_refused_at_signup(client, mailbox, sessionmaker, password):
    refused = await client.post("/api/v1/auth/signup", json={**ANN, "password": password})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "weak_password" and error["details"][0]["field"] == "password"
    assert await execute(sessionmaker, "select count(*) from users") == [(0,)]
    assert mailbox.messages == []


async def test_signup_is_rate_limited_per_address(client, settings, mailbox):
    for _ in range(settings.mail_max_per_address):
        assert (await client.post("/api/v1/auth/signup", json=ANN)).status_code == 201
    blocked = await client.post("/api/v1/auth/signup", json=ANN)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert len(mailbox.to("ann@example.com")) == settings.mail_max_per_address
