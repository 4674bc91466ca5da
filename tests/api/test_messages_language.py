"""Errors of the api speak the reader's language: the profile's for a signed-in browser, the
Accept-Language otherwise (and for an API key that asks); each carries its code, params and English."""

import uuid

from tests.fixtures.accounts import api_key_client, login, make_workspace
from tests.fixtures.app import execute

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


async def _russian_owner(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await execute(sessionmaker, "update users set language = 'ru' where id = :id", id=owner.user_id)
    await login(client, owner)
    return owner


async def test_a_wrong_password_reads_in_the_browsers_language_before_login(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    body = {"email": owner.email, "password": "not-the-password"}
    error = (await client.post("/api/v1/auth/login", json=body, headers=RU)).json()["error"]
    assert error["code"] == "unauthorized" and error["message_code"] == "wrong_email_or_password"
    assert error["message"] == "неверный адрес или пароль" and error["text"] == "wrong email or password"
    english = (await client.post("/api/v1/auth/login", json=body)).json()["error"]
    assert english["message"] == "wrong email or password"


async def test_a_validation_error_names_its_fields_in_russian_with_codes_and_params(client, sessionmaker):
    await _russian_owner(client, sessionmaker)
    body = {"app": "bpmonline", "name": "", "params": {}}
    response = await client.post("/api/v1/connections", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    short = next(d for d in error["details"] if d["field"] == "name")
    assert short["code"] == "field_string_too_short" and short["params"] == {"min_length": 1}
    assert short["message"] == "не короче 1 симв."
    assert error["message_code"] == "field_problem" and error["message"].startswith("name: не короче")
    missing = await client.post("/api/v1/connections", json={"name": "x"})
    detail = missing.json()["error"]["details"][0]
    assert (detail["field"], detail["code"], detail["message"]) == ("app", "field_missing", "обязательное поле")


async def test_a_not_found_and_a_conflict_read_in_the_profiles_language(client, sessionmaker):
    owner = await _russian_owner(client, sessionmaker)
    missing = await client.get(f"/api/v1/bundles/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "пакет не найден"
    # The profile wins over the browser's Accept-Language.
    again = await client.get(f"/api/v1/bundles/{uuid.uuid4()}", headers={"Accept-Language": "en"})
    assert again.json()["error"]["message"] == "пакет не найден"
    conflict = await client.post("/api/v1/invitations", json={"email": owner.email, "role": "editor"})
    assert conflict.status_code == 409
    error = conflict.json()["error"]
    assert error["code"] == "conflict" and error["message_code"] == "already_member"
    assert error["message"] == "этот адрес уже участник рабочего пространства"
    assert error["text"] == "this address is already a member of the workspace"


async def test_an_api_key_client_gets_the_language_it_asks_for(app, sessionmaker):
    owner = await make_workspace(sessionmaker)
    async with await api_key_client(app, owner, sessionmaker) as script:
        russian = await script.get(f"/api/v1/bundles/{uuid.uuid4()}", headers=RU)
        assert russian.json()["error"]["message"] == "пакет не найден"
        english = await script.get(f"/api/v1/bundles/{uuid.uuid4()}")  # no header: the profile's (en)
        assert english.json()["error"]["message"] == "bundle not found"


async def test_a_wrong_password_connection_test_reads_in_russian(client, sessionmaker, sandbox):
    await _russian_owner(client, sessionmaker)
    body = {
        "app": "bpmonline",
        "name": "CRM",
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": "Supervisor"},
        "secrets": {"password": "wrong-Password-1"},
    }
    cid = (await client.post("/api/v1/connections", json=body)).json()["id"]
    result = (await client.post(f"/api/v1/connections/{cid}/test")).json()
    assert (result["ok"], result["stage"], result["code"]) == (False, "login", "wrong_credentials")
    assert result["message_code"] == "login_wrong_credentials"
    assert result["message"] == "Неверное имя пользователя или пароль"
    assert result["text"].startswith("Wrong user name or password") and result["remote"]
