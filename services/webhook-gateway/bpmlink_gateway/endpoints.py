"""`/hooks/{token}`: read the request, let the service decide, send the answer it rendered (by default 202
with the event id).

Two ways in, one behaviour. `HookEndpoint` is the hot path: the gateway app (`app.GatewayApp`) hands it
`GET|POST|PUT /hooks/{token}` straight from the ASGI call, under the same `ObservabilityMiddleware`
(request id, per-route metrics) but without FastAPI's per-request machinery (five middlewares, the
router's matching, dependency solving, a Request object) — that machinery cost about as much CPU as the
webhook's own work. It answers what the FastAPI route below answers: the same status codes, error shape
(`bpmlink.kit.web.error_body`), headers and JSON bytes. The FastAPI route stays for everything else that
reaches that path (HEAD, a mounted app with a root path) and keeps the route template for the metrics.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from bpmlink.kit import metrics
from bpmlink.kit.web import AppError, NotFound, error_body

from .answers import json_bytes
from .service import Accepted, Gateway, IncomingRequest

router = APIRouter()
log = logging.getLogger("bpmlink.gateway")

# secrets.token_urlsafe output, at most the column's 64 characters: anything else is unknown
# without asking the database.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# What the route below matches (Starlette's `{token}` is `[^/]+`) and the methods the hot path takes.
HOOK_PATH = re.compile(r"^/hooks/([^/]+)$")
HOOK_METHODS = frozenset({"GET", "POST", "PUT"})
HOOK_TEMPLATE = "/hooks/{token}"


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.api_route(HOOK_TEMPLATE, methods=sorted(HOOK_METHODS), status_code=202)
async def receive_hook(token: str, request: Request, gateway: GatewayDep) -> Response:
    try:
        accepted = await _receive(token, request, gateway)
    except AppError as exc:
        metrics.observe_webhook("rejected", exc.code)
        raise
    metrics.observe_webhook(accepted.outcome, accepted.reason)
    reply = accepted.reply
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)


async def _receive(token: str, request: Request, gateway: Gateway) -> Accepted:
    body = await request.body()
    return await gateway.receive(token, _incoming(request.scope, body))


def _incoming(scope: Scope, body: bytes) -> IncomingRequest:
    """The request as the service reads it; NotFound for a token that cannot be one (after the body is read)."""
    token: str = scope["path_params"]["token"]
    if not _TOKEN.match(token):
        raise NotFound("no webhook at this URL")
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    client = scope.get("client")
    return IncomingRequest(
        method=scope["method"],
        headers=headers,
        query_string=scope.get("query_string", b""),
        body=body,
        client=client[0] if client else None,
    )


class ClientGone(Exception):
    """The sender went away before its body was read (or the body size limit answered 413 already)."""


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
        elif message["type"] == "http.disconnect":
            raise ClientGone


async def _send(
    send: Send,
    status: int,
    body: bytes,
    headers: dict[str, str] | None = None,
    content_type: bytes = b"application/json",
) -> None:
    """What Starlette's Response sends: the caller's headers, then content-length (not on a 204 or 304) and
    content-type."""
    raw: list[tuple[bytes, bytes]] = []
    if headers:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    names: Iterable[bytes] = [name for name, _ in raw]
    if b"content-length" not in names and status not in (204, 304):
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if b"content-type" not in names:
        raw.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class HookEndpoint:
    """The hot path of `/hooks/{token}` as a plain ASGI app (scope["path_params"] holds the token)."""

    def __init__(self, gateway_of: Any) -> None:
        self.gateway_of = gateway_of  # the app: its state.gateway exists once the lifespan has started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await _read_body(receive)
        except ClientGone:
            return  # nobody to answer (the 500 the FastAPI route would try is dropped the same way)
        try:
            gateway: Gateway = self.gateway_of.state.gateway
            accepted = await gateway.receive(scope["path_params"]["token"], _incoming(scope, body))
        except AppError as exc:
            metrics.observe_webhook("rejected", exc.code)
            payload = json_bytes(error_body(exc.code, exc.message, exc.details))
            await _send(send, exc.status_code, payload, exc.headers)
            return
        except Exception:
            # As the FastAPI app's handler of unexpected errors: a 500 in the error shape, then raised to the
            # server, which logs it.
            await _send(send, 500, json_bytes(error_body("internal_error", "Internal server error")))
            raise
        metrics.observe_webhook(accepted.outcome, accepted.reason)
        reply = accepted.reply
        await _send(send, reply.status, reply.body, content_type=reply.content_type.encode("latin-1"))
