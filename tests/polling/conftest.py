"""Polling tests: a JSON API served by the test, bundles made through the API, poll dependencies."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from bpmlink_worker.context import WorkerContext
from bpmlink_worker.polling import Claim, claim_due
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bpmlink.db.models import Bundle, Event, PollState
from bpmlink.kit.embedded import free_port
from tests.fixtures.pipeline import bundle_body

API_KEY = "source-api-key-0123456789"


@dataclass
class JsonSource:
    """State of the local JSON API: items, a forced status, request log."""

    items: list[dict[str, Any]] = field(default_factory=list)
    fail_status: int | None = None
    ignore_cursor: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""

    def reset(self) -> None:
        self.items.clear()
        self.requests.clear()
        self.fail_status = None
        self.ignore_cursor = False

    def add(self, n: int, start: int = 1, stamp: str | None = None) -> None:
        for i in range(start, start + n):
            self.items.append(
                {
                    "id": i,
                    "first_name": f"Ann{i}",
                    "last_name": "Poll",
                    "email": f"ann{i}@poll.example",
                    "updated_at": stamp or f"2026-11-27T10:{i // 60:02d}:{i % 60:02d}Z",
                }
            )


def _source_app(state: JsonSource) -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    async def items(request: Request) -> JSONResponse:
        state.requests.append({"params": dict(request.query_params), "key": request.headers.get("x-api-key")})
        if request.headers.get("x-api-key") != API_KEY:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if state.fail_status:
            return JSONResponse({"error": "forced"}, status_code=state.fail_status)
        since = request.query_params.get("since")
        limit = int(request.query_params.get("limit", "50"))
        rows = sorted(state.items, key=lambda r: (r["updated_at"], r["id"]))
        if since and not state.ignore_cursor:
            rows = [r for r in rows if r["updated_at"] > since]
        return JSONResponse({"data": {"items": rows[:limit]}, "total": len(rows)})

    return app


@pytest.fixture(scope="session")
def json_source_server() -> Iterator[JsonSource]:
    state = JsonSource()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(_source_app(state), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True, name="json-source")
    thread.start()
    state.base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the JSON source did not start")
        time.sleep(0.02)
    yield state
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def json_source(json_source_server: JsonSource) -> JsonSource:
    json_source_server.reset()
    return json_source_server


HTTP_TRIGGER = {
    "path": "/items",
    "items_path": "data.items",
    "id_field": "id",
    "cursor_field": "updated_at",
    "cursor_param": "since",
    "limit_param": "limit",
}


async def make_connection(client: httpx.AsyncClient, app: str, params: dict[str, Any], secrets: dict[str, Any]) -> str:
    response = await client.post(
        "/api/v1/connections", json={"app": app, "name": app, "params": params, "secrets": secrets}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.fixture
async def http_connection_id(client: httpx.AsyncClient, owner, json_source: JsonSource) -> str:
    return await make_connection(
        client,
        "http_polling",
        {"base_url": json_source.base_url, "auth_header": "X-Api-Key"},
        {"auth_value": API_KEY},
    )


async def make_polling_bundle(
    client: httpx.AsyncClient,
    target_id: str,
    source: dict[str, Any],
    *,
    start: bool = True,
    interval: int = 5,
) -> str:
    body = bundle_body(target_id, source=source, schedule={"interval_minutes": interval})
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 201, response.text
    bundle_id = str(response.json()["id"])
    if start:
        started = await client.post(f"/api/v1/bundles/{bundle_id}/start")
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "running"
    return bundle_id


@pytest.fixture
async def http_bundle_id(client: httpx.AsyncClient, connection_id: str, http_connection_id: str) -> str:
    source = {
        "app": "http_polling",
        "connection_id": http_connection_id,
        "trigger": "new_items",
        "config": HTTP_TRIGGER,
    }
    return await make_polling_bundle(client, connection_id, source)


@pytest.fixture
def deps(worker: WorkerContext) -> WorkerContext:
    """What a poll runs with: the worker's context."""
    return worker


async def claim(sessionmaker, **kwargs: Any) -> list[Claim]:
    """One scheduler's claim, committed as the cron's transaction commits it."""
    async with sessionmaker.begin() as session:
        return await claim_due(session, **kwargs)


async def events_of(sessionmaker, bundle_id: str) -> list[Event]:
    async with sessionmaker() as session:
        rows = await session.scalars(
            select(Event).where(Event.bundle_id == uuid.UUID(bundle_id)).order_by(Event.received_at, Event.id)
        )
        return list(rows)


async def poll_state(sessionmaker, bundle_id: str) -> PollState:
    async with sessionmaker() as session:
        state = await session.get(PollState, uuid.UUID(bundle_id))
        assert state is not None
        return state


async def bundle_row(sessionmaker, bundle_id: str) -> Bundle:
    async with sessionmaker() as session:
        bundle = await session.get(Bundle, uuid.UUID(bundle_id))
        assert bundle is not None
        return bundle
