"""Read-back and source-app polling: the vendors' stand-ins, their connections and bundles made
through the API, and what an operation recorded."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bpmlink.db.models import Operation, Step
from tests.fixtures.amocrm_api import AMO_TOKEN, AmoCrm, amocrm_api, amocrm_server  # noqa: F401
from tests.fixtures.bitrix24_api import Bitrix24, bitrix24_api, bitrix24_server  # noqa: F401
from tests.fixtures.graph_api import PAGE_TOKEN, GraphApi, graph_api, graph_server  # noqa: F401
from tests.fixtures.pipeline import bundle_body
from tests.fixtures.yookassa_api import SECRET_KEY, SHOP_ID, YooKassa, yookassa_api, yookassa_server  # noqa: F401
from tests.polling.conftest import make_connection

# One record per event, whatever the item: the mapping reads the read-back part.
NAME_ONLY = {"mode": "always_create"}


async def connect(client: httpx.AsyncClient, app: str, params: dict[str, Any], secrets: dict[str, Any]) -> str:
    return await make_connection(client, app, params, secrets)


@pytest.fixture
async def amocrm_connection(client: httpx.AsyncClient, owner, amocrm_api: AmoCrm) -> str:  # noqa: F811
    return await connect(client, "amocrm", {"domain": amocrm_api.base_url}, {"token": AMO_TOKEN})


@pytest.fixture
async def bitrix24_connection(client: httpx.AsyncClient, owner, bitrix24_api: Bitrix24) -> str:  # noqa: F811
    return await connect(client, "bitrix24", {}, {"webhook_url": bitrix24_api.webhook_url})


@pytest.fixture
async def graph_connection(client: httpx.AsyncClient, owner, graph_api: GraphApi) -> str:  # noqa: F811
    return await connect(client, "facebook_leads", {"api_url": graph_api.base_url}, {"page_access_token": PAGE_TOKEN})


@pytest.fixture
async def yookassa_connection(client: httpx.AsyncClient, owner, yookassa_api: YooKassa) -> str:  # noqa: F811
    return await connect(
        client, "yookassa", {"shop_id": SHOP_ID, "api_url": yookassa_api.base_url}, {"secret_key": SECRET_KEY}
    )


async def source_bundle(
    client: httpx.AsyncClient,
    target_id: str,
    source: dict[str, Any],
    mapping: list[dict[str, Any]],
    *,
    start: bool = True,
    **overrides: Any,
) -> dict[str, Any]:
    """A bundle of a source app's trigger into bpm'online Contacts, made (and started) through the API."""
    body = bundle_body(target_id, source=source, mapping=mapping, dedup=NAME_ONLY, **overrides)
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 201, response.text
    bundle = response.json()
    if start:
        started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")
        assert started.status_code == 200, started.text
        bundle = started.json()
    return bundle


async def steps_of(sessionmaker, operation_id: uuid.UUID) -> list[Step]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Step).where(Step.operation_id == operation_id).order_by(Step.attempt, Step.position)
        )
        return list(rows)


async def operations_of(sessionmaker, bundle_id: str) -> list[Operation]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(Operation).where(Operation.bundle_id == uuid.UUID(bundle_id)))
        return list(rows)
