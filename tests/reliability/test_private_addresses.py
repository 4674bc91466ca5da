"""A connection whose domain *name* resolves to a private address is refused (SSRF), with no allow-list.

tests/api/test_connections.py covers a literal private IP; here the address comes from name resolution
(`localhost`, the machine's own host name from /etc/hosts, a decimal-encoded loopback), so a check on the
text of the URL alone would miss it. Nothing reaches the listener behind the private address.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bpmlink.kit.settings import Settings, is_private_address
from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.app import make_settings


@pytest.fixture
def settings(db_url: str, redis_url: str) -> Settings:
    return make_settings(db_url, redis_url, BPMLINK_OUTBOUND_ALLOW_HOSTS="")  # nothing private is allowed


@pytest.fixture
async def listener() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A loopback TCP listener recording whatever reaches it."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.read(1024))
        writer.close()

    server = await asyncio.start_server(handle, "0.0.0.0", 0)  # noqa: S104 - every local address, for the names
    port = server.sockets[0].getsockname()[1]
    yield port, seen
    server.close()
    await server.wait_closed()


def _private_names() -> list[str]:
    names = ["localhost", "2130706433"]  # 2130706433 is 127.0.0.1 written as one decimal number
    try:
        host = socket.gethostname()
        if is_private_address(socket.gethostbyname(host)):
            names.append(host)
    except OSError:
        pass
    return names


async def test_names_resolving_to_private_addresses_are_refused(
    client: httpx.AsyncClient, sessionmaker: Any, listener: tuple[int, list[bytes]]
) -> None:
    port, seen = listener
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    for name in _private_names():
        body = {"app": "bpmonline", "name": f"via {name}",
                "params": {"domain": f"http://{name}:{port}", "auth": "forms", "username": "Supervisor"},
                "secrets": {"password": "pw"}}
        created = await client.post("/api/v1/connections", json=body)
        if created.status_code == 422:
            assert "error" in created.json()  # refused up front: fine
            continue
        assert created.status_code == 201, created.text
        result = (await client.post(f"/api/v1/connections/{created.json()['id']}/test")).json()
        assert result["ok"] is False and result["stage"] == "address", (name, result)
        entities = await client.get(f"/api/v1/connections/{created.json()['id']}/entities")
        assert entities.status_code >= 400 and "error" in entities.json(), (name, entities.text)
    assert seen == [], "a request reached the private listener"
