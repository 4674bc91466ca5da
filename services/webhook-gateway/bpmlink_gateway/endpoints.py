"""`/hooks/{token}`: read the request, let the service decide, answer 202 with the event id."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from bpmlink import metrics
from bpmlink.web import AppError, NotFound

from .service import Accepted, Gateway, IncomingRequest

router = APIRouter()

# secrets.token_urlsafe output, at most the column's 64 characters: anything else is unknown
# without asking the database.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]


@router.api_route("/hooks/{token}", methods=["GET", "POST", "PUT"], status_code=202)
async def receive_hook(token: str, request: Request, gateway: GatewayDep) -> JSONResponse:
    try:
        accepted = await _receive(token, request, gateway)
    except AppError as exc:
        metrics.observe_webhook("rejected", exc.code)
        raise
    metrics.observe_webhook(accepted.outcome, accepted.reason)
    return JSONResponse({"event_id": str(accepted.event_id)}, status_code=202)


async def _receive(token: str, request: Request, gateway: Gateway) -> Accepted:
    body = await request.body()
    if not _TOKEN.match(token):
        raise NotFound("no webhook at this URL")
    headers: dict[str, str] = {}
    for raw_name, raw_value in request.headers.raw:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    incoming = IncomingRequest(
        method=request.method,
        headers=headers,
        query_string=request.scope.get("query_string", b""),
        body=body,
        client=request.client.host if request.client else None,
    )
    return await gateway.receive(token, incoming)
