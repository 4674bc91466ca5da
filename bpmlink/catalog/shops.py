"""Shops and bookings («Магазины и запись»): WooCommerce, Shopify, Calendly."""

from __future__ import annotations

from .model import (
    Answers,
    App,
    Idempotency,
    Match,
    Parse,
    SourceField,
    TestRequest,
    Trigger,
    Verification,
    WebhookRules,
)
from .model import label as _l

_ORDER = _l("New or changed order", "Новый или изменённый заказ")

WOOCOMMERCE = App(
    key="woocommerce",
    label=_l("WooCommerce", "WooCommerce"),
    category="shops",
    description=_l("Orders of a WooCommerce shop on WordPress", "Заказы магазина WooCommerce на WordPress"),
    keywords=["woocommerce", "вукоммерс", "woo", "wordpress", "вордпресс", "магазин", "заказ", "shop", "order"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="order",
            label=_ORDER,
            kind="webhook",
            webhook=WebhookRules(
                verification=Verification(mode="hmac_sha256", header="x-wc-webhook-signature", encoding="base64"),
                # Saving a webhook as Active pings the URL with the unsigned form body `webhook_id=<id>`.
                tests=[TestRequest(when=Match(only_fields=["webhook_id"]), verified=False)],
                # An order's topic and id, and its modification time: a resend is one event, a later update another.
                idempotency=Idempotency(parts=["header:x-wc-webhook-topic", "id", "?date_modified_gmt"]),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="billing.first_name", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="billing.last_name", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="billing.email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="billing.phone", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="billing.company", label=_l("Company", "Компания"), example="ООО «Ромашка»"),
                SourceField(path="billing.city", label=_l("City", "Город"), example="Казань"),
                SourceField(path="number", label=_l("Order number", "Номер заказа"), example="4750"),
                SourceField(path="status", label=_l("Order status", "Статус заказа"), example="processing"),
                SourceField(path="total", label=_l("Total", "Сумма"), example="5490.00"),
                SourceField(path="currency", label=_l("Currency", "Валюта"), example="RUB"),
                SourceField(path="line_items.0.name", label=_l("First product", "Первый товар"), example="Кофемолка"),
                SourceField(
                    path="customer_note",
                    label=_l("Customer note", "Комментарий покупателя"),
                    example="Позвонить заранее",
                ),
            ],
            instructions=_l(
                "1. In bpmlink give the bundle a secret (8 characters or more).\n"
                "2. In WordPress open **WooCommerce** → **Settings** → **Advanced** → **Webhooks** → **Add webhook**.\n"
                "3. Status **Active**, topic **Order created** (or **Order updated**), API version **WP REST API "
                "v3**,\n"
                "   delivery URL `{url}`, the same secret in **Secret**; save.\n"
                "4. WooCommerce pings the URL on saving (`webhook_id=…`): the ping is shown in history as a test.\n"
                "5. Place a test order: it appears in the bundle's history and becomes the sample.\n"
                "WooCommerce disables a webhook after several failed deliveries in a row: keep the bundle running.",
                "1. В bpmlink задайте связке секрет (не короче 8 символов).\n"
                "2. В WordPress откройте **WooCommerce** → **Настройки** → **Дополнительно** → **Вебхуки** → "
                "**Добавить вебхук**.\n"
                "3. Статус **Активно**, тема **Заказ создан** (или **Заказ обновлён**), версия API **WP REST API "
                "v3**,\n"
                "   URL доставки `{url}`, тот же секрет в поле **Секрет**; сохраните.\n"
                "4. При сохранении WooCommerce проверяет адрес (`webhook_id=…`): проверка видна в истории как тест.\n"
                "5. Оформите тестовый заказ — он появится в истории связки и станет примером.\n"
                "WooCommerce отключает вебхук после нескольких неудачных доставок подряд: держите связку запущенной.",
            ),
        )
    ],
)

