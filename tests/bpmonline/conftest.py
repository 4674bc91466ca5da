"""Fixtures for the client against the sandbox (real HTTP on 127.0.0.1) and real Redis.

The `sandbox` fixture itself comes from `tests/fixtures/sandbox.py` (a registered plugin).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from bpmlink.bpmonline import BpmClient, BpmConnection
from tests.bpmonline.fakes import settings


async def maybe_await(value: Any) -> Any:
    """The sandbox helpers may be sync or async; accept both."""
    return await value if inspect.isawaitable(value) else value


class SandboxAdmin:
    """The sandbox fixture plus the admin routes it has no helper for."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.base_url = str(sandbox.base_url).rstrip("/")

    async def reset(self) -> None:
        await maybe_await(self.sandbox.reset())

    async def set_faults(self, **kw: Any) -> None:
        await maybe_await(self.sandbox.set_faults(**kw))

    async def counts(self) -> dict[str, Any]:
        return dict(await maybe_await(self.sandbox.counts()))

    async def logins(self) -> int:
        return int((await self.counts()).get("requests", {}).get("POST auth", 0))

    async def tokens(self) -> int:
        return int((await self.counts()).get("requests", {}).get("POST token", 0))

    async def admin(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            response = await http.request(method, f"/_sandbox{route}", json=body)
            response.raise_for_status()
            return response.json()

    async def expire_sessions(self) -> None:
        await self.admin("POST", "/sessions/expire")


@pytest.fixture
def sbx(sandbox: Any) -> SandboxAdmin:
    # The sandbox fixture resets data, faults, sessions and counters before each test.
    return SandboxAdmin(sandbox)


@pytest.fixture
def sandbox_settings(sbx: SandboxAdmin):  # type: ignore[no-untyped-def]
    host = httpx.URL(sbx.base_url).host
    return settings(BPMLINK_OUTBOUND_ALLOW_HOSTS=host)


@pytest.fixture
async def aredis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def make_client(
    sbx: SandboxAdmin, sandbox_settings: Any, aredis: aioredis.Redis
) -> AsyncIterator[Callable[..., BpmClient]]:
    """`make_client(**connection_params)` → a BpmClient on the sandbox, sharing Redis."""
    clients: list[BpmClient] = []
    default_id = f"sbx-{uuid.uuid4().hex[:8]}"

    def make(*, client_kw: dict[str, Any] | None = None, **kw: Any) -> BpmClient:
        params: dict[str, Any] = {
            "id": default_id,
            "domain": sbx.base_url,
            "username": "Supervisor",
            "password": "Supervisor",
        }
        params.update(kw)
        client = BpmClient(
            BpmConnection(**params), settings=sandbox_settings, redis=aredis, **(client_kw or {})
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
