"""What the catalog declares: apps, their connection fields, triggers and actions, and for a
source app the rules the gateway and the worker follow (DESIGN.md "Round 2": a new app is one
declarative entry, no branch on its key anywhere else).

Paths into an item are dotted (`data.FIELDS.ID`, `leads.add.0`); `header:<name>` reads a request
header (lower-case name) where a rule says so. A webhook trigger's request is handled in this
order: recognised as a handshake or a test (`tests`), verified (`verification`), parsed
(`parse`), split into items (`split`), given an idempotency key per item (`idempotency`), stored
(one event and one operation per item, committed), then answered (`answer`). A thin item is read
back from the source (`readback`) by the worker before it is mapped.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FieldType = Literal["string", "url", "password", "integer", "select", "boolean", "text", "json"]
Category = Literal["forms", "crm", "shops", "files", "generic"]  # crm: «CRM и чаты»


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(BaseModel):
    en: str
    ru: str


class FormField(BaseModel):
    name: str
    label: Label
    type: FieldType = "string"
    required: bool = False
    secret: bool = False  # stored encrypted, write-only
    default: str | int | bool | None = None
    options: list[str] | None = None
    help: Label | None = None
    # Shown only when another field has this value (or one of these values).
    show_if: dict[str, str | list[str]] | None = None
    advanced: bool = False  # the SPA keeps it under «Дополнительно» (paging, cursors): the simple mode leaves it out


def shown_for(expected: str | list[str], value: Any) -> bool:
    """Whether a `show_if` condition holds for the other field's value."""
    return value in expected if isinstance(expected, list) else value == expected


class SourceField(BaseModel):
    """A field the app sends, as the mapping step shows it before any request has arrived."""

    path: str  # dotted, into the item as the mapping reads it (after parse, split and read-back)
    label: Label
    example: str | int | float | bool | None = None


# --- the webhook rules ------------------------------------------------------------------------


class Match(Rule):
    """A condition on a request; every given part must hold.

    `field` is a dotted path into the parsed item (query fields merged) or `header:<name>`;
    `equals` compares its text (absent: the field is present and not empty). `only_fields`:
    the item's top-level keys are exactly these (WooCommerce's ping is the form `webhook_id=…`).
    """

    method: str | None = None
    field: str | None = None
    equals: str | None = None
    only_fields: list[str] | None = None


class Answer(Rule):
    """What the sender gets back once the request's events are committed (or it was a handshake).

    body: `event_id` is `{"event_id": "…"}` (the first item's; `{"event_ids": […]}` beside it when
    there are several), `text` is `text` as given, `config` is the trigger config field `field`
    (VK's confirmation string), `query` echoes the query parameter `field` (`hub.challenge`),
    `empty` is no body.
    """

    status: int = 202
    content_type: str = "application/json"
    body: Literal["event_id", "text", "config", "query", "empty"] = "event_id"
    text: str | None = None
    field: str | None = None


DEFAULT_ANSWER = Answer()


class TestRequest(Rule):
    """A request that only checks the URL (Tilda's `test=test`, VK's `confirmation`, WooCommerce's
    ping, Facebook's `hub.challenge`): answered as `answer` says (else the trigger's answer), kept
    as the bundle's sample and in history with status `test`, never pushed to bpm'online.

    `verified`: the trigger's verification applies to it (False when the sender does not sign its
    test). `token`: a query or body path whose value must equal the trigger config field
    `token_field` (Facebook's `hub.verify_token`), checked in constant time.
    """

    when: Match
    answer: Answer | None = None
    verified: bool = True
    token: str | None = None
    token_field: str | None = None


class Verification(Rule):
    """How a request is proven to come from the sender; the secret is the bundle's webhook secret.

    - `header_secret`: header `header` equals the secret.
    - `hmac_sha256`: header `header` holds HMAC-SHA256(secret, raw body) in `encoding`, after
      `prefix` (`sha256=`); `auto` takes hex or base64.
    - `timestamped_hmac`: header `header` is `t=<unix>,v1=<hex>` of HMAC-SHA256(secret, "<t>.<body>"),
      `t` within `tolerance_seconds` of now (Calendly, Stripe).
    - `body_secret`: the item's `path` equals the secret (VK `secret`, Bitrix24 `auth.application_token`).
    - `address`: the client address is in `networks` (IPv4 and IPv6 CIDRs) or in the trigger config
      field `networks_field` (one CIDR per line), no secret needed.
    - `query_token`: the query parameter `query_param` equals the secret.
    A missing or wrong value is 401 and nothing is stored; every comparison is constant-time.
    """

    mode: Literal["none", "header_secret", "hmac_sha256", "timestamped_hmac", "body_secret", "address", "query_token"]
    header: str | None = None
    header_field: str | None = None  # the trigger config field naming the header instead (Tilda: the user names it)
    encoding: Literal["hex", "base64", "auto"] = "auto"
    prefix: str = ""
    tolerance_seconds: int = 300
    path: str | None = None
    query_param: str | None = None
    networks: list[str] = Field(default_factory=list)
    networks_field: str | None = None
    optional: bool = False  # True: applies only when the user set a secret (Tilda's API-key header)


class Answers(Rule):
    """An array of question/answer pairs turned into fields: `into.<key>` = the element's value.

    value: a path in the element (`answer`); `by_type`: the element's `type` names the key that
    holds the value (Typeform: `{"type": "email", "email": "…"}`; a dict value such as a choice
    takes its `label`); a list value is joined with ", " (Facebook's `values`).
    """

    path: str  # the array, e.g. `object.answers`, `form_response.answers`, `field_data`
    key: str  # in the element: `key`, `field.ref`, `name`
    value: str | None = None
    by_type: bool = False
    into: str = "fields"


