"""Forms and sites («Формы и сайты»): Tilda, Yandex Forms, Typeform, Jotform, Elementor Pro."""

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

OK = Answer(status=200, content_type="text/plain; charset=utf-8", body="text", text="ok")

TILDA = App(
    key="tilda",
    label=_l("Tilda", "Tilda"),
    category="forms",
    description=_l("Leads from the forms of a Tilda site", "Заявки с форм сайта на Tilda"),
    keywords=["tilda", "тильда", "лендинг", "landing", "форма"],
    is_source=True,
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
                "4. Republish the pages.\n\n"
                "The fields arrive under the variable names you gave them in the form (Name, Phone, Email…).",
                "1. В Tilda откройте **Настройки сайта → Формы → Webhook**.\n"
                "2. Вставьте адрес `{url}` и сохраните: Tilda отправит тестовый запрос,\n"
                "   bpmlink сохранит его как пример.\n"
                "3. В каждом блоке формы откройте **Контент → Приём данных** и отметьте **Webhook**.\n"
                "4. Переопубликуйте страницы.\n\n"
                "Поля приходят под именами переменных, заданными в форме (Name, Phone, Email…).",
            ),
        )
    ],
)


# Yandex Forms sends only what the user writes into "Request with a set method"; this body names
# the fields the labelled list below expects. Each placeholder is replaced in Yandex Forms by the
# variable of that question ("{}" button), so the answer ids stay Yandex's own.
YANDEX_FORMS_BODY = """{
  "answer_id": "{{ID ответа}}",
  "form_id": "{{ID формы}}",
  "name": "{{Ответ на вопрос «Имя»}}",
  "phone": "{{Ответ на вопрос «Телефон»}}",
  "email": "{{Ответ на вопрос «E-mail»}}",
  "comment": "{{Ответ на вопрос «Комментарий»}}"
}"""

# Yandex Forms' documented sending network (yandex.ru/support/forms/ru/send-request): IPv6 only.
YANDEX_FORMS_NETWORKS = ["2a02:6b8:c00::/40"]

YANDEX_FORMS = App(
    key="yandex_forms",
    label=_l("Yandex Forms", "Яндекс Формы"),
    category="forms",
    description=_l(
        "Answers to a Yandex Forms form, sent by its HTTP request integration",
        "Ответы на форму Яндекс Форм, отправленные интеграцией «HTTP-запрос»",
    ),
    keywords=["yandex forms", "яндекс формы", "яндекс.формы", "forms.yandex", "анкета", "опрос", "форма"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="form_answer",
            label=_l("New form answer", "Новый ответ на форму"),
            kind="webhook",
            webhook=WebhookRules(
                verification=Verification(mode="address", networks=YANDEX_FORMS_NETWORKS),
                idempotency=Idempotency(parts=["answer_id"]),
                methods=["POST", "PUT"],
            ),
            body_template=YANDEX_FORMS_BODY,
            fields=[
                SourceField(path="name", label=_l("Name", "Имя"), example="Иван Петров"),
                SourceField(path="phone", label=_l("Phone", "Телефон"), example="+79123456789"),
                SourceField(path="email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="comment", label=_l("Comment", "Комментарий"), example="Перезвоните после 18:00"),
                SourceField(path="answer_id", label=_l("Answer id", "ID ответа"), example="1234567890"),
                SourceField(path="form_id", label=_l("Form id", "ID формы"), example="65f0c0ffee0a1b2c3d4e5f60"),
            ],
            instructions=_l(
                "1. In Yandex Forms open the form → **Integration** → **Add** → **HTTP request**,\n"
                "   type **Request with a set method**, method **POST**.\n"
                "2. URL: `{url}`.\n"
                "3. Request body: paste the body below and replace each `{{…}}` placeholder with the variable\n"
                "   of that question (the **{}** button); delete the lines of questions your form does not have.\n"
                "4. Header: `Content-Type: application/json`. Save.\n"
                "5. Send an answer to the form: it appears in the bundle's history.\n"
                "Yandex Forms sends from the IPv6 network 2a02:6b8:c00::/40 only: bpmlink accepts this URL only\n"
                "from that network, so the gateway must be reachable over IPv6.",
                "1. В Яндекс Формах откройте форму → **Интеграции** → **Добавить** → **HTTP-запрос**,\n"
                "   тип **Запрос заданным методом**, метод **POST**.\n"
                "2. URL: `{url}`.\n"
                "3. Тело запроса: вставьте тело ниже и замените каждую заготовку `{{…}}` переменной\n"
                "   этого вопроса (кнопка **{}**); строки вопросов, которых в форме нет, удалите.\n"
                "4. Заголовок: `Content-Type: application/json`. Сохраните.\n"
                "5. Отправьте ответ на форму — он появится в истории связки.\n"
                "Яндекс Формы отправляют запросы только из сети IPv6 2a02:6b8:c00::/40: bpmlink принимает этот адрес\n"
                "только из этой сети, поэтому шлюз должен быть доступен по IPv6.",
            ),
        )
    ],
)

