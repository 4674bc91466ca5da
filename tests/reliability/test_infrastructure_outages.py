"""Redis and PostgreSQL go away while webhooks arrive at a real gateway process (invariant 1).

- Redis (a dedicated embedded server on its own port) is shut down and started again on the same port while
  webhooks keep arriving: every request is answered 202 (the event is committed first); once Redis is back
  the sweeper queues what never reached it, a worker processes everything, each event exactly once.
- PostgreSQL (a dedicated embedded server) is stopped for a few seconds: the gateway answers 503 in the
  error shape (so the sender retries), never 2xx for an event it could not store; every 202 it gave is
  in the database once PostgreSQL is back.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Bundle, BundleStatus, Event, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit import embedded, migrate
from bpmlink.kit.queue import create_arq_pool
from bpmlink.kit.settings import Settings
from bpmlink.webhooks import hash_webhook_token
from tests.fixtures.app import make_settings
from tests.fixtures.pipeline import make_bundle

from .conftest import Service, all_final, assert_delivered_once, wait_until


async def _send(http: httpx.AsyncClient, path: str, email: str) -> httpx.Response | None:
    try:
        return await http.post(path, json={"first_name": "Red", "last_name": "Is", "email": email})
    except httpx.HTTPError:
        return None  # the sender saw no answer: it retries, nothing was acknowledged


async def test_redis_restart_while_webhooks_arrive(
    client: httpx.AsyncClient,
    owner: Any,
    connection_id: str,
    sandbox: Any,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    service_env: dict[str, str],
    services: Callable[..., Service],
) -> None:
    with tempfile.TemporaryDirectory(prefix="bpmlink-redis-fault-") as tmp:
        port = embedded.free_port()
        redis_server, redis_url = embedded.start_redis(Path(tmp), port)
        env = {**service_env, "REDIS_URL": redis_url}
        bundle = await make_bundle(client, connection_id, name="Redis outage")
        path = "/hooks/" + bundle["webhook_url"].rsplit("/hooks/", 1)[1]
        gateway = services("bpmlink_gateway", env, "BPMLINK_GATEWAY_PORT")
        gateway_port = gateway.port
        await gateway.wait_ready()
        stamp = uuid.uuid4().hex[:6]
        accepted: dict[uuid.UUID, str] = {}
        answers: list[int] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", timeout=20) as http:
                for phase in ("before", "down", "after"):
                    if phase == "down":
                        redis_server.shutdown()
                    if phase == "after":
                        redis_server, _ = embedded.start_redis(Path(tmp), port)
                    for i in range(8):
                        email = f"{phase}{i}.{stamp}@example.com"
                        response = await _send(http, path, email)
                        assert response is not None, "the gateway must answer while Redis is down"
                        answers.append(response.status_code)
                        if response.status_code == 202:
                            accepted[uuid.UUID(response.json()["event_id"])] = email
            assert answers == [202] * 24, answers

            # Redis is back: the sweeper (run here at once instead of waiting for its minute) queues the
            # events that never reached Redis; a worker then processes every event.
            from bpmlink_worker.sweeper import sweep_unqueued

            queue = await create_arq_pool(make_settings(settings.database_url, redis_url))
            try:
                await sweep_unqueued(sessionmaker, queue, older_than=timedelta(0))
            finally:
                await queue.aclose()
            worker = services("bpmlink_worker", env, "BPMLINK_WORKER_PORT")
            await worker.wait_ready()
            await wait_until(lambda: all_final(sessionmaker, [bundle["id"]], len(accepted)), 90, "all processed")
            ops = await assert_delivered_once(sessionmaker, sandbox, accepted, [bundle["id"]])
            assert all(op.attempts == 1 for op in ops), "each event processed exactly once"
        finally:
            redis_server.shutdown()


def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


async def test_postgres_stop_answers_503_and_loses_nothing(
    services: Callable[..., Service], service_env: dict[str, str], redis_url: str
) -> None:
    with tempfile.TemporaryDirectory(prefix="bpmlink-pg-fault-") as tmp:
        pg, server_url = embedded.start_postgres(Path(tmp) / "pg")
        try:
            db_url = embedded.create_database(server_url, "faults")
            _in_thread(migrate.upgrade, db_url)
            settings = make_settings(db_url, redis_url)
            engine = create_engine(settings, pool_size=2)
            sm = create_sessionmaker(engine)
            token = f"tok{uuid.uuid4().hex}"
            async with sm() as session:
                workspace = Workspace(name="PG outage")
                session.add(workspace)
                await session.flush()
                session.add(Bundle(workspace_id=workspace.id, name="Leads", status=BundleStatus.waiting,
                                   source_app="webhook", webhook_token_hash=hash_webhook_token(token),
                                   config={"name": "Leads", "source": {"app": "webhook", "connection_id": None,
                                                                       "trigger": "incoming_request", "config": {}},
                                           "target": {"connection_id": None, "action": "create_record",
                                                      "entity": "Contact"},
                                           "mapping": [], "dedup": {"mode": "always_create"}}))
                await session.commit()
            await engine.dispose()

            gateway = services("bpmlink_gateway", {**service_env, "DATABASE_URL": db_url, "REDIS_URL": redis_url},
                               "BPMLINK_GATEWAY_PORT")
            await gateway.wait_ready()
            accepted: set[uuid.UUID] = set()
            statuses: list[int] = []
            unavailable: list[dict[str, Any]] = []

            async def send_for(seconds: float, http: httpx.AsyncClient) -> None:
                deadline = time.monotonic() + seconds
                n = 0
                while time.monotonic() < deadline:
                    n += 1
                    response = await _send(http, f"/hooks/{token}", f"pg{n}@example.com")
                    if response is None:
                        continue
                    statuses.append(response.status_code)
                    if response.status_code == 202:
                        accepted.add(uuid.UUID(response.json()["event_id"]))
                    elif response.status_code == 503:
                        unavailable.append(response.json())
                    await asyncio.sleep(0.05)

            async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
                await send_for(1.5, http)
                before = len(accepted)
                embedded.stop_postgres(pg)
                await send_for(4.0, http)  # the 1 s token cache runs out: lookups and stores fail
                pg, server_url = embedded.start_postgres(Path(tmp) / "pg")
                await send_for(5.0, http)  # pools reconnect
            assert before > 0 and 503 in statuses, statuses
            assert set(statuses) <= {202, 503}, statuses
            assert all(set(body) == {"error"} and body["error"]["code"] for body in unavailable), unavailable[:3]
            assert statuses[-1] == 202, "the gateway accepts again once PostgreSQL is back"

            engine = create_engine(settings, pool_size=2)
            async with create_sessionmaker(engine)() as session:
                stored = set(await session.scalars(select(Event.id)))
            await engine.dispose()
            assert accepted <= stored, f"{len(accepted - stored)} acknowledged events are missing"
        finally:
            embedded.stop_postgres(pg)
