"""The generic apps: bpm'online itself (the target, and a source by polling), and the universal
sources — a webhook, an HTTP API, an SQL database, a CSV file — for systems without an app of their own."""

from __future__ import annotations

from .model import Action, App, FormField, Trigger
from .model import label as _l

_INTERVAL = FormField(
    name="interval_minutes", label=_l("Check every (minutes)", "Проверять каждые (минут)"), type="integer", default=5
)

BPMONLINE = App(
    key="bpmonline",
    label=_l("bpm'online (Creatio)", "bpm'online (Creatio)"),
    is_target=True,
    is_source=True,
    connection_fields=[
        FormField(
            name="domain",
            label=_l("Domain", "Домен"),
            type="url",
            required=True,
            help=_l("e.g. https://mycompany.creatio.com", "например, https://mycompany.creatio.com"),
        ),
        FormField(
            name="auth",
            label=_l("Authentication", "Авторизация"),
            type="select",
            required=True,
            default="forms",
            options=["forms", "oauth"],
        ),
        FormField(name="username", label=_l("User name", "Имя пользователя"), show_if={"auth": "forms"}),
        FormField(
            name="password", label=_l("Password", "Пароль"), type="password", secret=True, show_if={"auth": "forms"}
        ),
        FormField(name="client_id", label=_l("Client ID", "Client ID"), show_if={"auth": "oauth"}),
        FormField(
            name="client_secret",
            label=_l("Client secret", "Client secret"),
            type="password",
            secret=True,
            show_if={"auth": "oauth"},
        ),
        FormField(
            name="token_url",
            label=_l("Token URL (optional)", "URL токена (необязательно)"),
            type="url",
            show_if={"auth": "oauth"},
        ),
        FormField(
            name="odata_version",
            label=_l("OData version", "Версия OData"),
            type="select",
            default="4",
            options=["4", "3"],
        ),
        FormField(
            name="path_prefix",
            label=_l("Path prefix", "Префикс пути"),
            type="select",
            default="/0",
            options=["/0", ""],
            help=_l(
                "/0 for .NET Framework hosts, empty for .NET Core/.NET 8",
                "/0 для .NET Framework, пусто для .NET Core/.NET 8",
            ),
        ),
        FormField(
            name="max_concurrency",
            label=_l("Parallel requests (per worker)", "Параллельных запросов (на обработчик)"),
            type="integer",
            default=8,
        ),
        FormField(
            name="max_requests_per_second",
            label=_l("Requests per second (0 = no limit)", "Запросов в секунду (0 — без ограничения)"),
            type="integer",
            default=25,
        ),
    ],
    triggers=[
        Trigger(
            key="new_record",
            label=_l("New record", "Новая запись"),
            kind="polling",
            config_fields=[FormField(name="entity", label=_l("Entity", "Объект"), required=True), _INTERVAL],
        ),
        Trigger(
            key="changed_record",
            label=_l("Changed record", "Изменённая запись"),
            kind="polling",
            config_fields=[FormField(name="entity", label=_l("Entity", "Объект"), required=True), _INTERVAL],
        ),
    ],
    actions=[
        Action(key="create_record", label=_l("Create or update a record", "Создать или обновить запись")),
        Action(key="update_record", label=_l("Update an existing record", "Обновить существующую запись")),
    ],
)

