"""Shops and bookings end to end: each app's recorded requests through the real gateway and worker
into the sandbox (the steps are in tests/apps/e2e.py)."""

from __future__ import annotations

import pytest

from tests.apps.e2e import AppCase, Expected, run_app_case

pytestmark = pytest.mark.usefixtures("owner")

ACCEPTED = Expected(202, json_keys=("event_id",))

CASES = [
    AppCase(
        app="woocommerce",
        trigger="order",
        test="ping",
        test_answer=ACCEPTED,
        payload="order_created",
        mapping=[
            {"target": "Name", "template": "{{ billing.first_name }} {{ billing.last_name }}"},
            {"target": "Email", "source": "billing.email", "convert": ["trim", "lower"]},
            {"target": "MobilePhone", "source": "billing.phone"},
            {
                "target": "Notes",
                "template": "Заказ №{{ number }} на {{ total }} {{ currency }}: {{ line_items.0.name }}",
            },
        ],
        email="a.nikitin@example.ru",
        values={
            "Name": "Алексей Никитин",
            "MobilePhone": "+79172223344",
            "Notes": "Заказ №4750 на 7380.00 RUB: Кофемолка",
        },
        answer=ACCEPTED,
    ),
    AppCase(
        app="shopify",
        trigger="order",
        payload="orders_create",
        mapping=[
            {"target": "Name", "template": "{{ customer.first_name }} {{ customer.last_name }}"},
            {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
            {"target": "MobilePhone", "source": "billing_address.phone"},
            {"target": "Notes", "template": "{{ name }}: {{ line_items.1.title }} ×{{ line_items.1.quantity }}"},
        ],
        email="k.egorova@example.ru",
        values={"Name": "Ксения Егорова", "MobilePhone": "+79035556677", "Notes": "#1001: Турка медная ×2"},
        answer=ACCEPTED,
    ),
    AppCase(
        app="calendly",
        trigger="invitee_created",
        payload="invitee_created",
        mapping=[
            {"target": "Name", "source": "payload.name"},
            {"target": "Email", "source": "payload.email", "convert": ["trim", "lower"]},
            {"target": "MobilePhone", "source": "payload.text_reminder_number"},
            {"target": "JobTitle", "source": "fields.Company"},
        ],
        email="n.pavlova@example.ru",
        values={"Name": "Наталья Павлова", "MobilePhone": "+79167778899", "JobTitle": "ООО «Вектор»"},
        answer=ACCEPTED,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.app}-{c.payload}" for c in CASES])
async def test_shop_app_end_to_end(case: AppCase, client, connection_id, sandbox, sessionmaker, settings) -> None:
    await run_app_case(
        case, client=client, connection_id=connection_id, sandbox=sandbox, sessionmaker=sessionmaker, settings=settings
    )
