"""Account e-mails (mail.json codes) in the recipient's language: the profile's when chosen, else the
language of the request that caused the e-mail. Delivered through a real local SMTP server."""

import pytest

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, login, make_workspace
from tests.fixtures.app import execute
from tests.fixtures.smtp import smtp_settings

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


@pytest.fixture
def settings(db_url, redis_url, smtp_server):
    return smtp_settings(db_url, redis_url, smtp_server, BPMLINK_SIGNUP="open")


async def _choose(sessionmaker, email: str, language: str) -> None:
    await execute(
        sessionmaker, "update users set language = :l, language_set = true where email = :e", l=language, e=email
    )


async def test_a_reset_email_speaks_the_chosen_profile_language_whatever_the_browser_says(
    client, sessionmaker, mailbox
):
    russian, english = await make_workspace(sessionmaker), await make_workspace(sessionmaker)
    await _choose(sessionmaker, russian.email, "ru")
    await _choose(sessionmaker, english.email, "en")
    await client.post("/api/v1/auth/password/forgot", json={"email": russian.email}, headers=EN)
    await client.post("/api/v1/auth/password/forgot", json={"email": english.email}, headers=RU)
    to_russian, to_english = mailbox.last(russian.email), mailbox.last(english.email)
    assert str(to_russian["Subject"]) == "Сброс пароля bpmlink"
    assert "Чтобы задать новый пароль" in to_russian.get_content()
    assert str(to_english["Subject"]) == "Reset your bpmlink password"
    assert "To set a new password" in to_english.get_content()


async def test_without_a_chosen_language_the_request_language_is_used(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)  # language 'en', never chosen
    await client.post("/api/v1/auth/password/forgot", json={"email": owner.email}, headers=RU)
    assert str(mailbox.last(owner.email)["Subject"]) == "Сброс пароля bpmlink"


async def test_the_owners_reset_link_for_a_russian_member_arrives_in_russian(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    member = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await _choose(sessionmaker, member.email, "ru")
    await login(client, owner)
    created = await client.post(f"/api/v1/users/{member.user_id}/reset-link", headers=EN)
    assert created.status_code == 201, created.text
    assert str(mailbox.last(member.email)["Subject"]) == "Сброс пароля bpmlink"


async def test_an_invitation_to_a_russian_user_is_russian_to_a_new_address_in_the_inviters_language(
    client, sessionmaker, mailbox
):
    owner = await make_workspace(sessionmaker, "Продажи")
    await _choose(sessionmaker, owner.email, "en")
    elsewhere = await make_workspace(sessionmaker)
    await _choose(sessionmaker, elsewhere.email, "ru")
    await login(client, owner)
    for email in (elsewhere.email, "new@example.com"):
        created = await client.post("/api/v1/invitations", json={"email": email, "role": "editor"})
        assert created.status_code == 201, created.text
    russian = mailbox.last(elsewhere.email)
    assert "приглашает вас в Продажи" in str(russian["Subject"])
    assert "с ролью «редактор»" in russian.get_content()
    english = mailbox.last("new@example.com")
    assert "invited you to Продажи" in str(english["Subject"]) and "as editor." in english.get_content()


async def test_a_confirmation_without_a_form_language_follows_accept_language(client, mailbox):
    body = {"email": "olga@example.com", "password": "a long enough secret", "name": "Olga"}
    assert (await client.post("/api/v1/auth/signup", json=body, headers=RU)).status_code == 201
    message = mailbox.last("olga@example.com")
    assert str(message["Subject"]) == "Подтвердите адрес электронной почты в bpmlink"
    assert "Добро пожаловать в bpmlink!" in message.get_content()
    body = {**body, "email": "jane@example.com", "language": "en"}
    assert (await client.post("/api/v1/auth/signup", json=body, headers=RU)).status_code == 201
    assert str(mailbox.last("jane@example.com")["Subject"]) == "Confirm your e-mail address for bpmlink"


async def test_an_already_registered_russian_user_is_told_in_russian(client, sessionmaker, mailbox):
    owner = await make_workspace(sessionmaker)
    await _choose(sessionmaker, owner.email, "ru")
    body = {"email": owner.email, "password": "a long enough secret", "name": "Again"}
    assert (await client.post("/api/v1/auth/signup", json=body, headers=EN)).status_code == 201
    assert str(mailbox.last(owner.email)["Subject"]) == "Ваша учётная запись bpmlink"
