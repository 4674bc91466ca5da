"""A tiny scripted Creatio for `httpx.MockTransport` unit tests, only for what the sandbox cannot produce.

The sandbox (`services/sandbox`, with its fault injection in `faults.py`) is the Creatio the tests talk to:
logins and their refusals (both failure modes, lockout), CSRF in both flavours (`newer_cookies`), expiry by
401 or by a 302 to the login page, 429/503 with Retry-After, OAuth tokens and their lifetime. Write those
tests against it (`tests/bpmonline/test_sandbox_*.py`). This fake is for answers a well-behaved server
never gives on demand: a login page with status 200 instead of data, a session dead again right after a
fresh login, redirects elsewhere, routing errors with 200, hosts without OData 4 (or any OData), a login
without a session cookie, a duplicate-key race, a token endpoint on another host, and a client without Redis.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bpmlink.bpmonline import BpmClient, BpmConnection
from bpmlink.kit.settings import Settings

DOMAIN = "https://crm.example.com"
TEST_SECRET = "unit-test-secret-key-0123456789abcdef"

Handler = Callable[[httpx.Request], httpx.Response]


def settings(**extra: str) -> Settings:
    """Settings independent of the environment and `.env` (no allow-list unless given)."""
    values = {"BPMLINK_ENV": "test", "BPMLINK_SECRET_KEY": TEST_SECRET, "BPMLINK_OUTBOUND_ALLOW_HOSTS": ""}
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def forms_connection(**kw: object) -> BpmConnection:
    params: dict[str, object] = {
        "id": f"unit-{uuid.uuid4().hex[:8]}",
        "domain": DOMAIN,
        "username": "Supervisor",
        "password": "Sup3r-Secret!",
    }
    params.update(kw)
    return BpmConnection(**params)  # type: ignore[arg-type]


def login_ok(request: httpx.Request) -> httpx.Response:
    headers = [
        ("content-type", "application/json"),
        ("set-cookie", f".ASPXAUTH=AUTH{uuid.uuid4().hex.upper()}; path=/; HttpOnly"),
        ("set-cookie", "BPMCSRF=csrfTOKEN123; path=/"),
        ("set-cookie", "BPMLOADER=loader123; path=/; HttpOnly"),
    ]
    body = {"Code": 0, "Message": "", "Exception": None, "PasswordChangeUrl": None, "RedirectUrl": None}
    return httpx.Response(200, headers=headers, content=json.dumps(body).encode(), request=request)


def odata(request: httpx.Request, body: object, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body, request=request)


@dataclass
class FakeCreatio:
    """Routes requests to overridable handlers and remembers what it saw."""

    login: Handler = login_ok
    data: Handler = field(default=lambda r: odata(r, {"value": []}))
    token: Handler | None = None
    seen: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if path.endswith("/AuthService.svc/Login"):
            return self.login(request)
        if path.endswith("/connect/token") and self.token is not None:
            return self.token(request)
        return self.data(request)

    def count(self, suffix: str) -> int:
        return sum(1 for r in self.seen if r.url.path.endswith(suffix))

    def client(self, connection: BpmConnection | None = None, **kw: object) -> BpmClient:
        return BpmClient(
            connection or forms_connection(),
            settings=settings(),
            transport=httpx.MockTransport(self),
            **kw,  # type: ignore[arg-type]
        )