SHOPIFY = App(
    key="shopify",
    label=_l("Shopify", "Shopify"),
    category="shops",
    description=_l("Orders of a Shopify shop", "Заказы магазина Shopify"),
    keywords=["shopify", "шопифай", "магазин", "заказ", "shop", "order"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="order",
            label=_ORDER,
            kind="webhook",
            webhook=WebhookRules(
                verification=Verification(mode="hmac_sha256", header="x-shopify-hmac-sha256", encoding="base64"),
                # The same id on every retry of a delivery (Shopify: "ignore duplicates").
                idempotency=Idempotency(parts=["header:x-shopify-webhook-id"]),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="customer.first_name", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="customer.last_name", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="billing_address.phone", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="billing_address.company", label=_l("Company", "Компания"), example="ООО «Ромашка»"),
                SourceField(path="billing_address.city", label=_l("City", "Город"), example="Казань"),
                SourceField(path="name", label=_l("Order name", "Номер заказа"), example="#1001"),
                SourceField(path="total_price", label=_l("Total", "Сумма"), example="5490.00"),
                SourceField(path="currency", label=_l("Currency", "Валюта"), example="RUB"),
                SourceField(path="financial_status", label=_l("Payment status", "Статус оплаты"), example="paid"),
                SourceField(path="line_items.0.title", label=_l("First product", "Первый товар"), example="Кофемолка"),
                SourceField(path="note", label=_l("Order note", "Комментарий к заказу"), example="Позвонить заранее"),
            ],
            instructions=_l(
                "1. In Shopify admin open **Settings** → **Notifications** → **Webhooks** → **Create webhook**.\n"
                "2. Event **Order creation** (or **Order update**), format **JSON**, URL `{url}`, the latest API "
                "version; save.\n"
                "3. Copy the key shown under the list («Your webhooks will be signed with …») into the bundle's "
                "secret.\n"
                "4. While the bundle's sample step shows «Waiting for a test request…», press **Send test**: the\n"
                "   sample order looks real, so it is taken only as the sample, never sent on.\n"
                "Shopify waits 5 seconds for the answer and retries for 4 hours; a retry is recognised and stored "
                "once.",
                "1. В админке Shopify откройте **Settings** → **Notifications** → **Webhooks** → **Create webhook**.\n"
                "2. Событие **Order creation** (или **Order update**), формат **JSON**, URL `{url}`, последняя "
                "версия API; сохраните.\n"
                "3. Скопируйте ключ под списком («Your webhooks will be signed with …») в секрет связки.\n"
                "4. Пока шаг примера в связке показывает «Ждём тестовый запрос…», нажмите **Send test**:\n"
                "   образец заказа похож на настоящий, поэтому он станет только примером и дальше не уйдёт.\n"
                "Shopify ждёт ответа 5 секунд и повторяет доставку 4 часа; повтор распознаётся и сохраняется один раз.",
            ),
        )
    ],
)

CALENDLY = App(
    key="calendly",
    label=_l("Calendly", "Calendly"),
    category="shops",
    description=_l("Meetings booked through Calendly", "Встречи, забронированные через Calendly"),
    keywords=["calendly", "календли", "запись", "встреча", "бронирование", "booking", "meeting", "schedule"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="invitee_created",
            label=_l("New booking", "Новая запись на встречу"),
            kind="webhook",
            webhook=WebhookRules(
                parse=Parse(answers=[Answers(path="payload.questions_and_answers", key="question", value="answer")]),
                # Calendly signs `t=<unix>,v1=<hex>` and tells receivers to refuse old timestamps (3 minutes).
                verification=Verification(
                    mode="timestamped_hmac", header="calendly-webhook-signature", tolerance_seconds=180
                ),
                idempotency=Idempotency(parts=["event", "payload.uri"]),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="payload.name", label=_l("Name", "Имя"), example="Иван Петров"),
                SourceField(path="payload.first_name", label=_l("First name", "Имя (отдельно)"), example="Иван"),
                SourceField(path="payload.last_name", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="payload.email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(
                    path="payload.text_reminder_number",
                    label=_l("SMS phone", "Телефон для SMS"),
                    example="+79123456789",
                ),
                SourceField(
                    path="payload.scheduled_event.name",
                    label=_l("Meeting type", "Тип встречи"),
                    example="Консультация 30 минут",
                ),
                SourceField(
                    path="payload.scheduled_event.start_time",
                    label=_l("Meeting start", "Начало встречи"),
                    example="2026-12-03T10:00:00.000000Z",
                ),
                SourceField(
                    path="payload.timezone", label=_l("Invitee time zone", "Часовой пояс"), example="Europe/Moscow"
                ),
                SourceField(
                    path="payload.tracking.utm_source", label=_l("UTM source", "UTM-метка source"), example="yandex"
                ),
                SourceField(
                    path="fields.Company", label=_l("Answer «Company»", "Ответ «Company»"), example="ООО «Ромашка»"
                ),
            ],
            instructions=_l(
                "Calendly creates webhooks through its API only (paid plans):\n"
                "1. In bpmlink give the bundle a secret (8 characters or more): it is the signing key.\n"
                "2. Create a personal access token in Calendly (**Integrations** → **API and webhooks**).\n"
                "3. Send `POST https://api.calendly.com/webhook_subscriptions` with that token and the body\n"
                '   `{"url": "{url}", "events": ["invitee.created"], "organization": "<your organization URI>",\n'
                '   "scope": "organization", "signing_key": "<the same secret>"}`.\n'
                "4. Book a meeting on your page: it appears in the bundle's history and becomes the sample.\n"
                "Answers to the booking questions arrive under the question's text: `fields.<question>`.",
                "Calendly создаёт вебхуки только через API (на платных тарифах):\n"
                "1. В bpmlink задайте связке секрет (не короче 8 символов) — это ключ подписи.\n"
                "2. Создайте в Calendly персональный токен доступа (**Integrations** → **API and webhooks**).\n"
                "3. Отправьте `POST https://api.calendly.com/webhook_subscriptions` с этим токеном и телом\n"
                '   `{"url": "{url}", "events": ["invitee.created"], "organization": "<URI вашей организации>",\n'
                '   "scope": "organization", "signing_key": "<тот же секрет>"}`.\n'
                "4. Запишитесь на встречу на своей странице — запись появится в истории связки и станет примером.\n"
                "Ответы на вопросы при записи приходят под текстом вопроса: `fields.<вопрос>`.",
            ),
        )
    ],
)

SHOP_APPS = (WOOCOMMERCE, SHOPIFY, CALENDLY)
