"""What every bpmlink HTTP service shares: the error shape, health routes, a body size limit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bpmlink.kit.messages import DEFAULT_LANGUAGE, catalog, flat, pick_language
from bpmlink.kit.messages import Message as Words


class AppError(Exception):
    """Base of every business failure: a status, a stable code (the kind of failure, which clients
    branch on), and the message for people — a `Words` with its own code and params, rendered in the
    reader's language (a plain string is its English text, under the class's code)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str | Words, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        self.words = message if isinstance(message, Words) else Words(code=self.code, text=message)
        super().__init__(self.words.text)
        self.message = self.words.text
        self.details = details
        self.headers = headers


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidInput(AppError):
    """A semantic validation failure; details is a list of {field, message}."""

    status_code = 422
    code = "validation_error"


class TooManyRequests(AppError):
    status_code = 429
    code = "rate_limited"


class Unavailable(AppError):
    status_code = 503
    code = "unavailable"


def error_body(
    code: str, message: str | Words, details: Any = None, language: str = DEFAULT_LANGUAGE
) -> dict[str, Any]:
    """`{"error": {code, message, message_code, params, text, remote, details}}`: `message` in `language`,
    `text` the English words, `message_code` + `params` to render it elsewhere; each field problem
    of `details` that has a code gets its `message` rendered too."""
    words = message if isinstance(message, Words) else Words(code=code, text=message)
    return {"error": {"code": code, **flat(words, language), "details": _rendered(details, language)}}


def _rendered(details: Any, language: str) -> Any:
    if not isinstance(details, list):
        return details
    out: list[Any] = []
    for d in details:
        if isinstance(d, dict) and isinstance(d.get("code"), str) and isinstance(d.get("message"), str):
            d = {
                **d,
                "message": Words(code=d["code"], params=d.get("params") or {}, text=d["message"]).render(language),
            }
        out.append(d)
    return out


def request_language(request: Request) -> str:
    """The reader's language: the signed-in user's profile (set on `request.state.language` by the
    api's auth), else Accept-Language. An API-key client that sends Accept-Language gets it: it asks
    explicitly, where a browser sends its own every time."""
    return pick_language(request.headers.get("accept-language"), getattr(request.state, "language", None))


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[-1] if loc else "")


def _detail(error: Mapping[str, Any]) -> dict[str, Any]:
    """One validation problem with a stable `code` and `params`: pydantic's type (`missing`,
    `string_too_short` with `min_length`, …) as `field_<type>` (catalog `api.json`), a
    PydanticCustomError's own type (dedup_group_empty) as it is. A
    ValueError raised by a validator has no code of ours: `field_invalid` with its words."""
    field = _field_path(tuple(error["loc"]))
    detail: dict[str, Any] = {"field": field, "message": error["msg"]}
    ctx = error.get("ctx")
    plain = (
        dict(ctx) if isinstance(ctx, Mapping) and all(isinstance(v, str | int | float) for v in ctx.values()) else {}
    )
    kind = str(error["type"])
    if kind == "value_error":
        detail["code"], detail["params"] = "field_invalid", {"reason": str(error["msg"]).removeprefix("Value error, ")}
    elif kind in PYDANTIC_CODES:
        detail["code"], detail["params"] = f"field_{kind}", plain
    elif plain or kind in catalog(DEFAULT_LANGUAGE):  # a PydanticCustomError of ours
        detail["code"], detail["params"] = kind, plain
    else:
        detail["code"], detail["params"] = "field_invalid_value", {}
    return detail


# pydantic's error types that have words in the catalog (as `field_<type>`); any other type of
# pydantic's reads as `field_invalid_value`.
PYDANTIC_CODES = frozenset(
    """missing extra_forbidden string_type string_too_short string_too_long string_pattern_mismatch
    int_type int_parsing float_type float_parsing bool_type bool_parsing greater_than greater_than_equal
    less_than less_than_equal too_short too_long enum literal_error uuid_type uuid_parsing url_parsing
    url_scheme url_type datetime_parsing datetime_type date_parsing dict_type list_type model_type
    model_attributes_type json_invalid union_tag_invalid union_tag_not_found""".split()
)


def first_problem(problems: Sequence[Mapping[str, Any]]) -> Words:
    """The message of a 422 with field problems: the first one's, «field: words» (`field_problem`)."""
    if not problems:
        return Words(code="invalid_request", text="invalid request")
    first = problems[0]
    inner = Words(
        code=first.get("code") or "field_invalid_value", params=first.get("params") or {}, text=first["message"]
    )
    if not first["field"]:
        return inner
    return Words(
        code="field_problem",
        params={"field": first["field"], "problem": inner.model_dump(exclude_none=True)},
        text=f"{first['field']}: {first['message']}",
    )


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        body = error_body(exc.code, exc.words, exc.details, request_language(request))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [_detail(e) for e in exc.errors()]
        return JSONResponse(
            error_body("validation_error", first_problem(details), details, request_language(request)),
            status_code=422,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        words = Words(code=f"http_{code}", text=str(exc.detail))
        return JSONResponse(
            error_body(code, words, None, request_language(request)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        words = Words(code="internal_error", text="Internal server error")
        return JSONResponse(error_body("internal_error", words, None, request_language(request)), status_code=500)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


ReadinessCheck = Callable[[], Awaitable[None]]


def health_router(checks: dict[str, ReadinessCheck], degraded_ok: dict[str, ReadinessCheck] | None = None) -> APIRouter:
    """/healthz: the process answers. /readyz: every dependency in `checks` answers (503 naming
    the failures); a failure of one in `degraded_ok` is reported but the service stays ready."""
    router = APIRouter(include_in_schema=False)
    optional = degraded_ok or {}

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    async def _failures(which: dict[str, ReadinessCheck]) -> dict[str, str]:
        failed: dict[str, str] = {}
        for name, check in which.items():
            try:
                await check()
            except Exception as exc:
                failed[name] = type(exc).__name__
        return failed

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        failed = await _failures(checks)
        if failed:
            return JSONResponse(error_body("not_ready", "dependencies unreachable", failed), status_code=503)
        degraded = await _failures(optional)
        body: dict[str, Any] = {"status": "degraded" if degraded else "ready", "checks": [*checks, *optional]}
        if degraded:
            body["degraded"] = degraded
        return JSONResponse(body)

    return router


class BodySizeLimit:
    """Refuse bodies over the limit with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: tuple[re.Pattern[str], int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (POST path pattern, limit): a route that takes files (the CSV/XLSX import) gets a larger limit.
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.max_bytes
        if self.larger and scope.get("method") == "POST" and self.larger[0].fullmatch(scope.get("path", "")):
            max_bytes = self.larger[1]
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > max_bytes:
                await self._reject(send, max_bytes)
                return
        received = 0
        responded = False

        async def limited_receive() -> Message:
            nonlocal received, responded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes and not responded:
                    responded = True
                    await self._reject(send, max_bytes)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not responded:  # the 413 is already out; drop what the app answers after it
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not responded:
                raise

    async def _reject(self, send: Send, max_bytes: int) -> None:
        response = JSONResponse(
            error_body(
                "payload_too_large",
                Words(
                    code="payload_too_large",
                    params={"max_bytes": max_bytes},
                    text=f"request body is over {max_bytes} bytes",
                ),
            ),
            status_code=413,
        )
        await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
