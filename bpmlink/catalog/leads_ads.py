"""Lead ads («Реклама»): Facebook and Instagram Lead Ads. The webhook names the lead; its answers are
read back from the Graph API with a page access token."""

from __future__ import annotations

from .model import (
    Answer,
    Answers,
    App,
    FormField,
    HttpAccess,
    Idempotency,
    Match,
    ReadBack,
    ReadBackRequest,
    SourceField,
    Split,
    TestRequest,
    Trigger,
    Verification,
    WebhookRules,
)
from .model import label as _l

GRAPH_VERSION = "v21.0"

FACEBOOK_LEADS = App(
    key="facebook_leads",
    label=_l("Facebook / Instagram Lead Ads", "Лид-формы Facebook / Instagram"),
    category="crm",
    is_source=True,
    description=_l(
        "Leads from the instant forms of Facebook and Instagram ads",
        "Заявки из лид-форм рекламы Facebook и Instagram",
    ),
    keywords=["facebook", "instagram", "meta", "lead ads", "фейсбук", "инстаграм", "лид-форма", "реклама"],
    connection_fields=[
        FormField(
            name="page_access_token",
            label=_l("Page access token", "Токен доступа страницы"),
            type="password",
            secret=True,
            required=True,
            help=_l(
                "a long-lived token of the page with the leads_retrieval permission",
                "долгосрочный токен страницы с разрешением leads_retrieval",
            ),
        ),
        FormField(
            name="api_url",
            label=_l("Graph API address", "Адрес Graph API"),
            type="url",
            default="https://graph.facebook.com",
            help=_l("leave as it is", "оставьте как есть"),
        ),
    ],
    http=HttpAccess(
        fields={
            "base_url": "{api_url}",
            "auth": "api_key_query",
            "auth_query_param": "access_token",
            "auth_value": "{page_access_token}",
        },
        test_path=f"/{GRAPH_VERSION}/me?fields=id,name",
    ),
    triggers=[
        Trigger(
            key="new_lead",
            label=_l("New lead", "Новая заявка"),
            kind="webhook",
            config_fields=[
                FormField(
                    name="verify_token",
                    label=_l("Verify token", "Проверочный токен (verify token)"),
                    required=True,
                    help=_l(
                        "any phrase; type the same one in the app's Webhooks settings",
                        "любая фраза; ту же введите в настройках Webhooks приложения",
                    ),
                ),
            ],
            webhook=WebhookRules(
                verification=Verification(
                    mode="hmac_sha256", header="x-hub-signature-256", encoding="hex", prefix="sha256="
                ),
                tests=[
                    TestRequest(
                        when=Match(method="GET", field="hub.mode", equals="subscribe"),
                        answer=Answer(
                            status=200, content_type="text/plain; charset=utf-8", body="query", field="hub.challenge"
                        ),
                        verified=False,
                        token="hub.verify_token",  # noqa: S106 (a path and a field name, not secrets)
                        token_field="verify_token",  # noqa: S106
                    )
                ],
                split=Split(path="entry.*.changes.*"),
                idempotency=Idempotency(parts=["value.leadgen_id"]),
                answer=Answer(status=200, content_type="text/plain; charset=utf-8", body="text", text="ok"),
                methods=["GET", "POST"],
            ),
            readback=ReadBack(
                requests=[
                    ReadBackRequest(
                        path=f"/{GRAPH_VERSION}/{{value.leadgen_id}}?fields=id,created_time,ad_id,form_id,field_data"
                    )
                ],
                into="lead",
                answers=[Answers(path="field_data", key="name", value="values", into="fields")],
            ),
            fields=[
                SourceField(
                    path="lead.fields.full_name", label=_l("Full name", "Имя и фамилия"), example="Иван Петров"
                ),
                SourceField(path="lead.fields.email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="lead.fields.phone_number", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(
                    path="lead.created_time", label=_l("Created", "Создана"), example="2026-12-01T10:00:00+0000"
                ),
                SourceField(
                    path="value.leadgen_id", label=_l("Lead id", "Идентификатор заявки"), example="444444444444"
                ),
                SourceField(path="value.form_id", label=_l("Form id", "Идентификатор формы"), example="555555555555"),
                SourceField(path="value.ad_id", label=_l("Ad id", "Идентификатор объявления"), example="666666666666"),
                SourceField(
                    path="value.page_id", label=_l("Page id", "Идентификатор страницы"), example="777777777777"
                ),
            ],
            instructions=_l(
                "1. Create the connection with a long-lived **page access token** that has the `leads_retrieval` "
                "permission: the webhook names the lead, bpmlink reads its answers with this token.\n"
                "2. In your app on developers.facebook.com open **Webhooks → Page**, choose **Subscribe to this "
                "object**, paste the callback URL `{url}` and the verify token you set in this bundle: Facebook "
                "checks the URL, and bpmlink echoes its challenge.\n"
                "3. Subscribe to the **leadgen** field, and subscribe the app to your page.\n"
                "4. Put the app's **App Secret** (Settings → Basic) into this bundle's secret: every request is "
                "signed with it (X-Hub-Signature-256).\n"
                "Each form answer is under `lead.fields.<question key>` (full_name, email, phone_number…).",
                "1. Создайте подключение с долгосрочным **токеном доступа страницы** с разрешением `leads_retrieval`:\n"
                "   вебхук называет заявку, ответы bpmlink читает этим токеном.\n"
                "2. В приложении на developers.facebook.com откройте **Webhooks → Page**, выберите\n"
                "   **Subscribe to this object**, вставьте адрес `{url}` и проверочный токен, заданный в связке:\n"
                "   Facebook проверит адрес, bpmlink вернёт его challenge.\n"
                "3. Подпишитесь на поле **leadgen** и подпишите приложение на свою страницу.\n"
                "4. Впишите **App Secret** приложения (Settings → Basic) в секрет связки: им подписан каждый запрос\n"
                "   (X-Hub-Signature-256).\n"
                "Ответы формы — в `lead.fields.<ключ вопроса>` (full_name, email, phone_number…).",
            ),
        )
    ],
)

LEAD_AD_APPS = (FACEBOOK_LEADS,)
