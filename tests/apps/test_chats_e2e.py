"""Chats and messengers end to end: each app's recorded requests through the real gateway and
worker into the sandbox (the steps are in tests/apps/e2e.py); Telegram's URL is registered on start
with the Bot API stand-in, and the secret it was given is the one its updates must carry."""

from __future__ import annotations

import pytest

from tests.apps.e2e import AppCase, Expected, run_app_case
from tests.fixtures.app import make_settings
from tests.fixtures.telegram_api import VALID_TOKEN, TelegramStandIn

pytestmark = pytest.mark.usefixtures("owner")

VK_CONFIRMATION = "a1b2c3d4"

CASES = [
    AppCase(
        app="jivo",
        trigger="chat_event",
        payload="offline_message",
        mapping=[
            {"target": "Name", "source": "visitor.name"},
            {"target": "Email", "source": "visitor.email", "convert": ["trim", "lower"]},
            {"target": "MobilePhone", "source": "visitor.phone"},
            {"target": "Notes", "source": "message"},
        ],
        email="igor.belov@example.ru",
        values={"Name": "Игорь Белов", "MobilePhone": "+79261112233", "Notes": "Перезвоните мне завтра утром"},
        answer=Expected(200, text='{"result":"ok"}', content_type="application/json"),
        webhook_secret=None,
    ),
    AppCase(
        app="vk",
        trigger="lead_form",
        config={"confirmation_code": VK_CONFIRMATION},
        test="confirmation",
        test_answer=Expected(200, text=VK_CONFIRMATION, content_type="text/plain"),
        payload="lead_forms_new",
        mapping=[
            {"target": "Name", "template": "{{ fields.first_name }} {{ fields.last_name }}"},
            {"target": "Email", "source": "fields.email", "convert": ["trim", "lower"]},
            {"target": "MobilePhone", "source": "fields.phone_number"},
            {"target": "JobTitle", "source": "object.form_name"},
        ],
        email="d.sokolov@example.ru",
        values={"Name": "Дмитрий Соколов", "MobilePhone": "+79001234567", "JobTitle": "Запись на пробный урок"},
        answer=Expected(200, text="ok", content_type="text/plain"),
    ),
]

TELEGRAM = AppCase(
    app="telegram",
    trigger="bot_update",
    config={"bot_token": VALID_TOKEN},
    payload="message",
    mapping=[
        {"target": "Name", "template": "{{ message.from.first_name }} {{ message.from.last_name }}"},
        # A chat has no e-mail: the contact is found by its Telegram name, kept in Email's place for the check.
        {"target": "Email", "template": "{{ message.from.username }}@t.me"},
        {"target": "Notes", "source": "message.text"},
    ],
    email="lena_m@t.me",
    values={"Name": "Елена Морозова", "Notes": "Хочу записаться на консультацию"},
    answer=Expected(200, text=""),
    webhook_secret=None,  # bpmlink sets it with setWebhook
)


@pytest.fixture
def settings(db_url: str, redis_url: str, telegram_api: TelegramStandIn):
    return make_settings(db_url, redis_url, BPMLINK_TELEGRAM_API_URL=telegram_api.base_url)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.app}-{c.payload}" for c in CASES])
async def test_chat_app_end_to_end(case: AppCase, client, connection_id, sandbox, sessionmaker, settings) -> None:
    await run_app_case(
        case, client=client, connection_id=connection_id, sandbox=sandbox, sessionmaker=sessionmaker, settings=settings
    )


async def test_telegram_end_to_end_with_the_secret_given_to_set_webhook(
    client, connection_id, sandbox, sessionmaker, settings, telegram_api: TelegramStandIn
) -> None:
    def registered_secret(bundle: dict) -> str:
        [call] = telegram_api.calls
        assert call.body["url"] == bundle["webhook_url"]
        return str(call.body["secret_token"])

    await run_app_case(
        TELEGRAM,
        client=client,
        connection_id=connection_id,
        sandbox=sandbox,
        sessionmaker=sessionmaker,
        settings=settings,
        secret_of=registered_secret,
    )