TYPEFORM = App(
    key="typeform",
    label=_l("Typeform", "Typeform"),
    category="forms",
    description=_l("Responses to a Typeform form", "Ответы на форму Typeform"),
    keywords=["typeform", "тайпформ", "опрос", "анкета", "форма", "quiz"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="form_response",
            label=_l("New form response", "Новый ответ на форму"),
            kind="webhook",
            webhook=WebhookRules(
                parse=Parse(answers=[Answers(path="form_response.answers", key="field.ref", by_type=True)]),
                verification=Verification(
                    mode="hmac_sha256", header="typeform-signature", encoding="base64", prefix="sha256="
                ),
                idempotency=Idempotency(parts=["form_response.token"]),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="fields.name", label=_l("Answer «name»", "Ответ «name»"), example="Иван Петров"),
                SourceField(
                    path="fields.email", label=_l("Answer «email»", "Ответ «email»"), example="ivan@example.ru"
                ),
                SourceField(path="fields.phone", label=_l("Answer «phone»", "Ответ «phone»"), example="+79123456789"),
                SourceField(
                    path="form_response.hidden.utm_source",
                    label=_l("Hidden field utm_source", "Скрытое поле utm_source"),
                    example="yandex",
                ),
                SourceField(path="form_response.form_id", label=_l("Form id", "ID формы"), example="lT4Z3j"),
                SourceField(
                    path="form_response.token",
                    label=_l("Response id", "ID ответа"),
                    example="a3a12ec67a1365927098a606107fac15",
                ),
                SourceField(
                    path="form_response.submitted_at",
                    label=_l("Submitted at", "Время отправки"),
                    example="2026-11-30T09:10:11Z",
                ),
            ],
            instructions=_l(
                "1. In bpmlink give the bundle a secret (8 characters or more).\n"
                "2. In Typeform open the form → **Connect** → **Webhooks** → **Add a webhook**, paste `{url}`.\n"
                "3. In the webhook's **Edit** paste the same secret into **Secret** and save; switch the webhook\n"
                "   **On** (Typeform creates webhooks switched off).\n"
                "4. While the bundle's sample step shows «Waiting for a test request…», press **Send test request**:\n"
                "   Typeform's test looks like a real response, so it is taken only as the sample, never sent on.\n"
                "Answers arrive under their question's *ref* (`fields.<ref>`): give the questions readable refs\n"
                "(name, email, phone) in Typeform, or map the refs the sample shows.",
                "1. В bpmlink задайте связке секрет (не короче 8 символов).\n"
                "2. В Typeform откройте форму → **Connect** → **Webhooks** → **Add a webhook**, вставьте `{url}`.\n"
                "3. В **Edit** вебхука вставьте тот же секрет в поле **Secret** и сохраните; включите вебхук\n"
                "   (**On**) — Typeform создаёт вебхуки выключенными.\n"
                "4. Пока шаг примера в связке показывает «Ждём тестовый запрос…», нажмите **Send test request**:\n"
                "   тест Typeform похож на настоящий ответ, поэтому он станет только примером и дальше не уйдёт.\n"
                "Ответы приходят под *ref* вопроса (`fields.<ref>`): задайте вопросам понятные ref\n"
                "(name, email, phone) в Typeform или сопоставьте ref, которые показывает пример.",
            ),
        )
    ],
)