WEBHOOK = App(
    key="webhook",
    label=_l("Webhook (incoming request)", "Вебхук (входящий запрос)"),
    is_source=True,
    needs_connection=False,
    triggers=[
        Trigger(
            key="incoming_request",
            label=_l("Incoming request", "Входящий запрос"),
            kind="webhook",
            config_fields=[
                FormField(
                    name="idempotency_field",
                    label=_l(
                        "Field with the request's unique id (optional)",
                        "Поле с уникальным номером заявки (необязательно)",
                    ),
                    help=_l(
                        "when the sender repeats a request, this field tells it is the same one, so no duplicate is "
                        "made (e.g. tranid for Tilda); empty: each request is a new one",
                        "если отправитель повторит запрос, по этому полю видно, что это та же заявка, и дубль не "
                        "создаётся (например, tranid у Tilda); пусто — каждый запрос считается новым",
                    ),
                ),
                FormField(
                    name="verification",
                    label=_l("Verification", "Проверка подписи"),
                    type="select",
                    default="none",
                    # bpmlink.webhooks.VERIFICATION_MODES, spelled here (the catalog imports nothing above it)
                    options=[
                        "none",
                        "header_secret",
                        "hmac_sha256",
                        "timestamped_hmac",
                        "body_secret",
                        "address",
                        "query_token",
                    ],
                    help=_l(
                        "how bpmlink tells a request of your sender from a stranger's",
                        "как bpmlink отличает запросы вашего отправителя от чужих",
                    ),
                ),
                FormField(
                    name="signature_header",
                    label=_l("Header with the secret or the signature", "Заголовок с секретом или подписью"),
                    default="X-Signature",
                    show_if={"verification": ["header_secret", "hmac_sha256", "timestamped_hmac"]},
                    help=_l(
                        "the HTTP header your sender puts it in, e.g. X-Signature",
                        "HTTP-заголовок, в котором отправитель его передаёт, например X-Signature",
                    ),
                ),
                FormField(
                    name="secret_path",
                    label=_l("Body field with the secret", "Поле тела с секретом"),
                    default="secret",
                    show_if={"verification": "body_secret"},
                ),
                FormField(
                    name="query_param",
                    label=_l("Query parameter with the secret", "Параметр адреса с секретом"),
                    default="token",
                    show_if={"verification": "query_token"},
                ),
                FormField(
                    name="networks",
                    label=_l("Allowed networks", "Разрешённые сети"),
                    type="text",
                    show_if={"verification": "address"},
                    help=_l(
                        "one IPv4 or IPv6 network per line, e.g. 203.0.113.0/24 or 2a02:6b8:c00::/40",
                        "по одной сети IPv4 или IPv6 в строке, например 203.0.113.0/24 или 2a02:6b8:c00::/40",
                    ),
                ),
            ],
        )
    ],
)

