"""What every bpmlink HTTP service shares: the error shape, health routes, a body size limit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class AppError(Exception):
    """Base of every business failure: a status, a stable code, a message for people."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
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


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


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
    """One validation problem; where pydantic's context is plain values, its type and context as
    the stable `code` and `params` (e.g. a PydanticCustomError such as dedup_group_empty)."""
    detail: dict[str, Any] = {"field": _field_path(tuple(error["loc"])), "message": error["msg"]}
    ctx = error.get("ctx")
    if isinstance(ctx, Mapping) and all(isinstance(v, str | int | float) for v in ctx.values()):
        detail["code"], detail["params"] = error["type"], dict(ctx)
    return detail


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=exc.headers
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [_detail(e) for e in exc.errors()]
        first = details[0] if details else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return JSONResponse(error_body("validation_error", message, details), status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body("internal_error", "Internal server error"), status_code=500)

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
            error_body("payload_too_large", f"request body is over {max_bytes} bytes"), status_code=413
        )
        await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}
