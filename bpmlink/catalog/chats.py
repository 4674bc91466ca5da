"""Chats and messengers («Чаты и мессенджеры»): Jivo, VK (Callback API, lead forms), Telegram bots."""

from __future__ import annotations

from .model import (
    Answer,
    Answers,
    App,
    FormField,
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

TEXT_OK = Answer(status=200, content_type="text/plain; charset=utf-8", body="text", text="ok")

# Jivo reads the answer's JSON and shows an error to the agent unless it is {"result": "ok"}.
JIVO_OK = Answer(status=200, content_type="application/json", body="text", text='{"result":"ok"}')

JIVO = App(
    key="jivo",
    label=_l("Jivo", "Jivo"),
    category="crm",
    description=_l(
        "Chats, offline messages and calls of the Jivo chat on your site",
        "Чаты, офлайн-сообщения и звонки онлайн-чата Jivo на сайте",
    ),
    keywords=["jivo", "jivosite", "jivochat", "живо", "живосайт", "чат", "онлайн-консультант", "chat"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="chat_event",
            label=_l("Chat finished or offline message", "Завершён чат или оставлено офлайн-сообщение"),
            kind="webhook",
            webhook=WebhookRules(
                idempotency=Idempotency(parts=["event_name", "chat_id"]),
                answer=JIVO_OK,
                methods=["POST"],
            ),
            fields=[
                SourceField(path="visitor.name", label=_l("Visitor name", "Имя посетителя"), example="Иван Петров"),
                SourceField(
                    path="visitor.phone", label=_l("Visitor phone", "Телефон посетителя"), example="+79123456789"
                ),
                SourceField(
                    path="visitor.email", label=_l("Visitor e-mail", "E-mail посетителя"), example="ivan@example.ru"
                ),
                SourceField(path="message", label=_l("Offline message", "Офлайн-сообщение"), example="Перезвоните мне"),
                SourceField(path="event_name", label=_l("Event", "Событие"), example="chat_finished"),
                SourceField(path="chat_id", label=_l("Chat id", "ID чата"), example=4398),
                SourceField(
                    path="page.url", label=_l("Page URL", "Адрес страницы"), example="https://example.ru/prices"
                ),
                SourceField(
                    path="session.utm_json.source", label=_l("UTM source", "UTM-метка source"), example="yandex"
                ),
                SourceField(
                    path="session.utm_json.campaign", label=_l("UTM campaign", "UTM-метка campaign"), example="spring"
                ),
                SourceField(path="agent.name", label=_l("Agent", "Оператор"), example="Анна Смирнова"),
            ],
            instructions=_l(
                "1. In Jivo open **Management** → **Channels** → the site's **Settings** → **Integration for "
                "developers**.\n"
                "2. Turn on **Webhooks** and paste the URL `{url}` into the events URL; save.\n"
                "3. Start a chat on your site (or leave an offline message) and finish it: the event appears in the\n"
                "   bundle's history and becomes the sample.\n"
                "Every event Jivo sends (chat accepted, finished, offline message, call) arrives here; the field\n"
                "`event_name` says which one, use the bundle's filter to keep only `chat_finished` and "
                "`offline_message`.",
                "1. В Jivo откройте **Управление** → **Каналы** → **Настройки** сайта → **Интеграция для "
                "разработчиков**.\n"
                "2. Включите **Webhooks** и вставьте адрес `{url}` в поле URL событий; сохраните.\n"
                "3. Начните чат на сайте (или оставьте офлайн-сообщение) и завершите его — событие появится в истории\n"
                "   связки и станет примером.\n"
                "Сюда приходят все события Jivo (принят чат, завершён чат, офлайн-сообщение, звонок); какое именно —\n"
                "в поле `event_name`, фильтром связки оставьте только `chat_finished` и `offline_message`.",
            ),
        )
    ],
)