HTTP_POLLING = App(
    key="http_polling",
    label=_l("HTTP API (polling)", "HTTP API (опрос)"),
    is_source=True,
    connection_fields=[
        FormField(name="base_url", label=_l("Base URL", "Базовый URL"), type="url", required=True),
        # No default: a connection saved before `auth` existed keeps its meaning (see sources.http_polling.apply_auth).
        FormField(
            name="auth",
            label=_l("Authentication", "Авторизация"),
            type="select",
            options=["none", "bearer", "basic", "api_key_header", "api_key_query"],
        ),
        FormField(name="username", label=_l("Username", "Имя пользователя"), show_if={"auth": "basic"}),
        FormField(
            name="password",
            label=_l("Password", "Пароль"),
            type="password",
            secret=True,
            show_if={"auth": "basic"},
        ),
        FormField(name="auth_header", label=_l("Auth header name", "Заголовок авторизации"), default="Authorization"),
        FormField(
            name="auth_value",
            label=_l("Token or API key", "Токен или API-ключ"),
            type="password",
            secret=True,
            help=_l("bearer token, or the API key's value", "токен bearer или значение API-ключа"),
        ),
        FormField(
            name="auth_query_param",
            label=_l("Auth query parameter (optional)", "Параметр URL для ключа (необязательно)"),
            help=_l("e.g. api_key; empty: the header is used", "например, api_key; пусто — заголовок"),
        ),
        FormField(
            name="headers",
            label=_l("Extra headers (optional)", "Дополнительные заголовки (необязательно)"),
            type="json",
            help=_l('e.g. {"X-Tenant": "acme"}; not secret', 'например, {"X-Tenant": "acme"}; не секрет'),
        ),
    ],
    triggers=[
        Trigger(
            key="new_items",
            label=_l("New items", "Новые элементы"),
            kind="polling",
            config_fields=[
                FormField(name="path", label=_l("Path", "Путь"), required=True, default="/items"),
                FormField(
                    name="method",
                    advanced=True,
                    label=_l("Method", "Метод"),
                    type="select",
                    options=["GET", "POST"],
                    default="GET",
                ),
                FormField(
                    name="body",
                    advanced=True,
                    label=_l("Request body (JSON)", "Тело запроса (JSON)"),
                    type="json",
                    show_if={"method": "POST"},
                    help=_l(
                        "sent with POST; the cursor and page parameters are added to it",
                        "отправляется с POST; параметры курсора и страниц добавляются в него",
                    ),
                ),
                FormField(
                    name="items_path",
                    label=_l("Where the list of items is in the answer", "Где в ответе список записей"),
                    default="items",
                    help=_l(
                        "dotted (data.items) or a JMESPath expression (data.items[?active])",
                        "через точку (data.items) или выражение JMESPath (data.items[?active])",
                    ),
                ),
                FormField(
                    name="id_field",
                    label=_l("Field with the item's unique id", "Поле с уникальным номером записи"),
                    default="id",
                ),
                FormField(
                    name="cursor_field",
                    label=_l("Field that tells new items", "Поле, по которому видно новые записи"),
                    default="updated_at",
                    help=_l(
                        "a date of change or a growing number: items past the last one seen are new",
                        "дата изменения или растущий номер: новыми считаются записи после последней увиденной",
                    ),
                ),
                FormField(
                    name="cursor_param",
                    advanced=True,
                    label=_l("Cursor query parameter", "Параметр курсора"),
                    default="since",
                ),
                FormField(
                    name="limit_param",
                    advanced=True,
                    label=_l("Page size parameter", "Параметр размера страницы"),
                    default="limit",
                ),
                FormField(
                    name="next_field", advanced=True,
                    label=_l("Next page link in the answer (optional)", "Ссылка на следующую страницу в ответе"),
                    help=_l("e.g. links.next, for APIs that page by links", "например, links.next"),
                ),
                FormField(
                    name="page_param", advanced=True,
                    label=_l("Page number parameter (optional)", "Параметр номера страницы (необязательно)"),
                    help=_l(
                        "for APIs that page by number, oldest first", "для API с нумерацией страниц, старые первыми"
                    ),
                ),
                FormField(
                    name="offset_param", advanced=True,
                    label=_l("Offset parameter (optional)", "Параметр смещения (необязательно)"),
                    help=_l("for APIs that page by offset, oldest first", "для API со смещением, старые первыми"),
                ),
                FormField(
                    name="version_field", advanced=True,
                    label=_l("Version field (optional)", "Поле версии (необязательно)"),
                    help=_l(
                        "e.g. updated_at: a changed item is taken again, once per version",
                        "например, updated_at: изменённый элемент берётся снова, один раз на версию",
                    ),
                ),
                FormField(
                    name="page_size", advanced=True,
                    label=_l("The API's own page size (optional)", "Размер страницы API (необязательно)"),
                    type="integer",
                    help=_l("for APIs with a fixed page, e.g. 50", "для API с постоянной страницей, например 50"),
                ),
                FormField(
                    name="tie_param", advanced=True,
                    label=_l(
                        "Parameter for items of one cursor value (optional)", "Параметр для записей с одним курсором"
                    ),
                    help=_l(
                        "offset or page parameter used when a whole page has one cursor value (e.g. start)",
                        "параметр смещения или страницы, когда у всей страницы одно значение курсора (например, start)",
                    ),
                ),
                FormField(
                    name="tie_by", advanced=True,
                    label=_l("That parameter counts", "Этот параметр считает"),
                    type="select",
                    options=["offset", "page"],
                    default="offset",
                    help=_l(
                        "offset: items skipped; page: page numbers",
                        "offset — пропущенные записи; page — номер страницы",
                    ),
                ),
                _INTERVAL,
            ],
        )
    ],
)

SQL_POLLING = App(
    key="sql_polling",
    label=_l("SQL database (polling)", "База данных SQL (опрос)"),
    is_source=True,
    connection_fields=[
        FormField(
            name="dsn",
            label=_l("Connection string", "Строка подключения"),
            type="password",
            secret=True,
            required=True,
            help=_l(
                "postgresql://user:password@host/db or mysql://user:password@host/db (MySQL, MariaDB)",
                "postgresql://user:password@host/db или mysql://user:password@host/db (MySQL, MariaDB)",
            ),
        ),
    ],
    triggers=[
        Trigger(
            key="new_rows",
            label=_l("New or changed rows", "Новые или изменённые строки"),
            kind="polling",
            config_fields=[
                FormField(name="table", label=_l("Table", "Таблица"), required=True),
                FormField(name="id_column", label=_l("Id column", "Столбец идентификатора"), default="id"),
                FormField(name="cursor_column", label=_l("Cursor column", "Столбец курсора"), default="updated_at"),
                _INTERVAL,
            ],
        )
    ],
)

CSV_IMPORT = App(
    key="csv_import",
    label=_l("CSV file import", "Импорт CSV-файла"),
    is_source=True,
    needs_connection=False,
    triggers=[Trigger(key="file_upload", label=_l("Uploaded file", "Загруженный файл"), kind="import")],
)

GENERIC_APPS = (BPMONLINE, WEBHOOK, HTTP_POLLING, SQL_POLLING, CSV_IMPORT)
