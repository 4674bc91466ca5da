"""A Telegram bundle given the bot token registers its URL with Telegram when it starts.

The Bot API is the stand-in of tests/fixtures/telegram_api.py; the api is the real one on the
test database. The token is a secret: never in the bundle's configuration, its versions, its read
or an error.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from bpmlink.db.models import Bundle, BundleVersion
from bpmlink.kit.security import SecretBox
from bpmlink.webhooks import decrypt_webhook_secret
from tests.fixtures.app import make_settings
from tests.fixtures.telegram_api import VALID_TOKEN, TelegramStandIn

pytestmark = pytest.mark.usefixtures("owner")

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token


@pytest.fixture
def settings(db_url: str, redis_url: str, telegram_api: TelegramStandIn):
    return make_settings(db_url, redis_url, BPMLINK_TELEGRAM_API_URL=telegram_api.base_url)


def telegram_bundle(connection_id: str, bot_token: str | None) -> dict:
    config = {"bot_token": bot_token} if bot_token is not None else {}
    return {
        "name": "Bot → Contacts",
        "source": {"app": "telegram", "trigger": "bot_update", "config": config},
        "target": {"connection_id": connection_id, "action": "create_record", "entity": "Contact"},
        "mapping": [
            {"target": "Name", "template": "{{ message.from.first_name }} {{ message.from.last_name }}"},
        ],
        "dedup": {"mode": "always_create"},
    }


async def create(client, connection_id: str, bot_token: str | None) -> dict:
    response = await client.post("/api/v1/bundles", json=telegram_bundle(connection_id, bot_token))
    assert response.status_code == 201, response.text
    return response.json()


async def stored_bundle(sessionmaker, bundle_id: str) -> tuple[Bundle, list[BundleVersion]]:
    async with sessionmaker() as session:
        bundle = await session.get(Bundle, uuid.UUID(bundle_id))
        versions = (await session.scalars(select(BundleVersion).where(BundleVersion.bundle_id == bundle.id))).all()
        return bundle, list(versions)


async def test_the_bot_token_is_kept_encrypted_and_never_read_back(client, connection_id, sessionmaker) -> None:
    bundle = await create(client, connection_id, VALID_TOKEN)

    assert "bot_token" not in bundle["source"]["config"]
    assert bundle["config_secrets_set"] == ["bot_token"]
    read = await client.get(f"/api/v1/bundles/{bundle['id']}")
    assert VALID_TOKEN not in read.text
    row, versions = await stored_bundle(sessionmaker, bundle["id"])
    assert VALID_TOKEN not in str(row.config) and all(VALID_TOKEN not in str(v.config) for v in versions)
    assert VALID_TOKEN.encode() not in (row.config_secrets_encrypted or b"")


async def test_start_registers_the_url_under_a_new_secret(
    client, connection_id, sessionmaker, settings, telegram_api: TelegramStandIn
) -> None:
    bundle = await create(client, connection_id, VALID_TOKEN)

    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")

    assert started.status_code == 200, started.text
    assert started.json()["status"] == "waiting"
    [call] = telegram_api.calls
    assert call.token == VALID_TOKEN
    assert call.body["url"] == bundle["webhook_url"]
    assert SECRET_TOKEN.match(call.body["secret_token"])
    assert started.json()["webhook_secret_set"] is True
    row, _ = await stored_bundle(sessionmaker, bundle["id"])
    assert decrypt_webhook_secret(SecretBox(settings), row.webhook_secret_encrypted) == call.body["secret_token"]


async def test_an_update_without_the_token_keeps_it(client, connection_id, telegram_api: TelegramStandIn) -> None:
    bundle = await create(client, connection_id, VALID_TOKEN)
    renamed = {**telegram_bundle(connection_id, None), "name": "Bot → Contacts (renamed)"}
    updated = await client.put(f"/api/v1/bundles/{bundle['id']}", json=renamed)
    assert updated.status_code == 200, updated.text
    assert updated.json()["config_secrets_set"] == ["bot_token"]

    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")

    assert started.status_code == 200, started.text
    assert [c.token for c in telegram_api.calls] == [VALID_TOKEN]


async def test_a_refused_token_stops_the_start_with_telegrams_reason(
    client, connection_id, telegram_api: TelegramStandIn
) -> None:
    wrong = "987654321:AAwrong-token-nobody-issued_000000000"
    bundle = await create(client, connection_id, wrong)

    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")

    assert started.status_code == 502
    error = started.json()["error"]
    assert error["code"] == "telegram_webhook_failed"
    assert error["details"]["params"]["description"] == "Unauthorized"
    assert wrong not in started.text
    read = await client.get(f"/api/v1/bundles/{bundle['id']}")
    assert read.json()["status"] == "stopped"
    assert read.json()["webhook_secret_set"] is False


async def test_without_a_token_nothing_is_called(client, connection_id, telegram_api: TelegramStandIn) -> None:
    bundle = await create(client, connection_id, None)

    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")

    assert started.status_code == 200, started.text
    assert telegram_api.calls == []
    assert started.json()["config_secrets_set"] == []
