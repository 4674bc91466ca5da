"""A real local SMTP server (aiosmtpd) and a local HTTP receiver for incident notifications."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bpmlink.kit.embedded import free_port
from tests.fixtures.app import make_settings


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def inbox(smtp_server: tuple[int, _Inbox]) -> _Inbox:
    smtp_server[1].messages.clear()
    return smtp_server[1]


@pytest.fixture(scope="session")
def receiver_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    port = free_port()
    config = uvicorn.Config(
        Starlette(routes=[Route("/hook", hook, methods=["POST"])]), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/hook"
    for _ in range(100):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url, received
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def received(receiver_server: tuple[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    receiver_server[1].clear()
    return receiver_server[1]


@pytest.fixture
def settings(db_url: str, redis_url: str, smtp_server: tuple[int, _Inbox]):  # overrides tests/fixtures/app.py
    return make_settings(
        db_url,
        redis_url,
        BPMLINK_SMTP_HOST="127.0.0.1",
        BPMLINK_SMTP_PORT=smtp_server[0],
        BPMLINK_SMTP_STARTTLS=False,
        BPMLINK_SMTP_FROM="bpmlink@example.com",
    )