JOTFORM = App(
    key="jotform",
    label=_l("Jotform", "Jotform"),
    category="forms",
    description=_l("Submissions of a Jotform form", "Заявки с формы Jotform"),
    keywords=["jotform", "джотформ", "форма", "анкета", "заявка"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="form_submission",
            label=_l("New form submission", "Новая заявка с формы"),
            kind="webhook",
            webhook=WebhookRules(
                parse=Parse(json_fields=["rawRequest"]),
                idempotency=Idempotency(parts=["submissionID"]),
                methods=["POST"],
            ),
            fields=[
                SourceField(path="rawRequest.q3_name.first", label=_l("First name", "Имя"), example="Иван"),
                SourceField(path="rawRequest.q3_name.last", label=_l("Last name", "Фамилия"), example="Петров"),
                SourceField(path="rawRequest.q4_email", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(
                    path="rawRequest.q5_phoneNumber.full", label=_l("Phone", "Телефон"), example="(912) 345-6789"
                ),
                SourceField(
                    path="formTitle", label=_l("Form title", "Название формы"), example="Заявка на консультацию"
                ),
                SourceField(path="formID", label=_l("Form id", "ID формы"), example="243331234567890"),
                SourceField(path="submissionID", label=_l("Submission id", "ID заявки"), example="5912345678901234567"),
            ],
            instructions=_l(
                "1. In Jotform open the form → **Settings** → **Integrations**, search for **WebHooks**.\n"
                "2. Paste the URL `{url}` and press **Complete Integration**.\n"
                "3. Submit the form once: the submission appears in the bundle's history and becomes the sample.\n"
                "Jotform names each answer by its question's number and name (`q3_name`, `q4_email`): check the\n"
                "names in the sample and map those; a name field has `first` and `last`, a phone field `full`.",
                "1. В Jotform откройте форму → **Settings** → **Integrations**, найдите **WebHooks**.\n"
                "2. Вставьте адрес `{url}` и нажмите **Complete Integration**.\n"
                "3. Отправьте форму один раз — заявка появится в истории связки и станет примером.\n"
                "Jotform называет ответы по номеру и имени вопроса (`q3_name`, `q4_email`): проверьте имена в примере\n"
                "и сопоставьте их; у поля имени есть `first` и `last`, у телефона — `full`.",
            ),
        )
    ],
)

# Elementor Pro's Webhook action counts only a 200 as delivered (modules/forms/actions/webhook.php).
ELEMENTOR_ANSWER = Answer(status=200)

ELEMENTOR = App(
    key="elementor",
    label=_l("Elementor Pro forms", "Формы Elementor Pro"),
    category="forms",
    description=_l(
        "Submissions of an Elementor Pro form on a WordPress site", "Заявки с формы Elementor Pro на сайте WordPress"
    ),
    keywords=["elementor", "элементор", "wordpress", "вордпресс", "wp", "форма", "заявка"],
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="form_submission",
            label=_l("New form submission", "Новая заявка с формы"),
            kind="webhook",
            webhook=WebhookRules(answer=ELEMENTOR_ANSWER, methods=["POST"]),
            fields=[
                SourceField(path="fields.name.value", label=_l("Name", "Имя"), example="Иван Петров"),
                SourceField(path="fields.email.value", label=_l("E-mail", "E-mail"), example="ivan@example.ru"),
                SourceField(path="fields.phone.value", label=_l("Phone", "Телефон"), example="+7 912 345-67-89"),
                SourceField(
                    path="fields.message.value", label=_l("Message", "Сообщение"), example="Нужна консультация"
                ),
                SourceField(path="form.name", label=_l("Form name", "Название формы"), example="Обратный звонок"),
                SourceField(
                    path="meta.page_url.value",
                    label=_l("Page URL", "Адрес страницы"),
                    example="https://example.ru/contacts/",
                ),
                SourceField(
                    path="meta.remote_ip.value", label=_l("Visitor IP", "IP посетителя"), example="203.0.113.7"
                ),
            ],
            instructions=_l(
                "1. In the Elementor editor select the form → **Content** → **Actions After Submit**, add "
                "**Webhook**.\n"
                "2. In the **Webhook** section paste the URL `{url}` and switch **Advanced Data** on: the fields then\n"
                "   arrive by their ID (`fields.<ID>.value`, the ID is on each field's **Advanced** tab), not by "
                "label.\n"
                "3. Update the page and submit the form once: the submission becomes the bundle's sample.\n"
                "Elementor sends no test request and no submission id: a resent form is a new submission,\n"
                "so pick the duplicate rule (e.g. by e-mail) in the bundle.",
                "1. В редакторе Elementor выберите форму → **Содержимое** → **Действия после отправки**, добавьте "
                "**Webhook**.\n"
                "2. В разделе **Webhook** вставьте адрес `{url}` и включите **Расширенные данные** (Advanced Data): "
                "тогда\n"
                "   поля приходят по ID (`fields.<ID>.value`, ID — на вкладке **Дополнительно** каждого поля), а не "
                "по подписи.\n"
                "3. Обновите страницу и отправьте форму один раз — заявка станет примером связки.\n"
                "Elementor не отправляет тестового запроса и номера заявки: повторная отправка формы — новая заявка,\n"
                "поэтому задайте в связке правило дублей (например, по e-mail).",
            ),
        )
    ],
)

FORM_APPS = (TILDA, YANDEX_FORMS, TYPEFORM, JOTFORM, ELEMENTOR)
