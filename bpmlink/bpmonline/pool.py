"""One `BpmClient` per connection in a process."""

from __future__ import annotations

from redis.asyncio import Redis

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.kit.settings import Settings


class BpmClientPool:
    """One `BpmClient` per connection in a process (the worker context holds one pool).

    A connection whose params changed (new fingerprint or secrets) gets a new client; the old
    one is closed.
    """

    def __init__(self, *, settings: Settings | None = None, redis: Redis | None = None) -> None:
        self._settings = settings
        self._redis = redis
        self._clients: dict[str, BpmClient] = {}

    async def get(self, connection: BpmConnection) -> BpmClient:
        client = self._clients.get(connection.id)
        if client is not None and client.connection == connection:
            return client
        if client is not None:
            await client.aclose()
        client = BpmClient(connection, settings=self._settings, redis=self._redis)
        self._clients[connection.id] = client
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