class Parse(Rule):
    """Shaping a parsed body (bracketed form keys are always nested by the gateway's parser)."""

    json_fields: list[str] = Field(default_factory=list)  # string fields holding JSON (Jotform `rawRequest`)
    answers: list[Answers] = Field(default_factory=list)


class Split(Rule):
    """One request → one item per element at `path`.

    Segments: a name, `*` (any key or index), `{name}` (any key, captured) or `{name:a|b}` (one of
    these keys, captured). Each item is the element (a dict; scalars are skipped) with the captures
    under `_split` (`{"entity": "leads", "action": "add"}`) and each `keep` path of the envelope
    copied in under its own name (`account`, `object`). No element: 400, nothing stored — except a
    test request, which is never split.
    """

    path: str
    keep: list[str] = Field(default_factory=list)


class Idempotency(Rule):
    """The sender's own id for an item, so a resend returns the first event and stores nothing.

    `parts`: paths into the item or `header:<name>`, joined with ":"; a part starting with `?` may be
    missing (left out), any other missing part means no key (the user's idempotency field, or the
    Idempotency-Key header, still apply). When every part is a header and the request has several
    items, `#<index>` is appended.
    """

    parts: list[str]


class WebhookRules(Rule):
    parse: Parse = Field(default_factory=Parse)
    split: Split | None = None
    verification: Verification = Field(default_factory=lambda: Verification(mode="none"))
    tests: list[TestRequest] = Field(default_factory=list)
    idempotency: Idempotency | None = None
    answer: Answer = DEFAULT_ANSWER
    methods: list[str] = Field(default_factory=lambda: ["POST", "PUT"])


# --- read-back and polling --------------------------------------------------------------------


class ReadBackRequest(Rule):
    """One call to the source: `path` is a template over the item (`crm.lead.get?id={data.FIELDS.ID}`),
    appended to the source connection's base URL; the first request whose `when` holds is made."""

    when: Match | None = None
    method: Literal["GET", "POST"] = "GET"
    path: str


class ReadBack(Rule):
    """A thin item completed by the worker with one call through the bundle's source connection
    (an app of this catalog with `http`): the answer (at `answer_path`) goes into the item under
    `into`, and the call is in the operation's history as a source request. 404 fails the operation
    with the source's message; transient errors are retried like bpm'online's.
    `require`: paths of the answer that must equal the given text (YooKassa: the payment's status
    read back must be the one notified: `{"status": "{object.status}"}`), else the operation fails."""

    requests: list[ReadBackRequest]
    answer_path: str | None = None
    into: str = "record"
    answers: list[Answers] = Field(default_factory=list)
    require: dict[str, str] = Field(default_factory=dict)


class HttpAccess(Rule):
    """How a source connection of this app is called, in terms of the http_polling connection's
    fields: each value is a template over the connection's own fields (`https://{subdomain}.amocrm.ru`).
    Keys as `sources.http_polling`: base_url, auth, username, password, auth_header, auth_value,
    auth_query_param. A template naming a missing field renders empty. `test_path`: a cheap call
    (appended to the base URL) the connection test makes, whose answer must be a success."""

    fields: dict[str, str]
    test_path: str | None = None


class PollingPreset(Rule):
    """A polling trigger over `http_polling`: its trigger config, fixed by the app (templates over
    the trigger's own config fields allowed)."""

    config: dict[str, str | int]


# --- apps -------------------------------------------------------------------------------------


class Trigger(BaseModel):
    key: str
    label: Label
    kind: Literal["webhook", "polling", "import"]
    config_fields: list[FormField] = Field(default_factory=list)
    description: Label | None = None
    webhook: WebhookRules | None = None  # kind webhook: the gateway's rules (None: the generic webhook's)
    readback: ReadBack | None = None
    polling: PollingPreset | None = None  # kind polling of a source app: the http_polling config it runs
    fields: list[SourceField] = Field(default_factory=list)
    needs_connection: bool | None = None  # None: the app's `needs_connection`
    instructions: Label | None = None  # Markdown; `{url}` is the bundle's webhook URL
    body_template: str | None = None  # a ready request body for the user to paste (Yandex Forms)
    # What the api does on the sender's side when the bundle starts (Telegram: register the URL with setWebhook).
    on_start: Literal["telegram_set_webhook"] | None = None


class Action(BaseModel):
    key: str
    label: Label


class App(BaseModel):
    key: str
    label: Label
    category: Category = "generic"
    description: Label | None = None
    keywords: list[str] = Field(default_factory=list)  # what search also finds it by (ru and en)
    is_target: bool = False
    is_source: bool = False
    needs_connection: bool = True  # a connection is required by every trigger
    connection_fields: list[FormField] = Field(default_factory=list)
    http: HttpAccess | None = None  # a source connection that read-back and polling call
    triggers: list[Trigger] = Field(default_factory=list)
    actions: list[Action] = Field(default_factory=list)

    def trigger(self, key: str) -> Trigger | None:
        return next((t for t in self.triggers if t.key == key), None)

    def action(self, key: str) -> Action | None:
        return next((a for a in self.actions if a.key == key), None)

    @property
    def secret_fields(self) -> set[str]:
        return {f.name for f in self.connection_fields if f.secret}


def label(en: str, ru: str) -> Label:
    return Label(en=en, ru=ru)
