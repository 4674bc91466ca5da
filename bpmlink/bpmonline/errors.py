"""Errors raised by the bpm'online client.

The hierarchy, drawn once (httpx style)::

    BpmError                       status, message (bpm'online's own words), code, steps
    ├── TransientError             retrying later may succeed; `retry_after` seconds or None
    │   ├── NetworkError           DNS failure, connection refused/reset, protocol errors
    │   │   └── BpmTimeoutError    connect/read/write/pool timeout
    │   ├── ServerError            5xx that is not validation-like (see below), HTML error pages
    │   └── RateLimitedError       429, and 503 with Retry-After
    └── PermanentError             retrying the same request cannot succeed
        ├── ValidationError        400, and the validation-like 500s
        ├── ForbiddenError         403: rights, licence, CSRF after a fresh login
        ├── NotFoundError          404: unknown record or entity set
        ├── AuthError              wrong password, locked user, bad OAuth client
        └── ConfigurationError     wrong domain, blocked address, TLS, OData 3 only, no OData, …

The client only classifies; retries belong to the pipeline (a `TransientError` is retried
with backoff and jitter, honouring `retry_after`; a `PermanentError` fails the operation at
once). The single exception is the session rule: on an expired session the client logs in
once and retries once by itself.

How a 500 is classified (Creatio answers many data errors with 500, §3.11 of the reference):
the *permanent* 500s are those whose bpm'online message carries a database or schema verdict
that will not change on retry — foreign-key violations (``FOREIGN KEY``/``REFERENCE``
constraint, PostgreSQL ``23503``), duplicate primary/unique keys (``PRIMARY KEY``,
``duplicate key``, ``23505``), NOT NULL violations (``23502``, ``Cannot insert the value
NULL``), "Column by path … not found" (a filter on a flat lookup column), and the stream
column in ``$select`` ("Value cannot be null. Parameter name: property"). They become
`ValidationError` with status 500. Every other 500 — the bare "An error has occurred." with
no database detail, HTML error pages, the RAM consumption limit, event-handler crashes — is a
`ServerError` (transient): the same request may pass later.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bpmlink.bpmonline.steps import Step


class BpmError(Exception):
    """Base of every client error.

    `status` is the HTTP status (None when no answer came), `message` is bpm'online's own
    message where it gave one, `code` a stable machine-readable reason, `steps` the requests
    made for the failed call (already redacted).
    """

    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        steps: Sequence[Step] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or self.default_code
        self.steps: list[Step] = list(steps)

    @property
    def transient(self) -> bool:
        return isinstance(self, TransientError)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={self.message!r})"


class TransientError(BpmError):
    default_code = "transient"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        steps: Sequence[Step] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, steps=steps)
        self.retry_after = retry_after


class NetworkError(TransientError):
    default_code = "network"


class BpmTimeoutError(NetworkError):
    default_code = "timeout"


class ServerError(TransientError):
    default_code = "server_error"


class RateLimitedError(TransientError):
    default_code = "rate_limited"


class PermanentError(BpmError):
    default_code = "permanent"


class ValidationError(PermanentError):
    default_code = "validation"


class ForbiddenError(PermanentError):
    default_code = "forbidden"


class NotFoundError(PermanentError):
    default_code = "not_found"


class AuthError(PermanentError):
    default_code = "auth_failed"


class ConfigurationError(PermanentError):
    default_code = "configuration"


# --- reading bpm'online's error bodies -------------------------------------------------

# Texts that mark a 500 as a data/schema verdict (see the module docstring). Lower-case.
_PERMANENT_500_MARKERS = (
    "foreign key",
    "reference constraint",
    "23503",
    "primary key",
    "duplicate key",
    "unique constraint",
    "23505",
    "23502",
    "cannot insert the value null",
    "violates not-null",
    "column by path",
    "value cannot be null. parameter name: property",
    "could not find a property",
)

_DUPLICATE_KEY_MARKERS = ("primary key", "duplicate key", "23505", "already exists")


def is_duplicate_key(exc: BpmError) -> bool:
    """A create refused because a record with that key exists (maybe our own earlier create)."""
    low = exc.message.lower()
    return any(marker in low for marker in _DUPLICATE_KEY_MARKERS)


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_H2 = re.compile(r"<h2[^>]*>(.*?)</h2>", re.IGNORECASE | re.DOTALL)


def _innermost(inner: Any) -> str | None:
    """The deepest `internalexception.message`, else `innererror.message`."""
    best: str | None = None
    depth = 0
    while isinstance(inner, dict) and depth < 10:
        msg = inner.get("message") or inner.get("Message")
        if isinstance(msg, str) and msg.strip():
            best = msg.strip()
        inner = inner.get("internalexception") or inner.get("InternalException")
        depth += 1
    return best


def extract_message(body: Any) -> str | None:
    """bpm'online's own message from a decoded JSON error body, or None.

    Handles the OData error (`error.innererror[.internalexception].message`, else
    `error.message`), OData 3 verbose (`error.message.value`), the WCF fault and the
    ASP.NET routing error (`Message` + `MessageDetail`), AuthService (`Message`), the
    OAuth error (`error` + `error_description`) and a service's `errorInfo.message`.
    """
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        inner = _innermost(err.get("innererror"))
        if inner:
            return inner
        msg = err.get("message")
        if isinstance(msg, dict):  # OData 3 verbose: {"lang": "en-US", "value": "..."}
            msg = msg.get("value")
        if isinstance(msg, str) and msg.strip():
            return msg.strip()
    elif isinstance(err, str) and err:
        desc = body.get("error_description")
        return f"{err}: {desc}" if isinstance(desc, str) and desc else err
    msg = body.get("Message") or body.get("message")
    if isinstance(msg, str) and msg.strip():
        detail = body.get("MessageDetail")
        if isinstance(detail, str) and detail.strip():
            return f"{msg.strip()} {detail.strip()}"
        return msg.strip()
    exc = body.get("Exception")
    if isinstance(exc, dict) and isinstance(exc.get("Message"), str):
        return str(exc["Message"])
    info = body.get("errorInfo")  # a configuration service's BaseResponse (FileApiService, …)
    if isinstance(info, dict) and isinstance(info.get("message"), str) and info["message"].strip():
        return str(info["message"]).strip()
    return None


def summarize_html(text: str, limit: int = 200) -> str:
    """A readable one-liner for an HTML page (its title or first heading, else its text)."""
    for pattern in (_TITLE, _H2):
        m = pattern.search(text)
        if m:
            found = _SPACE.sub(" ", _TAG.sub(" ", m.group(1))).strip()
            if found:
                return f"HTML page: {found[:limit]}"
    plain = _SPACE.sub(" ", _TAG.sub(" ", text)).strip()
    return f"HTML page: {plain[:limit]}" if plain else "HTML page with no text"


def is_permanent_500(message: str | None) -> bool:
    if not message:
        return False
    low = message.lower()
    return any(marker in low for marker in _PERMANENT_500_MARKERS)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for_status(
    status: int,
    message: str,
    *,
    retry_after: float | None = None,
    is_html: bool = False,
    steps: Sequence[Step] = (),
) -> BpmError:
    """Classify an HTTP error answer (status >= 400) into the hierarchy."""
    if status == 400:
        return ValidationError(message, status=status, steps=steps)
    if status == 401:
        return AuthError(message, status=status, code="unauthorized", steps=steps)
    if status == 403:
        return ForbiddenError(message, status=status, steps=steps)
    if status == 404:
        return NotFoundError(message, status=status, steps=steps)
    if status == 408:
        return BpmTimeoutError(message, status=status, steps=steps)
    if status == 429:
        return RateLimitedError(message, status=status, retry_after=retry_after, steps=steps)
    if status == 503:
        return RateLimitedError(message, status=status, code="unavailable", retry_after=retry_after, steps=steps)
    if status >= 500:
        if not is_html and is_permanent_500(message):
            return ValidationError(message, status=status, code="data_error", steps=steps)
        code = "ram_limit" if "ram consumption limit" in message.lower() else None
        return ServerError(message, status=status, code=code, retry_after=retry_after, steps=steps)
    return PermanentError(message, status=status, code=f"http_{status}", steps=steps)
