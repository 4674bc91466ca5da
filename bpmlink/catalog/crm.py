"""CRMs as sources («CRM»): amoCRM and Bitrix24. Their webhooks carry little more than an id, so the
record is read back through the user's API access (a source connection), and both can be polled
over the same API instead."""

from __future__ import annotations

from .generic import _INTERVAL
from .model import (
    App,
    FormField,
    HttpAccess,
    Idempotency,
    Match,
    PollingPreset,
    ReadBack,
    ReadBackRequest,
    SourceField,
    Split,
    Trigger,
    Verification,
    WebhookRules,
)
from .model import label as _l

AMOCRM = App(
    key="amocrm",
    label=_l("amoCRM", "amoCRM"),
    category="crm",
    is_source=True,
    description=_l(
        "Leads and contacts of an amoCRM account, by webhook or by polling its API",
        "Сделки и контакты аккаунта amoCRM — по вебхуку или опросом API",
    ),
    keywords=["amocrm", "амосрм", "амо", "kommo", "сделки", "leads", "crm"],
    connection_fields=[
        FormField(
            name="domain",
            label=_l("Account address", "Адрес аккаунта"),
            type="url",
            required=True,
            help=_l("e.g. https://acme.amocrm.ru", "например, https://acme.amocrm.ru"),
        ),
        FormField(
            name="token",
            label=_l("Long-lived token", "Долгосрочный токен"),
            type="password",
            secret=True,
            required=True,
            help=_l(
                "amoCRM → Settings → Integrations → your private integration → Keys and access",
                "amoCRM → Настройки → Интеграции → ваша внешняя интеграция → Ключи и доступы",
            ),
        ),
    ],
    http=HttpAccess(
        fields={"base_url": "{domain}", "auth": "bearer", "auth_value": "{token}"}, test_path="/api/v4/account"
    ),
    triggers=[
        Trigger(
            key="lead_or_contact_event",
            label=_l(
                "Lead or contact added or changed (webhook)", "Сделка или контакт добавлены или изменены (вебхук)"
            ),
            kind="webhook",
            webhook=WebhookRules(
                split=Split(path="{entity:leads|contacts}.{action:add|update|status}.*", keep=["account"]),
                idempotency=Idempotency(parts=["_split.entity", "id", "_split.action", "?updated_at"]),
                methods=["POST"],
            ),
            readback=ReadBack(
                requests=[
                    ReadBackRequest(
                        when=Match(field="_split.entity", equals="leads"), path="/api/v4/leads/{id}?with=contacts"
                    ),
                    ReadBackRequest(
                        when=Match(field="_split.entity", equals="contacts"),
                        path="/api/v4/contacts/{id}?with=leads",
                    ),
                ],
                into="record",
            ),
            fields=[
                SourceField(path="_split.entity", label=_l("Entity", "Сущность"), example="leads"),
                SourceField(path="_split.action", label=_l("Event", "Событие"), example="add"),
                SourceField(path="id", label=_l("Id", "Идентификатор"), example="31750843"),
                SourceField(path="record.name", label=_l("Name", "Название / имя"), example="Заявка с сайта"),
                SourceField(path="record.price", label=_l("Budget", "Бюджет"), example=15000),
                SourceField(path="record.status_id", label=_l("Stage id", "Этап (id)"), example=142),
                SourceField(path="record.pipeline_id", label=_l("Pipeline id", "Воронка (id)"), example=3366),
                SourceField(
                    path="record.responsible_user_id",
                    label=_l("Responsible user id", "Ответственный (id)"),
                    example=504141,
                ),
                SourceField(
                    path="record._embedded.contacts.0.id",
                    label=_l("Main contact id", "Основной контакт (id)"),
                    example=27,
                ),
                SourceField(path="account.subdomain", label=_l("Account", "Аккаунт"), example="acme"),
            ],
            instructions=_l(
                "1. Create the amoCRM connection: the account address and a long-lived token of a private "
                "integration (**Settings → Integrations → Create integration → Keys and access**).\n"
                "2. In amoCRM open **Settings → Integrations → Web hooks** and add the URL `{url}`.\n"
                "3. Tick the events: leads and contacts added, changed, stage changed.\n"
                "amoCRM sends only ids and a few fields; bpmlink reads each lead or contact back through the "
                "connection, so its fields and contacts are under `record`.",
                "1. Создайте подключение amoCRM: адрес аккаунта и долгосрочный токен внешней интеграции\n"
                "   (**Настройки → Интеграции → Создать интеграцию → Ключи и доступы**).\n"
                "2. В amoCRM откройте **Настройки → Интеграции → Web hooks** и добавьте адрес `{url}`.\n"
                "3. Отметьте события: сделки и контакты добавлены, изменены, смена этапа.\n"
                "amoCRM присылает только идентификаторы и несколько полей; bpmlink читает каждую сделку или\n"
                "контакт через подключение, их поля и контакты — в `record`.",
            ),
        ),
        Trigger(
            key="changed_leads",
            label=_l("New or changed leads (polling)", "Новые или изменённые сделки (опрос)"),
            kind="polling",
            config_fields=[_INTERVAL],
            polling=PollingPreset(
                config={
                    "path": "/api/v4/leads?order[updated_at]=asc&with=contacts",
                    "items_path": "_embedded.leads",
                    "id_field": "id",
                    "cursor_field": "updated_at",
                    "cursor_param": "filter[updated_at][from]",  # inclusive: the same second again, once per key
                    "version_field": "updated_at",
                    "limit_param": "limit",
                    "page_size": 250,
                    "tie_param": "page",  # a full page of one second (a bulk change): its next pages
                    "tie_by": "page",
                }
            ),
            fields=[
                SourceField(path="id", label=_l("Id", "Идентификатор"), example=31750843),
                SourceField(path="name", label=_l("Name", "Название"), example="Заявка с сайта"),
                SourceField(path="price", label=_l("Budget", "Бюджет"), example=15000),
                SourceField(path="status_id", label=_l("Stage id", "Этап (id)"), example=142),
                SourceField(path="updated_at", label=_l("Changed at (unix)", "Изменена (unix)"), example=1764600000),
                SourceField(
                    path="_embedded.contacts.0.id", label=_l("Main contact id", "Основной контакт (id)"), example=27
                ),
            ],
            instructions=_l(
                "Create the amoCRM connection (account address and long-lived token). bpmlink asks amoCRM for "
                "the leads changed since its last check, oldest first; each version of a lead is taken once.",
                "Создайте подключение amoCRM (адрес аккаунта и долгосрочный токен). bpmlink запрашивает у amoCRM\n"
                "сделки, изменённые после прошлой проверки, старые первыми; каждая версия сделки берётся один раз.",
            ),
        ),
    ],
)

