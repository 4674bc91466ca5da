"""Connection params and secrets checked against the app's declared fields."""

from __future__ import annotations

from typing import Any

import httpx

from bpmlink.catalog import App, FormField
from bpmlink.catalog.model import shown_for
from bpmlink.kit.web import InvalidInput, first_problem
from bpmlink.sources import sql_polling
from bpmlink.sources.base import PermanentSourceError


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def normalise(app: App, params: dict[str, Any], secrets: dict[str, str | None]) -> dict[str, Any]:
    """Return clean params, or raise InvalidInput naming every bad field."""
    problems: list[dict[str, str]] = []
    clean = _known_params(app, params, problems)
    problems += [
        _problem(f"secrets.{name}", "unknown secret for this app") for name in secrets if name not in app.secret_fields
    ]
    _fill_defaults(app, clean)
    for spec in app.connection_fields:
        problems += _check_field(spec, clean)
    if app.key == "sql_polling" and isinstance(secrets.get("dsn"), str):
        problems += _check_dsn(str(secrets["dsn"]))
    if app.key == "bpmonline" and "odata_version" in clean:
        clean["odata_version"] = int(clean["odata_version"]) if str(clean["odata_version"]) in ("3", "4") else 4
    if problems:
        raise InvalidInput(first_problem(problems), details=problems)
    return clean


def _known_params(app: App, params: dict[str, Any], problems: list[dict[str, str]]) -> dict[str, Any]:
    """The params the app declares, without empty values; an unknown or secret one is a problem."""
    known = {f.name: f for f in app.connection_fields}
    clean: dict[str, Any] = {}
    for name, value in params.items():
        spec = known.get(name)
        if spec is None:
            problems.append(_problem(f"params.{name}", "unknown field for this app"))
        elif spec.secret:
            problems.append(_problem(f"params.{name}", "a secret: send it in `secrets`"))
        elif value == "" and spec.options is not None and "" in spec.options:
            clean[name] = value  # an empty choice that means something (no /0 path prefix)
        elif value is not None and value != "":
            clean[name] = value
    return clean


def _fill_defaults(app: App, clean: dict[str, Any]) -> None:
    """A missing field takes its default, where it is shown for the params given."""
    for spec in app.connection_fields:
        if spec.secret or spec.name in clean or spec.default is None:
            continue
        if spec.show_if is None or all(shown_for(v, clean.get(k, _default(app, k))) for k, v in spec.show_if.items()):
            clean[spec.name] = spec.default


def _check_field(spec: FormField, clean: dict[str, Any]) -> list[dict[str, str]]:
    """The field's value checked (and normalised in `clean`) for its type; the problems found."""
    problems: list[dict[str, str]] = []
    if spec.name in clean:
        field = f"params.{spec.name}"
        if spec.type == "url":
            clean[spec.name], ok = _clean_url(clean[spec.name])
            if not ok:
                problems.append(_problem(field, "must be an http(s) address such as https://x.creatio.com"))
        if spec.type == "select" and spec.options is not None and str(clean[spec.name]) not in spec.options:
            problems.append(_problem(field, f"must be one of {', '.join(map(repr, spec.options))}"))
        if spec.type == "integer":
            try:
                clean[spec.name] = int(clean[spec.name])
                if clean[spec.name] < 0 or clean[spec.name] > 100_000:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(_problem(field, "must be a whole number from 0 to 100000"))
    elif spec.required and not spec.secret:
        problems.append(_problem(f"params.{spec.name}", "required"))
    return problems


def _clean_url(value: Any) -> tuple[str, bool]:
    """The address with https:// added when no scheme is given and no trailing slash; whether it is an
    http(s) address the client can request (httpx refuses e.g. 0177.0.0.1, an octal-looking address)."""
    url = str(value).strip()
    if "://" not in url:
        url = "https://" + url
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return url.rstrip("/"), False
    return url.rstrip("/"), parsed.scheme in ("http", "https") and bool(parsed.host)


def _check_dsn(dsn: str) -> list[dict[str, str]]:
    try:
        sql_polling.parse_dsn(dsn)
    except PermanentSourceError as exc:
        return [{"field": "secrets.dsn", "message": exc.message, "code": exc.code}]
    return []


def _default(app: App, name: str) -> Any:
    spec = next((f for f in app.connection_fields if f.name == name), None)
    return spec.default if spec else None


def check_complete(app: App, params: dict[str, Any], secrets: dict[str, Any]) -> None:
    """The fields a working connection needs, by auth kind (checked after merging an update)."""
    problems: list[dict[str, str]] = []
    if app.key == "bpmonline":
        if params.get("auth", "forms") == "forms":
            if not params.get("username"):
                problems.append(_problem("params.username", "required for forms authentication"))
            if not secrets.get("password"):
                problems.append(_problem("secrets.password", "required for forms authentication"))
        else:
            if not params.get("client_id"):
                problems.append(_problem("params.client_id", "required for OAuth"))
            if not secrets.get("client_secret"):
                problems.append(_problem("secrets.client_secret", "required for OAuth"))
    else:
        for spec in app.connection_fields:
            if spec.secret and spec.required and not secrets.get(spec.name):
                problems.append(_problem(f"secrets.{spec.name}", "required"))
    if problems:
        raise InvalidInput(first_problem(problems), details=problems)
