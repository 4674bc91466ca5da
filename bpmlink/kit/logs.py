"""Log configuration for every service: plain text (default) or one JSON object a line.

`BPMLINK_LOG_FORMAT=json` switches every logger (uvicorn's included, through `uvicorn_log_config`)
to JSON with the request id, workspace, bundle, operation, event and job ids when known (a
context filter puts them on every record; the text format appends them as `[key=value …]`). Whatever the format, a
redacting filter scrubs secrets before a record is written: the configured secret values
(secret key, passwords in the database/Redis URLs, the admin password), every tenant secret this
process has decrypted (`remember_secrets`, called by `SecretBox.decrypt`), webhook tokens in
`/hooks/<token>` paths, every query-string value (an API key sent as `?apikey=`, `?key=` or
`?access_token=` is a credential whatever its name), `Authorization`/`Bearer` values, and
`password=`/`secret=`-style pairs. httpx and httpcore log at WARNING only: their INFO line is one per
outgoing request, with its full URL.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bpmlink.kit.settings import Settings

# Set per request (api, gateway) or per job (worker); read by the JSON formatter.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("bpmlink_request_id", default=None)
log_context_var: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "bpmlink_log_context", default=None
)

# The ids a log line carries when known, in this order (text format) and under these keys (JSON).
CONTEXT_FIELDS = ("request_id", "workspace_id", "bundle_id", "operation_id", "event_id", "job_id", "service")


def bind_log_context(**ids: object) -> None:
    """Add ids (None skipped) to the log context of the current request or job."""
    context = dict(log_context_var.get() or {})
    context.update({key: str(value) for key, value in ids.items() if value is not None})
    log_context_var.set(context)


REDACTED = "***"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Webhook tokens are credentials: the access log would otherwise print them in the path.
    (re.compile(r"(/hooks/)[^/\s?\"']+"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"(?i)(authorization|cookie|x-api-key)(['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"), r"\1\2" + REDACTED),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|client_secret|api_key|token|secret_key)(['\"]?\s*[:=]\s*['\"]?)"
            r"[^'\"\s,&}]+"
        ),
        r"\1\2" + REDACTED,
    ),
    # user:password@ in any URL
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
    # Every query-string value, whatever its name: a key passed by mistake as `?key=` is still a key.
    (re.compile(r"([?&][^=&?#\s\"'<>]+=)[^&#\s\"'<>]+"), r"\1" + REDACTED),
]

# Tenant secrets (connection passwords, API keys, webhook secrets) this process has decrypted, most recent
# last. Bounded: a worker serving many tenants keeps the ones it used lately, which are the ones it may log.
_MAX_REMEMBERED = 4096
_MIN_SECRET_LENGTH = 6  # shorter values ("yes", "1234") would blank ordinary words out of every line
_remembered: OrderedDict[str, None] = OrderedDict()
_remembered_lock = threading.Lock()


def remember_secrets(values: Iterable[object]) -> None:
    """Redact these values (the strings among them, nested in dicts and lists too) from every log line."""
    found: list[str] = []
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
            found.append(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    if not found:
        return
    with _remembered_lock:
        for value in found:
            _remembered[value] = None
            _remembered.move_to_end(value)
        while len(_remembered) > _MAX_REMEMBERED:
            _remembered.popitem(last=False)


def forget_secrets() -> None:
    """Empty the remembered tenant secrets (a test starts from none)."""
    with _remembered_lock:
        _remembered.clear()


def remembered_secrets() -> list[str]:
    """The remembered tenant secrets, longest first (so a prefix never leaves a tail)."""
    with _remembered_lock:
        return sorted(_remembered, key=len, reverse=True)


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def known_secrets(settings: Settings) -> list[str]:
    """Literal secret values from the settings, longest first (so a prefix never leaves a tail)."""
    values = [settings.secret_key, settings.admin_password, str(getattr(settings, "smtp_password", "") or "")]
    values += settings.secret_key_previous  # old keys are still keys
    values += [_url_password(settings.database_url) or "", _url_password(settings.redis_url) or ""]
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` without the given secret values, the tenant secrets this process holds, and the patterns above."""
    for value in (*secrets, *remembered_secrets()):
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders the message once, scrubbed, so no handler can print the raw arguments."""

    def __init__(self, secrets: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        return True


class ContextFilter(logging.Filter):
    """Puts the request/job context (request id, workspace, bundle, operation, event, job ids) on each record;
    values given at the call site (`extra={...}`) win."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = dict(log_context_var.get() or {})
        request_id = request_id_var.get()
        if request_id:
            context.setdefault("request_id", request_id)
        for name, value in context.items():
            if name in CONTEXT_FIELDS and getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


