"""A workspace with a sandbox connection, bundles made through the API, and a real worker context."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.db.models import Bundle, Operation
from bpmlink.events import store_event
from bpmlink.redis import create_redis
from bpmlink.security import SecretBox
from tests.fixtures.accounts import Member, login, make_workspace

CONTACT_MAPPING = [
    {"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
    {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
    {"target": "MobilePhone", "source": "phone", "convert": [{"name": "phone_e164", "region": "RU"}]},
]


@pytest.fixture
async def owner(client, sessionmaker) -> Member:
    member = await make_workspace(sessionmaker)
    await login(client, member)
    return member


@pytest.fixture
async def connection_id(client: httpx.AsyncClient, owner: Member, sandbox) -> str:
    body = {
        "app": "bpmonline",
        "name": "Sandbox",
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": sandbox.username},
        "secrets": {"password": sandbox.password},
    }
    response = await client.post("/api/v1/connections", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def bundle_body(connection_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Site form → Contacts",
        "source": {"app": "webhook", "trigger": "incoming_request"},
        "target": {"connection_id": connection_id, "action": "create_record", "entity": "Contact"},
        "mapping": CONTACT_MAPPING,
        "dedup": {
            "mode": "update_if_found",
            "match_fields": ["Email"],
            "update_rules": {"MobilePhone": "fill_if_empty"},
        },
    }
    body.update(overrides)
    return body


async def make_bundle(client: httpx.AsyncClient, connection_id: str, start: bool = True, **overrides: Any) -> dict:
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id, **overrides))
    assert response.status_code == 201, response.text
    bundle = response.json()
    if start:
        started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")
        assert started.status_code == 200, started.text
        bundle = started.json()
    return bundle


@pytest.fixture
async def worker_ctx(settings, sessionmaker) -> AsyncIterator[dict[str, Any]]:
    redis = create_redis(settings)
    pool = BpmClientPool(settings=settings, redis=redis)
    ctx = {
        "settings": settings,
        "sessionmaker": sessionmaker,
        "redis": redis,
        "secret_box": SecretBox(settings),
        "bpm_clients": pool,
        "job_try": 1,
    }
    yield ctx
    await pool.aclose()
    await redis.aclose()


async def post_event(sessionmaker, bundle_id: str, item: dict[str, Any], **kw: Any) -> uuid.UUID:
    """Store an event as the gateway does (the enqueue is the test's business)."""
    async with sessionmaker() as session:
        bundle = await session.get(Bundle, uuid.UUID(bundle_id))
        assert bundle is not None
        stored = await store_event(session, bundle, origin="webhook", item=item, **kw)
        await session.commit()
        return stored.id


async def operation_of(sessionmaker, event_id: uuid.UUID) -> Operation:
    async with sessionmaker() as session:
        op = await session.scalar(select(Operation).where(Operation.event_id == event_id))
        assert op is not None
        return op


def sandbox_rows(sandbox, entity: str, filter_: str) -> list[dict[str, Any]]:
    http = sandbox.login()
    try:
        response = http.get(f"/0/odata/{entity}", params={"$filter": filter_})
        assert response.status_code == 200, response.text
        return response.json()["value"]
    finally:
        http.close()
