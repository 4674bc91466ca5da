"""Payments («Платежи»): YooKassa. Its notifications are not signed: they are taken only from
YooKassa's published addresses, and each payment is read back from the API and must hold the
status notified."""

from __future__ import annotations

from .model import (
    Answer,
    App,
    FormField,
    HttpAccess,
    Idempotency,
    Match,
    ReadBack,
    ReadBackRequest,
    SourceField,
    Trigger,
    Verification,
    WebhookRules,
)
from .model import label as _l

# The addresses YooKassa sends notifications from (yookassa.ru/developers/using-api/webhooks).
YOOKASSA_NETWORKS = [
    "185.71.76.0/27",
    "185.71.77.0/27",
    "77.75.153.0/25",
    "77.75.156.11/32",
    "77.75.156.35/32",
    "77.75.154.128/25",
    "2a02:5180::/32",
]

YOOKASSA = App(
    key="yookassa",
    label=_l("YooKassa", "ЮKassa"),
    category="shops",
    is_source=True,
    description=_l("Payments and refunds of a YooKassa shop", "Платежи и возвраты магазина в ЮKassa"),
    keywords=["yookassa", "юkassa", "юкасса", "яндекс.касса", "payments", "платежи", "оплата"],
    connection_fields=[
        FormField(name="shop_id", label=_l("Shop id (shopId)", "Идентификатор магазина (shopId)"), required=True),
        FormField(
            name="secret_key",
            label=_l("Secret key", "Секретный ключ"),
            type="password",
            secret=True,
            required=True,
            help=_l("YooKassa → Integration → API keys", "ЮKassa → Интеграция → Ключи API"),
        ),
        FormField(
            name="api_url",
            label=_l("API address", "Адрес API"),
            type="url",
            default="https://api.yookassa.ru",
            help=_l("leave as it is", "оставьте как есть"),
        ),
    ],
    http=HttpAccess(
        fields={"base_url": "{api_url}", "auth": "basic", "username": "{shop_id}", "password": "{secret_key}"},
        test_path="/v3/me",
    ),
    triggers=[
        Trigger(
            key="payment_event",
            label=_l("Payment or refund notification", "Уведомление о платеже или возврате"),
            kind="webhook",
            webhook=WebhookRules(
                verification=Verification(mode="address", networks=YOOKASSA_NETWORKS),
                idempotency=Idempotency(parts=["object.id", "event"]),
                answer=Answer(status=200, content_type="text/plain; charset=utf-8", body="empty"),
                methods=["POST"],
            ),
            readback=ReadBack(
                requests=[
                    # A refund names its payment; a payment does not.
                    ReadBackRequest(when=Match(field="object.payment_id"), path="/v3/refunds/{object.id}"),
                    ReadBackRequest(path="/v3/payments/{object.id}"),
                ],
                into="payment",
                require={"status": "{object.status}"},
            ),
            fields=[
                SourceField(path="event", label=_l("Event", "Событие"), example="payment.succeeded"),
                SourceField(
                    path="payment.id",
                    label=_l("Payment id", "Идентификатор платежа"),
                    example="22e12f66-000f-5000-8000-18db351245c7",
                ),
                SourceField(path="payment.status", label=_l("Status", "Статус"), example="succeeded"),
                SourceField(path="payment.amount.value", label=_l("Amount", "Сумма"), example="2.00"),
                SourceField(path="payment.amount.currency", label=_l("Currency", "Валюта"), example="RUB"),
                SourceField(path="payment.description", label=_l("Description", "Описание"), example="Заказ №72"),
                SourceField(
                    path="payment.metadata.order_id",
                    label=_l("Order id (metadata)", "Номер заказа (metadata)"),
                    example="72",
                ),
                SourceField(path="payment.paid", label=_l("Paid", "Оплачен"), example=True),
                SourceField(
                    path="payment.created_at", label=_l("Created", "Создан"), example="2026-12-01T10:00:00.000Z"
                ),
            ],
            instructions=_l(
                "1. Create the YooKassa connection: the shop id and a secret key (**Integration → API keys**). "
                "Notifications are not signed, so bpmlink reads each payment back with them and takes it only "
                "when its status is the one notified.\n"
                "2. In YooKassa open **Integration → HTTP notifications**, paste the URL `{url}` and tick the "
                "events (payment.succeeded, payment.waiting_for_capture, payment.canceled, refund.succeeded).\n"
                "Requests are taken only from YooKassa's published addresses; the payment read back is under "
                "`payment`.",
                "1. Создайте подключение ЮKassa: идентификатор магазина и секретный ключ\n"
                "   (**Интеграция → Ключи API**).\n"
                "   Уведомления не подписаны, поэтому bpmlink читает каждый платёж через API и принимает его,\n"
                "   только если статус совпадает с уведомлением.\n"
                "2. В ЮKassa откройте **Интеграция → HTTP-уведомления**, вставьте адрес `{url}` и отметьте события\n"
                "   (payment.succeeded, payment.waiting_for_capture, payment.canceled, refund.succeeded).\n"
                "Запросы принимаются только с опубликованных адресов ЮKassa; прочитанный платёж — в `payment`.",
            ),
        )
    ],
)

PAYMENT_APPS = (YOOKASSA,)
