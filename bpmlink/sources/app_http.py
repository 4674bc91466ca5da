"""Source apps of the catalog reached over HTTP (an app with `http`): their connection rendered as an
`http_polling` one, their polling triggers run as `http_polling` with the app's preset, and the
one-call connection test.

    conn = http_connection(app, stored)     # base_url, auth, … from the app's HttpAccess templates
    source = AppPollingSource(app)          # registered in SOURCES under the app's key

The rendered connection keeps the stored secrets beside the rendered ones, so every secret value
(a token inside the Bitrix24 webhook URL) is redacted from the steps like the auth header is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.catalog.model import App
from bpmlink.sources.base import Cursor, FetchEnv, Page, PermanentSourceError, SourceConnection
from bpmlink.sources.http_polling import HttpPollingSource, apply_auth, dotted, extra_headers
from bpmlink.sources.http_request import Redaction, request_json, secret_values

# Where the common APIs put their error text: Graph, Bitrix24, YooKassa, amoCRM (problem+json), others.
_MESSAGE_PATHS = ("error.message", "error_description", "description", "detail", "title", "message", "error")
_PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")
_ID = re.compile(r"[A-Za-z0-9_.~-]{1,200}")  # what a value may be inside a URL: ids are plain tokens
_SECRET_ACCESS = ("password", "auth_value")  # HttpAccess keys that are secrets of an http_polling connection


class MissingValue(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def render(template: str, values: Mapping[str, Any], *, url_part: bool = False, strict: bool = False) -> str:
    """`{name}` / `{a.b}` replaced by the dotted value. `url_part`: each value must be a plain token
    (letters, digits, `_.~-`; not `.` or `..`), so a sender's value cannot step out of the segment
    the app wrote (no `/`, `?`, `#`, `%`); `strict`: a missing, empty or refused value raises
    MissingValue (else it renders empty)."""

    def value(match: re.Match[str]) -> str:
        found = dotted(values, match.group(1))
        if found is None or found == "" or isinstance(found, Mapping | list):
            if strict:
                raise MissingValue(match.group(1))
            return ""
        text = str(found).lower() if isinstance(found, bool) else str(found)
        if url_part and (text in (".", "..") or not _ID.fullmatch(text)):
            raise MissingValue(match.group(1))  # it would step out of the segment the app wrote
        return text

    return _PLACEHOLDER.sub(value, template)


def http_connection(app: App, conn: SourceConnection) -> SourceConnection:
    """The app's stored connection as the http_polling connection its HttpAccess describes."""
    if app.http is None:
        raise PermanentSourceError(f"{app.key} is not reached over HTTP", code="not_http")
    values = {**conn.params, **conn.secrets}
    params = {key: render(template, values) for key, template in app.http.fields.items()}
    secrets = {**conn.secrets, **{key: params.pop(key) for key in _SECRET_ACCESS if key in params}}
    if not params.get("base_url"):
        raise PermanentSourceError(f"the {app.key} connection has no address", code="bad_config")
    return SourceConnection(id=conn.id, app=conn.app, params=params, secrets=secrets)


def source_message(body: str | None) -> str:
    """The source's own error text from its answer (JSON at a usual place, else the text itself)."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300]
    for path in _MESSAGE_PATHS:
        found = dotted(data, path)
        if isinstance(found, str | int) and str(found).strip():
            return str(found)[:300]
    return body[:300]


def _code(status: int) -> str:
    if status in (401, 403):
        return "source_refused"
    if status in (404, 410):
        return "source_not_found"
    return "source_rejected"


def _refusal(app: App, method: str, path: str, exc: PermanentSourceError) -> PermanentSourceError:
    """An HTTP 4xx named by a stable code, with the source's own message and the path without its query."""
    step = exc.steps[-1] if exc.steps else None
    if step is None or step.status is None or step.status < 400:
        return exc  # refused before an answer (blocked address, bad config, not JSON): its own code
    said = source_message(step.response_body)
    message = f"{app.label.en} answered HTTP {step.status} to {method} {path.split('?', 1)[0]}"
    message += f": {said}" if said else ""
    request = f"{method} {path.split('?', 1)[0]}"
    params = {"app": app.label.en, "status": step.status, "request": request, "said": said}
    return PermanentSourceError(message, code=_code(step.status), steps=exc.steps, params=params)


async def call(
    app: App,
    conn: SourceConnection,
    method: str,
    path: str,
    client: httpx.AsyncClient,
    recorder: StepRecorder,
) -> Any:
    """One call of `path` (with its query) on the app's API through its connection; the JSON answer
    (None: 204). A 4xx is a PermanentSourceError coded source_refused (401, 403), source_not_found
    (404, 410) or source_rejected, with the source's own message; transient failures as `request_json`."""
    access = http_connection(app, conn)
    base_url = str(access.params["base_url"]).rstrip("/")
    headers = {"Accept": "application/json", "User-Agent": "bpmlink", **extra_headers(access.params, {})}
    auth_params, secret_headers = apply_auth(access, headers)
    redaction = Redaction(
        frozenset(k.lower() for k in auth_params), frozenset(secret_headers), frozenset(secret_values(access))
    )
    url = f"{base_url}/{path.lstrip('/')}"
    try:
        return await request_json(client, method, url, auth_params, None, headers, recorder, redaction)
    except PermanentSourceError as exc:
        raise _refusal(app, method, path, exc) from exc


class AppPollingSource(HttpPollingSource):
    """A polling trigger of a catalog app: http_polling over the app's connection, with the trigger's
    preset config (templates over the trigger's own config fields, their defaults where not set)."""

    def __init__(self, app: App) -> None:
        self.app = app.key
        self.catalog_app = app

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
        http: httpx.AsyncClient | None = None,
    ) -> Page:
        trigger = self.catalog_app.trigger(str(config.get("trigger") or ""))
        if trigger is None or trigger.polling is None:
            name = config.get("trigger")
            raise PermanentSourceError(f"{self.app} has no polling trigger {name!r}", code="bad_config")
        values = {**{f.name: f.default for f in trigger.config_fields if f.default is not None}, **config}
        preset = {
            key: render(value, values) if isinstance(value, str) else value
            for key, value in trigger.polling.config.items()
        }
        access = http_connection(self.catalog_app, conn)
        try:
            return await super().fetch(access, preset, cursor, limit, recorder, env, http=http)
        except PermanentSourceError as exc:
            raise _refusal(
                self.catalog_app, str(preset.get("method") or "GET"), str(preset.get("path") or ""), exc
            ) from exc


def app_sources(apps: Iterable[App]) -> list[AppPollingSource]:
    """A polling source for each catalog app with HTTP access and a polling trigger."""
    return [AppPollingSource(app) for app in apps if app.http is not None and any(t.polling for t in app.triggers)]