VK = App(
    key="vk",
    label=_l("VK lead forms", "ВКонтакте: формы сбора заявок"),
    category="crm",
    description=_l(
        "Leads from the lead forms of a VK community (Callback API)",
        "Заявки из форм сбора заявок сообщества ВКонтакте (Callback API)",
    ),
    keywords=["vk", "vkontakte", "вконтакте", "вк", "callback api", "лид-форма", "форма сбора заявок", "реклама"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="lead_form",
            label=_l("New lead from a lead form", "Новая заявка из формы сбора заявок"),
            kind="webhook",
            config_fields=[
                FormField(
                    name="confirmation_code",
                    label=_l("Confirmation string", "Строка для подтверждения"),
                    required=True,
                    help=_l(
                        "the string VK shows above the server address («String to be returned»)",
                        "строка, которую ВКонтакте показывает над адресом сервера («Строка, которую должен вернуть "
                        "сервер»)",
                    ),
                ),
            ],
            webhook=WebhookRules(
                parse=Parse(answers=[Answers(path="object.answers", key="key", value="answer")]),
                verification=Verification(mode="body_secret", path="secret"),
                tests=[
                    TestRequest(
                        when=Match(field="type", equals="confirmation"),
                        answer=Answer(
                            status=200,
                            content_type="text/plain; charset=utf-8",
                            body="config",
                            field="confirmation_code",
                        ),
                        verified=False,
                    )
                ],
                idempotency=Idempotency(parts=["event_id"]),
                answer=TEXT_OK,
                methods=["POST"],
            ),
            fields=[
                SourceField(path="fields.first_name", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="fields.last_name", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="fields.phone_number", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="fields.email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(
                    path="object.form_name", label=_l("Form name", "Название формы"), example="Запись на пробный урок"
                ),
                SourceField(path="object.lead_id", label=_l("Lead id", "ID заявки"), example=7),
                SourceField(
                    path="object.user_id", label=_l("VK user id", "ID пользователя ВКонтакте"), example=1234567
                ),
                SourceField(path="object.ad_id", label=_l("Ad id", "ID объявления"), example=98765),
                SourceField(path="group_id", label=_l("Community id", "ID сообщества"), example=123456),
            ],
            instructions=_l(
                "1. In VK open the community → **Manage** → **API usage** → **Callback API**, choose API version "
                "5.199.\n"
                "2. Copy the **string to be returned** into the bundle's «Confirmation string» and save the bundle.\n"
                "3. Give the bundle a secret (8 characters or more) and type the same one into VK's **Secret key**.\n"
                "4. Paste the URL `{url}` into **Address** and press **Confirm**: VK checks the URL and bpmlink "
                "answers\n"
                "   with the string.\n"
                "5. On the **Event types** tab tick only **Lead forms → New lead** (`lead_forms_new`).\n"
                "Answers arrive by question key: `fields.first_name`, `fields.phone_number`, `fields.email`, and for\n"
                "your own questions the key you gave them.",
                "1. В ВКонтакте откройте сообщество → **Управление** → **Работа с API** → **Callback API**,\n"
                "   выберите версию API 5.199.\n"
                "2. Скопируйте **строку, которую должен вернуть сервер**, в поле связки «Строка для подтверждения»\n"
                "   и сохраните связку.\n"
                "3. Задайте связке секрет (не короче 8 символов) и введите тот же в поле ВКонтакте **Секретный "
                "ключ**.\n"
                "4. Вставьте адрес `{url}` в поле **Адрес** и нажмите **Подтвердить**: ВКонтакте проверит адрес,\n"
                "   bpmlink ответит этой строкой.\n"
                "5. На вкладке **Типы событий** отметьте только **Формы сбора заявок → Новая заявка** "
                "(`lead_forms_new`).\n"
                "Ответы приходят по ключу вопроса: `fields.first_name`, `fields.phone_number`, `fields.email`, для "
                "своих\n"
                "вопросов — по заданному им ключу.",
            ),
        )
    ],
)

TELEGRAM_SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)

TELEGRAM = App(
    key="telegram",
    label=_l("Telegram bot", "Telegram-бот"),
    category="crm",
    description=_l("Messages sent to your Telegram bot", "Сообщения, которые пишут вашему Telegram-боту"),
    keywords=["telegram", "телеграм", "телеграмм", "tg", "тг", "бот", "bot", "мессенджер"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            on_start="telegram_set_webhook",
            key="bot_update",
            label=_l("New message to the bot", "Новое сообщение боту"),
            kind="webhook",
            config_fields=[
                FormField(
                    name="bot_token",
                    label=_l("Bot token (optional)", "Токен бота (необязательно)"),
                    type="password",
                    secret=True,
                    help=_l(
                        "from @BotFather; with it bpmlink registers the URL itself when the bundle starts",
                        "от @BotFather; с ним bpmlink сам зарегистрирует адрес при запуске связки",
                    ),
                ),
            ],
            webhook=WebhookRules(
                verification=Verification(mode="header_secret", header=TELEGRAM_SECRET_HEADER),
                idempotency=Idempotency(parts=["update_id"]),
                answer=Answer(status=200, body="empty"),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="message.from.first_name", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="message.from.last_name", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(
                    path="message.from.username", label=_l("Username", "Имя пользователя"), example="ivan_petrov"
                ),
                SourceField(
                    path="message.contact.phone_number",
                    label=_l("Shared phone", "Отправленный телефон"),
                    example="79123456789",
                ),
                SourceField(
                    path="message.text", label=_l("Message text", "Текст сообщения"), example="Хочу записаться"
                ),
                SourceField(
                    path="message.from.id", label=_l("Telegram user id", "ID пользователя Telegram"), example=111222333
                ),
                SourceField(path="message.chat.id", label=_l("Chat id", "ID чата"), example=111222333),
                SourceField(path="update_id", label=_l("Update id", "ID обновления"), example=900000001),
            ],
            instructions=_l(
                "With the bot token (from @BotFather) in the bundle, bpmlink registers `{url}` with Telegram when you\n"
                "start the bundle, with a secret of its own: nothing to do on Telegram's side.\n"
                "Without the token, register the URL yourself:\n"
                "1. Give the bundle a secret: 8 to 256 characters, only A–Z, a–z, 0–9, `_` and `-`.\n"
                "2. Call `https://api.telegram.org/bot<token>/setWebhook?url={url}&secret_token=<the secret>`.\n"
                "3. Write to the bot: the message appears in the bundle's history and becomes the sample.\n"
                "The gateway's URL must be public HTTPS on port 443, 80, 88 or 8443.",
                "Если в связке указан токен бота (от @BotFather), bpmlink при запуске связки сам зарегистрирует\n"
                "адрес `{url}` в Telegram со своим секретом — в Telegram ничего делать не нужно.\n"
                "Без токена зарегистрируйте адрес сами:\n"
                "1. Задайте связке секрет: от 8 до 256 символов, только A–Z, a–z, 0–9, `_` и `-`.\n"
                "2. Откройте `https://api.telegram.org/bot<токен>/setWebhook?url={url}&secret_token=<секрет>`.\n"
                "3. Напишите боту — сообщение появится в истории связки и станет примером.\n"
                "Адрес шлюза должен быть публичным HTTPS на порту 443, 80, 88 или 8443.",
            ),
        )
    ],
)

CHAT_APPS = (JIVO, VK, TELEGRAM)
