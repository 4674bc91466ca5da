"""Slow or greedy clients: a deadline for the request body and a cap on one address's open requests.

uvicorn reads a body as slowly as the client sends it and keeps the request open meanwhile, so twenty
connections sending a byte every two seconds held twenty requests (and their memory) for as long as they
liked. `ClientLimits` sits outside everything else:

- the whole body must arrive within `body_timeout` seconds of the request's start, else `408` (and the
  connection is closed); the app sees a disconnect, so nothing half-read is stored;
- an address may have at most `max_per_client` requests open at once; one more is answered `429` at
  once with `Retry-After: 1`, before its body is read.

The address is the ASGI client's host, i.e. the peer, or the proxy header's address where uvicorn trusts
the proxy. Connections still sending their headers never reach ASGI: uvicorn's own limits cover those.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bpmlink.kit.web import error_body


class ClientLimits:
    def __init__(self, app: ASGIApp, *, body_timeout: float, max_per_client: int) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_per_client = max_per_client
        self.open: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = client[0] if client else ""
        if self.open[address] >= self.max_per_client:
            await _answer(send, 429, "too_many_connections", f"over {self.max_per_client} open requests", "1")
            return
        self.open[address] += 1
        try:
            await self._with_body_deadline(scope, receive, send)
        finally:
            self.open[address] -= 1
            if not self.open[address]:
                del self.open[address]

    async def _with_body_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = time.monotonic() + self.body_timeout
        body_done = False
        timed_out = started = False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done or timed_out:
                return await receive()  # after the body: waiting for a disconnect is not slow reading
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                timed_out = True
                if not started:
                    await _answer(send, 408, "request_timeout", f"body not received in {self.body_timeout:g} s")
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the 408 is out (or the answer was cut short): nothing more on this request
            started = True
            await send(message)

        try:
            await self.app(scope, timed_receive, guarded_send)
        except Exception:
            if not timed_out:
                raise


async def _answer(send: Send, status: int, code: str, message: str, retry_after: str | None = None) -> None:
    headers = {"Connection": "close"}
    if retry_after:
        headers["Retry-After"] = retry_after
    response = JSONResponse(error_body(code, message), status_code=status, headers=headers)

    async def no_body() -> Message:
        return {"type": "http.disconnect"}

    await response({"type": "http"}, no_body, send)
