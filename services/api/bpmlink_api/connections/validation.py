"""Connection params and secrets checked against the app's declared fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bpmlink.catalog import App
from bpmlink.kit.web import InvalidInput


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def normalise(app: App, params: dict[str, Any], secrets: dict[str, str | None]) -> dict[str, Any]:
    """Return clean params, or raise InvalidInput naming every bad field."""
    problems: list[dict[str, str]] = []
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
    for name in secrets:
        if name not in app.secret_fields:
            problems.append(_problem(f"secrets.{name}", "unknown secret for this app"))
    for spec in app.connection_fields:
        if spec.secret or spec.name in clean or spec.default is None:
            continue
        if spec.show_if is None or all(clean.get(k, _default(app, k)) == v for k, v in spec.show_if.items()):
            clean[spec.name] = spec.default
    for spec in app.connection_fields:
        if spec.type == "url" and spec.name in clean:
            url = str(clean[spec.name]).strip()
            if "://" not in url:
                url = "https://" + url
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                problems.append(
                    _problem(f"params.{spec.name}", "must be an http(s) address such as https://x.creatio.com")
                )
            clean[spec.name] = url.rstrip("/")
        if spec.type == "select" and spec.name in clean and spec.options is not None:
            value = str(clean[spec.name])
            if value not in spec.options:
                problems.append(_problem(f"params.{spec.name}", f"must be one of {', '.join(map(repr, spec.options))}"))
        if spec.type == "integer" and spec.name in clean:
            try:
                clean[spec.name] = int(clean[spec.name])
                if clean[spec.name] < 0 or clean[spec.name] > 100_000:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append(_problem(f"params.{spec.name}", "must be a whole number from 0 to 100000"))
        if spec.required and not spec.secret and spec.name not in clean:
            problems.append(_problem(f"params.{spec.name}", "required"))
    if app.key == "bpmonline" and "odata_version" in clean:
        clean["odata_version"] = int(clean["odata_version"]) if str(clean["odata_version"]) in ("3", "4") else 4
    if problems:
        raise InvalidInput(f"{problems[0]['field']}: {problems[0]['message']}", details=problems)
    return clean


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
        raise InvalidInput(f"{problems[0]['field']}: {problems[0]['message']}", details=problems)
