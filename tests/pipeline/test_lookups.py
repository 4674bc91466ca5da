"""The real lookup resolver (bpmlink/pipeline/lookups.py) against the sandbox, not a fake.

- A lookup record created for a missing value gets the deterministic Id, so a retry, a second worker
  racing the first, or the same name in another letter case ends with one record, not a second Account.
- The cache answers repeated values without a request, expires after CACHE_SECONDS, and stays bounded.
- A preview never writes: not the resolver without `allow_create`, not the api's preview endpoint.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from bpmlink.bpmonline import BpmClient, BpmConnection
from bpmlink.bpmonline.filters import F
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit.settings import Settings
from bpmlink.pipeline import lookups
from bpmlink.pipeline.lookups import lookup_record_id, make_resolver
from tests.fixtures.pipeline import make_bundle
from tests.fixtures.sandbox import SandboxServer


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    lookups._cache.clear()
    yield
    lookups._cache.clear()


@pytest.fixture
def bpm_settings(sandbox: SandboxServer) -> Settings:
    host = httpx.URL(sandbox.base_url).host
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        BPMLINK_ENV="test",
        BPMLINK_SECRET_KEY="lookups-test-secret-key-0123456789",
        BPMLINK_OUTBOUND_ALLOW_HOSTS=host,
    )


@pytest.fixture
async def make_client(sandbox: SandboxServer, bpm_settings: Settings) -> AsyncIterator[Callable[[], BpmClient]]:
    """BpmClients on one sandbox connection (the same connection id, as two workers have)."""
    connection_id = f"lookups-{uuid.uuid4().hex[:8]}"
    clients: list[BpmClient] = []

    def make() -> BpmClient:
        conn = BpmConnection(id=connection_id, domain=sandbox.base_url, username="Supervisor", password="Supervisor")
        clients.append(client := BpmClient(conn, settings=bpm_settings))
        return client

    yield make
    for client in clients:
        await client.aclose()


async def _accounts(client: BpmClient, name: str) -> list[dict[str, Any]]:
    return await client.query("Account", filter=F.eq("Name", name), select=["Id", "Name"])


def _writes(sandbox: SandboxServer) -> dict[str, int]:
    requests: dict[str, int] = sandbox.counts()["requests"]
    return {k: v for k, v in requests.items() if k.split()[0] in ("POST", "PATCH", "PUT", "DELETE") and "auth" not in k}


def _reads(sandbox: SandboxServer) -> int:
    return sum(v for k, v in sandbox.counts()["requests"].items() if k.startswith("GET"))


async def test_a_created_lookup_record_has_the_deterministic_id_and_a_retry_finds_it(
    make_client: Callable[[], BpmClient],
) -> None:
    client = make_client()
    resolve = make_resolver(client, StepRecorder(), allow_create=True)
    created = await resolve("Account", "Name", "Lookup Test Ltd", True)
    assert created == str(lookup_record_id(client.connection.id, "Account", "Name", "Lookup Test Ltd"))

    lookups._cache.clear()  # the retry runs in another worker: nothing cached
    retry = make_resolver(make_client(), StepRecorder(), allow_create=True)
    assert await retry("Account", "Name", "Lookup Test Ltd", True) == created
    assert [a["Id"] for a in await _accounts(client, "Lookup Test Ltd")] == [created]


async def test_two_workers_racing_on_one_missing_value_create_one_record(
    make_client: Callable[[], BpmClient],
) -> None:
    first = make_resolver(make_client(), StepRecorder(), allow_create=True)
    second = make_resolver(make_client(), StepRecorder(), allow_create=True)
    ids = await asyncio.gather(*(r("Account", "Name", "Race Lookup Ltd", True) for r in (first, second)))
    assert ids[0] == ids[1]
    assert len(await _accounts(make_client(), "Race Lookup Ltd")) == 1


async def test_the_same_name_in_another_case_does_not_create_a_second_record(
    make_client: Callable[[], BpmClient],
) -> None:
    resolve = make_resolver(make_client(), StepRecorder(), allow_create=True)
    upper = await resolve("Account", "Name", "CASE LOOKUP LTD", True)
    assert await resolve("Account", "Name", "case lookup ltd", True) == upper
    client = make_client()
    found = await _accounts(client, "CASE LOOKUP LTD") + await _accounts(client, "case lookup ltd")
    assert {a["Id"] for a in found} == {upper}


async def test_the_cache_answers_without_a_request_and_expires(
    make_client: Callable[[], BpmClient], sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()
    resolve = make_resolver(client, StepRecorder(), allow_create=True)
    first = await resolve("Account", "Name", "Cached Lookup Ltd", True)
    assert first is not None
    await client.delete("Account", first)  # gone from the CRM: only the cache still knows it

    sandbox.reset_counts()
    assert await resolve("Account", "Name", "Cached Lookup Ltd", True) == first
    assert _reads(sandbox) == 0 and _writes(sandbox) == {}

    now = lookups.time.monotonic()
    monkeypatch.setattr(lookups.time, "monotonic", lambda: now + lookups.CACHE_SECONDS + 1)
    assert await resolve("Account", "Name", "Cached Lookup Ltd", True) == first  # asked again: created again
    assert _reads(sandbox) > 0 and _writes(sandbox) != {}
    assert [a["Id"] for a in await _accounts(client, "Cached Lookup Ltd")] == [first]


async def test_the_cache_stays_bounded(make_client: Callable[[], BpmClient], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookups, "MAX_CACHED", 3)
    resolve = make_resolver(make_client(), StepRecorder(), allow_create=True)
    for i in range(6):
        await resolve("Account", "Name", f"Bounded Lookup {i}", True)
    assert len(lookups._cache) == 3
    assert [key[3] for key in lookups._cache] == [f"Bounded Lookup {i}" for i in (3, 4, 5)]  # the newest kept


async def test_a_preview_resolver_never_writes(make_client: Callable[[], BpmClient], sandbox: SandboxServer) -> None:
    client = make_client()
    resolve = make_resolver(client, StepRecorder(), allow_create=False)
    sandbox.reset_counts()
    assert await resolve("Account", "Name", "Preview Lookup Ltd", True) is None
    assert _writes(sandbox) == {}
    assert await _accounts(client, "Preview Lookup Ltd") == []


async def test_the_preview_endpoint_never_writes_a_lookup_record(
    client: httpx.AsyncClient, owner: object, connection_id: str, sandbox: SandboxServer
) -> None:
    mapping = [
        {"target": "Name", "source": "name"},
        {"target": "Email", "source": "email"},
        {"target": "MobilePhone", "source": "phone"},
        {
            "target": "AccountId",
            "lookup": {"entity": "Account", "by": "Name", "value": "{{ company }}", "create_if_missing": True},
        },
    ]
    bundle = await make_bundle(client, connection_id, start=False, mapping=mapping)
    sample = {"name": "Ann", "email": "ann@example.com", "phone": "+79123456789", "company": "Preview Endpoint Ltd"}
    sandbox.reset_counts()
    preview = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": sample})
    assert preview.status_code == 200, preview.text
    assert _writes(sandbox) == {}
    bpm = sandbox.login()
    try:
        found = bpm.get("/0/odata/Account", params={"$filter": "Name eq 'Preview Endpoint Ltd'"}).json()["value"]
    finally:
        bpm.close()
    assert found == []
