"""The webhook gateway under an ASGI client, on the migrated test database and a real Redis.

`hook` posts through the full ASGI stack (body size limit included); `make_bundle` creates
a webhook bundle straight through the ORM (the api's bundle endpoints are not needed here), of any
catalog app; `test_apps` adds the test-only catalog entries of `apps.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from bpmlink_gateway.app import create_app
from bpmlink_gateway.service import Gateway
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bpmlink import catalog
from bpmlink.db.models import Bundle, BundleStatus, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit.queue import create_arq_pool
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import BodySizeLimit
from bpmlink.webhooks import encrypt_webhook_secret, new_webhook_token, webhook_token_columns
from tests.fixtures.app import truncate_all

from .apps import TEST_APPS


class GatewayClient(httpx.AsyncClient):
    """An ASGI client on a running gateway; `.gateway` is its service (flush marks, clear the cache)."""

    gateway: Gateway


@asynccontextmanager
async def running_gateway(settings: Settings) -> AsyncIterator[GatewayClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=BodySizeLimit(app, settings.max_request_bytes))
        async with GatewayClient(transport=transport, base_url="http://gateway.test") as client:
            client.gateway = app.state.gateway
            yield client


@pytest.fixture(scope="module", autouse=True)
def _truncate_after_module(db_url: str) -> Iterator[None]:
    """Every test makes its own bundle and asserts on it alone, so one TRUNCATE per module
    (not per test, as `_clean_tables` does) leaves the shared database clean for others."""
    yield
    truncate_all(db_url)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
def sm(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
async def hook(settings: Settings, sm: async_sessionmaker[AsyncSession]) -> AsyncIterator[GatewayClient]:
    async with running_gateway(settings) as client:
        yield client


@pytest.fixture
async def queue(settings: Settings) -> AsyncIterator[ArqRedis]:
    pool = await create_arq_pool(settings)
    yield pool
    await pool.aclose()


@pytest.fixture
async def workspace_id(sm: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with sm() as session:
        workspace = Workspace(name="Gateway tests")
        session.add(workspace)
        await session.commit()
        return workspace.id


MakeBundle = Callable[..., Awaitable[tuple[uuid.UUID, str]]]


@pytest.fixture
def make_bundle(sm: async_sessionmaker[AsyncSession], workspace_id: uuid.UUID, settings: Settings) -> MakeBundle:
    async def make(
        *,
        status: str = BundleStatus.waiting,
        trigger: dict[str, Any] | None = None,
        secret: str | None = None,
        capture_sample: bool = False,
        deleted: bool = False,
        source_app: str = "webhook",
        trigger_key: str = "incoming_request",
        sample: dict[str, Any] | None = None,
        rate_per_minute: int | None = None,
    ) -> tuple[uuid.UUID, str]:
        token = new_webhook_token()
        config = {
            "name": "Site form",
            "source": {
                "app": source_app,
                "connection_id": None,
                "trigger": trigger_key,
                "config": trigger or {},
            },
            "target": {"connection_id": None, "action": "create_record", "entity": "Contact"},
            "mapping": [],
            "dedup": {"mode": "always_create"},
        }
        async with sm() as session:
            bundle = Bundle(
                workspace_id=workspace_id,
                name="Site form",
                status=status,
                config=config,
                source_app=source_app,
                **webhook_token_columns(SecretBox(settings), token),
                webhook_secret_encrypted=encrypt_webhook_secret(SecretBox(settings), secret) if secret else None,
                capture_sample=capture_sample,
                sample=sample,
                webhook_rate_per_minute=rate_per_minute,
                deleted_at=datetime.now(UTC) if deleted else None,
            )
            session.add(bundle)
            await session.commit()
            return bundle.id, token

    return make


@pytest.fixture
def test_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test-only catalog entries of `apps.py`, in the catalog for this test."""
    for app in TEST_APPS:
        monkeypatch.setitem(catalog.APPS, app.key, app)
