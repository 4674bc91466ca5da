"""Forms and sites end to end: each app's recorded requests through the real gateway and worker
into the sandbox (the steps are in tests/apps/e2e.py)."""

from __future__ import annotations

import pytest

from tests.apps.e2e import AppCase, Expected, run_app_case

pytestmark = pytest.mark.usefixtures("owner")


def contact(name: str, email: str, phone: str) -> list[dict]:
    return [
        {"target": "Name", "template": name},
        {"target": "Email", "source": email, "convert": ["trim", "lower"]},
        {"target": "MobilePhone", "source": phone, "convert": [{"name": "phone_e164", "region": "RU"}]},
    ]


CASES = [
    AppCase(
        app="tilda",
        trigger="form_submission",
        test="test",
        test_answer=Expected(200, text="ok"),
        payload="submission",
        mapping=contact("{{ Name }}", "Email", "Phone"),
        email="ivan@example.ru",
        values={"Name": "Иван Петров", "MobilePhone": "+79123456789"},
        answer=Expected(200, text="ok"),
        config={"api_key_header": "X-Tilda-Api-Key"},  # the optional API key, set: its check applies
    ),
    AppCase(
        app="yandex_forms",
        trigger="form_answer",
        payload="answer",
        mapping=contact("{{ name }}", "email", "phone"),
        email="olga.smirnova@example.ru",
        values={"Name": "Ольга Смирнова", "MobilePhone": "+79031234567"},
        answer=Expected(202, json_keys=("event_id",)),
        client=("2a02:6b8:c00::1:5", 443),  # Yandex Forms' documented sending network
        webhook_secret=None,
    ),
    AppCase(
        app="typeform",
        trigger="form_response",
        payload="form_response",
        mapping=[
            *contact("{{ fields.name }}", "fields.email", "fields.phone"),
            {"target": "JobTitle", "source": "fields.plan"},
        ],
        email="petr.ivanov@example.ru",
        values={"Name": "Пётр Иванов", "MobilePhone": "+79161234567", "JobTitle": "Бизнес"},
        answer=Expected(202, json_keys=("event_id",)),
    ),
    AppCase(
        app="jotform",
        trigger="form_submission",
        payload="submission",
        mapping=[
            {"target": "Name", "template": "{{ rawRequest.q3_name.first }} {{ rawRequest.q3_name.last }}"},
            {"target": "Email", "source": "rawRequest.q4_email", "convert": ["trim", "lower"]},
            {"target": "JobTitle", "source": "formTitle"},
        ],
        email="anna.kuznetsova@example.ru",
        values={"Name": "Анна Кузнецова", "JobTitle": "Заявка на консультацию"},
        answer=Expected(202, json_keys=("event_id",)),
        webhook_secret=None,
    ),
    AppCase(
        app="elementor",
        trigger="form_submission",
        payload="submission_advanced",
        mapping=contact("{{ fields.name.value }}", "fields.email.value", "fields.phone.value"),
        email="sergey.orlov@example.ru",
        values={"Name": "Сергей Орлов", "MobilePhone": "+79123456789"},
        answer=Expected(200, json_keys=("event_id",)),
        # Elementor sends no submission id: the duplicate rule keeps a resent form to one contact.
        dedup={"mode": "skip_if_found", "match_fields": ["Email"]},
        webhook_secret=None,
    ),
    AppCase(  # Advanced Data off (Elementor's default): the fields arrive under their labels
        app="elementor",
        trigger="form_submission",
        payload="submission_simple",
        mapping=[
            {"target": "Name", "source": "Имя"},
            {"target": "Email", "source": "E-mail", "convert": ["trim", "lower"]},
            {"target": "Notes", "source": "Сообщение"},
        ],
        email="sergey.orlov@example.ru",
        values={"Name": "Сергей Орлов", "Notes": "Перезвоните после обеда"},
        answer=Expected(200, json_keys=("event_id",)),
        dedup={"mode": "skip_if_found", "match_fields": ["Email"]},
        webhook_secret=None,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.app}-{c.payload}" for c in CASES])
async def test_form_app_end_to_end(case: AppCase, client, connection_id, sandbox, sessionmaker, settings) -> None:
    await run_app_case(
        case, client=client, connection_id=connection_id, sandbox=sandbox, sessionmaker=sessionmaker, settings=settings
    )
