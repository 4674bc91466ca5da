"""Forms and sites («Формы и сайты»): Tilda, Yandex Forms, Typeform, Jotform, Elementor Pro."""

from __future__ import annotations

from .model import (
    Answer,
    App,
    FormField,
    Idempotency,
    Match,
    SourceField,
    TestRequest,
    Trigger,
    Verification,
    WebhookRules,
)
from .model import label as _l

OK = Answer(status=200, content_type="text/plain; charset=utf-8", body="text", text="ok")

TILDA = App(
    key="tilda",
    label=_l("Tilda", "Tilda"),
    category="forms",
    description=_l("Leads from the forms of a Tilda site", "Заявки с форм сайта на Tilda"),
    keywords=["tilda", "тильда", "лендинг", "landing", "форма"],
    needs_connection=False,
    triggers=[
        Trigger(
            key="form_submission",
            label=_l("New form submission", "Новая заявка с формы"),
            kind="webhook",
            config_fields=[
                FormField(
                    name="api_key_header",
                    label=_l("API key header (optional)", "Заголовок API-ключа (необязательно)"),
                    help=_l(
                        "if you set an API key in Tilda, its header name; the key goes into the secret",
                        "если в Tilda задан API-ключ — имя его заголовка; сам ключ — в поле секрета",
                    ),
                ),
            ],
            webhook=WebhookRules(
                verification=Verification(mode="header_secret", header_field="api_key_header", optional=True),
                tests=[TestRequest(when=Match(field="test", equals="test"), verified=False)],
                idempotency=Idempotency(parts=["tranid"]),
                answer=OK,
                methods=["POST"],
            ),
            fields=[
                SourceField(path="Name", label=_l("Name", "Имя"), example="Иван Петров"),
                SourceField(path="Phone", label=_l("Phone", "Телефон"), example="+7 (912) 345-67-89"),
                SourceField(path="Email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="formid", label=_l("Form id", "Идентификатор формы"), example="form123456789"),
                SourceField(path="tranid", label=_l("Submission id", "Номер заявки"), example="1111111:6161583731"),
                SourceField(path="utm_source", label=_l("UTM source", "UTM-метка source"), example="yandex"),
                SourceField(path="utm_medium", label=_l("UTM medium", "UTM-метка medium"), example="cpc"),
                SourceField(path="utm_campaign", label=_l("UTM campaign", "UTM-метка campaign"), example="spring"),
            ],
            instructions=_l(
                "1. In Tilda open **Site settings → Forms → Webhook**.\n"
                "2. Paste the URL `{url}` and save: Tilda sends a test request, and bpmlink keeps it as the sample.\n"
                "3. In each form block open **Content → Receiving data** and tick **Webhook**.\n"
                "4. Republish the pages.\n"
                "The fields arrive under the variable names you gave them in the form (Name, Phone, Email…).",
                "1. В Tilda откройте **Настройки сайта → Формы → Webhook**.\n"
                "2. Вставьте адрес `{url}` и сохраните: Tilda отправит тестовый запрос,\n"
                "   bpmlink сохранит его как пример.\n"
                "3. В каждом блоке формы откройте **Контент → Приём данных** и отметьте **Webhook**.\n"
                "4. Переопубликуйте страницы.\n"
                "Поля приходят под именами переменных, заданными в форме (Name, Phone, Email…).",
            ),
        )
    ],
)

FORM_APPS = (TILDA,)