_BITRIX_GET = {
    "LEAD": "crm.lead.get",
    "CONTACT": "crm.contact.get",
    "DEAL": "crm.deal.get",
    "COMPANY": "crm.company.get",
}

BITRIX24 = App(
    key="bitrix24",
    label=_l("Bitrix24", "Битрикс24"),
    category="crm",
    is_source=True,
    description=_l(
        "Leads, contacts, deals and companies of a Bitrix24 portal, by outgoing webhook or by polling",
        "Лиды, контакты, сделки и компании портала Битрикс24 — по исходящему вебхуку или опросом",
    ),
    keywords=["bitrix", "bitrix24", "битрикс", "битрикс24", "лиды", "crm"],
    connection_fields=[
        FormField(
            name="webhook_url",
            label=_l("Inbound webhook URL", "Адрес входящего вебхука"),
            type="password",
            secret=True,
            required=True,
            help=_l(
                "Developer resources → Other → Inbound webhook, with CRM rights: https://acme.bitrix24.ru/rest/1/abc…/",
                "Разработчикам → Другое → Входящий вебхук, с правами CRM: https://acme.bitrix24.ru/rest/1/abc…/",
            ),
        ),
    ],
    http=HttpAccess(fields={"base_url": "{webhook_url}", "auth": "none"}, test_path="crm.lead.fields"),
    triggers=[
        Trigger(
            key="crm_event",
            label=_l("CRM record added or changed (outgoing webhook)", "Запись CRM добавлена или изменена (вебхук)"),
            kind="webhook",
            webhook=WebhookRules(
                verification=Verification(mode="body_secret", path="auth.application_token"),
                idempotency=Idempotency(parts=["event", "data.FIELDS.ID", "?ts"]),
                methods=["POST"],
            ),
            readback=ReadBack(
                requests=[
                    ReadBackRequest(
                        when=Match(field="event", equals=f"ONCRM{entity}{action}"),
                        path=f"{method}?id={{data.FIELDS.ID}}",
                    )
                    for entity, method in _BITRIX_GET.items()
                    for action in ("ADD", "UPDATE")
                ],
                answer_path="result",
                into="record",
            ),
            fields=[
                SourceField(path="event", label=_l("Event", "Событие"), example="ONCRMLEADADD"),
                SourceField(path="data.FIELDS.ID", label=_l("Id", "Идентификатор"), example="42"),
                SourceField(path="record.TITLE", label=_l("Title", "Название"), example="Заявка с сайта"),
                SourceField(path="record.NAME", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="record.LAST_NAME", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="record.PHONE.0.VALUE", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="record.EMAIL.0.VALUE", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="record.SOURCE_ID", label=_l("Source", "Источник"), example="WEB"),
                SourceField(path="record.OPPORTUNITY", label=_l("Amount", "Сумма"), example="15000.00"),
                SourceField(path="auth.domain", label=_l("Portal", "Портал"), example="acme.bitrix24.ru"),
            ],
            instructions=_l(
                "1. In Bitrix24 open **Developer resources → Other → Inbound webhook**, tick the **CRM** rights, "
                "save, and create the Bitrix24 connection with its URL: bpmlink reads each record back through it.\n"
                "2. Open **Developer resources → Other → Outgoing webhook**, paste the handler URL `{url}` and choose "
                "the events (lead, contact, deal or company added or updated).\n"
                "3. Copy the **application token** Bitrix24 shows there into this bundle's secret: each request "
                "carries it, and bpmlink refuses any that does not.\n"
                "The outgoing webhook carries only the record's ID; its fields are under `record`.",
                "1. В Битрикс24 откройте **Разработчикам → Другое → Входящий вебхук**, отметьте права **CRM**,\n"
                "   сохраните и создайте подключение Битрикс24 с его адресом: через него bpmlink читает записи.\n"
                "2. Откройте **Разработчикам → Другое → Исходящий вебхук**, вставьте адрес обработчика `{url}`\n"
                "   и выберите события (лид, контакт, сделка или компания добавлены или изменены).\n"
                "3. Скопируйте показанный там **токен приложения** в секрет этой связки: он приходит в каждом\n"
                "   запросе, запросы без него bpmlink отклоняет.\n"
                "Исходящий вебхук передаёт только ID записи; её поля — в `record`.",
            ),
        ),
        Trigger(
            key="changed_records",
            label=_l("New or changed records (polling)", "Новые или изменённые записи (опрос)"),
            kind="polling",
            config_fields=[
                FormField(
                    name="entity",
                    label=_l("Records", "Записи"),
                    type="select",
                    required=True,
                    default="lead",
                    options=["lead", "contact", "deal", "company"],
                ),
                _INTERVAL,
            ],
            polling=PollingPreset(
                config={
                    "path": "crm.{entity}.list?order[DATE_MODIFY]=ASC&order[ID]=ASC&select[]=*&select[]=UF_*"
                    "&select[]=PHONE&select[]=EMAIL",
                    "items_path": "result",
                    "id_field": "ID",
                    "cursor_field": "DATE_MODIFY",
                    "cursor_param": "filter[>=DATE_MODIFY]",  # inclusive: the same second again, once per key
                    "version_field": "DATE_MODIFY",
                    "page_size": 50,  # Bitrix24's fixed page
                    "tie_param": "start",  # a full page of one second (an import): its next 50 by position
                }
            ),
            fields=[
                SourceField(path="ID", label=_l("Id", "Идентификатор"), example="42"),
                SourceField(path="TITLE", label=_l("Title", "Название"), example="Заявка с сайта"),
                SourceField(path="NAME", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="LAST_NAME", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="PHONE.0.VALUE", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="EMAIL.0.VALUE", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(
                    path="DATE_MODIFY", label=_l("Changed at", "Изменена"), example="2026-12-01T10:00:00+03:00"
                ),
            ],
            instructions=_l(
                "Create the Bitrix24 connection with an inbound webhook URL that has the **CRM** rights. bpmlink "
                "asks for the records changed since its last check, oldest first, 50 at a time (Bitrix24's page); "
                "each version of a record is taken once.",
                "Создайте подключение Битрикс24 с адресом входящего вебхука с правами **CRM**. bpmlink запрашивает\n"
                "записи, изменённые после прошлой проверки, старые первыми, по 50 (страница Битрикс24);\n"
                "каждая версия записи берётся один раз.",
            ),
        ),
    ],
)

CRM_APPS = (AMOCRM, BITRIX24)