def _record_context(record: logging.LogRecord) -> dict[str, str]:
    return {name: str(value) for name in CONTEXT_FIELDS if (value := getattr(record, name, None)) is not None}


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, then the record's context ids as ` [bundle_id=… operation_id=…]`."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = _record_context(record)
        if not context:
            return line
        first, newline, rest = line.partition("\n")  # after the message, before a traceback
        ids = " ".join(f"{name}={value}" for name, value in context.items())
        return f"{first} [{ids}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, message, request/job context, exception."""

    _CONTEXT_FIELDS = CONTEXT_FIELDS

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update(log_context_var.get() or {})
        for name in self._CONTEXT_FIELDS:  # `extra={...}` given at the call site
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = str(value)
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class QuietPathsFilter(logging.Filter):
    """uvicorn's access lines of answered requests to `paths` count as DEBUG: a webhook gateway's
    line per accepted request cost more CPU than storing the request (refusals and errors stay)."""

    def __init__(self, paths: tuple[str, ...] = (), level: str = "INFO") -> None:
        super().__init__()
        self.paths = tuple(paths)
        self.debug = logging.getLevelName(level) == logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        if self.debug or not self.paths or not isinstance(record.args, tuple) or len(record.args) < 5:
            return True
        path, status = record.args[2], record.args[4]
        quiet = isinstance(path, str) and path.startswith(self.paths) and isinstance(status, int) and status < 400
        return not quiet


class JobLinesFilter(logging.Filter):
    """arq's two lines per job (started, done) count as DEBUG: one job is one event, and the worker's own
    line per operation says what became of it (a fifth of a worker's CPU per event at INFO). Retries and
    aborts stay."""

    PER_JOB = ("%6.2fs → %s(%s)%s", "%6.2fs ← %s ● %s")

    def __init__(self, level: str = "INFO") -> None:
        super().__init__()
        self.debug = logging.getLevelName(level) == logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        return self.debug or record.msg not in self.PER_JOB


def logging_config(settings: Settings, quiet_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dictConfig for the root logger and uvicorn's loggers, in the configured format; the access
    lines of answered requests to `quiet_paths` only at DEBUG."""
    json_format = settings.log_format == "json"
    formatter: dict[str, Any] = {"()": JsonFormatter} if json_format else {"()": TextFormatter, "fmt": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactingFilter, "secrets": known_secrets(settings)},
            "quiet": {"()": QuietPathsFilter, "paths": quiet_paths, "level": settings.log_level},
            "jobs": {"()": JobLinesFilter, "level": settings.log_level},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context", "redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["default"], "level": settings.log_level},
        "loggers": {
            # uvicorn's own handlers are replaced by the root one, so its lines get the same format.
            "uvicorn": {"handlers": [], "propagate": True, "level": settings.log_level},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "filters": ["quiet"]},
            # One INFO line per outgoing request with its full URL (query keys included): warnings only.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
            "arq.worker": {"filters": ["jobs"]},
        },
    }


def configure_logging(settings: Settings) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(settings))


def uvicorn_log_config(settings: Settings, quiet_paths: tuple[str, ...] = ()) -> dict[str, Any]:
    """Pass as `uvicorn.run(log_config=…)`: uvicorn applies it at start, so it wins over its defaults."""
    return logging_config(settings, quiet_paths)


__all__ = [
    "CONTEXT_FIELDS",
    "ContextFilter",
    "JobLinesFilter",
    "JsonFormatter",
    "TextFormatter",
    "bind_log_context",
    "RedactingFilter",
    "configure_logging",
    "known_secrets",
    "log_context_var",
    "logging_config",
    "redact",
    "forget_secrets",
    "remember_secrets",
    "remembered_secrets",
    "request_id_var",
    "uvicorn_log_config",
]
