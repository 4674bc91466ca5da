"""Graceful shutdown with real processes, as a rolling deploy does it: SIGTERM mid-flight.

- The gateway (uvicorn) gets SIGTERM while webhook bodies are still arriving: every request
  already in flight is answered 202 and its event is in PostgreSQL; then the process exits 0.
- api, gateway and two workers run against one PostgreSQL and Redis; webhooks go through the
  gateway, the sandbox answers slowly, and one worker gets SIGTERM while it holds jobs: it takes
  no new ones and finishes those it holds (arq's job_completion_wait), the other worker does
  the rest. Every event ends `created` after exactly one run, with one record in bpm'online.
- `/metrics` of the api, the gateway and the remaining worker are scraped after the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bpmlink.db.models import Bundle, BundleStatus, Event, Operation, OperationStatus, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings
from bpmlink.webhooks import hash_webhook_token
from tests.fixtures.accounts import PASSWORD, make_workspace
from tests.fixtures.app import TEST_SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]


class Service:
    """A bpmlink service as a child process (`python -m <module>`), its output in a temp file."""

    def __init__(self, module: str, env: dict[str, str], port: int) -> None:
        self.module, self.port = module, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"{module}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, timeout: float = 90) -> None:
        # Generous: four interpreters importing at once on a small, busy CI machine take a while.
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert self.process.poll() is None, f"{self.module} exited early:\n{self.output()}"
                try:
                    if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{self.module} not ready:\n{self.output()}"
                await asyncio.sleep(0.1)

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    async def wait_exit(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            assert time.monotonic() < deadline, f"{self.module} did not stop in {timeout} s:\n{self.output()}"
            await asyncio.sleep(0.05)
        return self.process.returncode

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture
def service_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        {
            "BPMLINK_ENV": "test",
            "DATABASE_URL": settings.database_url,
            "REDIS_URL": settings.redis_url,
            "BPMLINK_SECRET_KEY": TEST_SECRET_KEY,
            "BPMLINK_OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
            "BPMLINK_LOG_FORMAT": "json",
        }
    )
    return env


@pytest.fixture
def services() -> Iterator[list[Service]]:
    started: list[Service] = []
    yield started
    for service in started:
        service.kill()


def start(services: list[Service], module: str, env: dict[str, str], port_var: str, **extra: str) -> Service:
    port = free_port()
    service = Service(module, {**env, port_var: str(port), **extra}, port)
    services.append(service)
    return service


@pytest.fixture
async def sm(settings: Settings, _clean_tables: None) -> AsyncIterator[Any]:
    engine = create_engine(settings, pool_size=2)
    yield create_sessionmaker(engine)
    await engine.dispose()


async def test_gateway_finishes_in_flight_requests_on_sigterm(
    sm: Any, service_env: dict[str, str], services: list[Service]
) -> None:
    gateway = start(services, "bpmlink_gateway", service_env, "BPMLINK_GATEWAY_PORT")
    token = f"tok{uuid.uuid4().hex}"
    async with sm() as session:
        workspace = Workspace(name="Shutdown")
        session.add(workspace)
        await session.flush()
        bundle = Bundle(
            workspace_id=workspace.id,
            name="Site form",
            status=BundleStatus.waiting,
            source_app="webhook",
            webhook_token_hash=hash_webhook_token(token),
            config={
                "name": "Site form",
                "source": {"app": "webhook", "connection_id": None, "trigger": "incoming_request", "config": {}},
                "target": {"connection_id": None, "action": "create_record", "entity": "Contact"},
                "mapping": [],
                "dedup": {"mode": "always_create"},
            },
        )
        session.add(bundle)
        await session.commit()
        bundle_id = bundle.id
    await gateway.wait_ready()

    n = 12
    halfway = asyncio.Barrier(n + 1)
    release = asyncio.Event()

    async def body(i: int) -> AsyncIterator[bytes]:
        yield b'{"email": "lead%d@example.com", ' % i
        await halfway.wait()  # every request is mid-body when SIGTERM goes out
        await release.wait()
        yield b'"n": %d}' % i

    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=30) as http:
        sends = [
            asyncio.create_task(
                http.post(f"/hooks/{token}", content=body(i), headers={"Content-Type": "application/json"})
            )
            for i in range(n)
        ]
        await asyncio.wait_for(halfway.wait(), 10)
        await asyncio.sleep(0.3)  # the first chunks reach the server
        gateway.terminate()
        await asyncio.sleep(0.5)  # uvicorn has stopped listening and waits for the open requests
        assert gateway.process.poll() is None, "the gateway must wait for in-flight requests"
        release.set()
        answers = await asyncio.gather(*sends)

    assert [a.status_code for a in answers] == [202] * n, [a.text for a in answers]
    event_ids = {uuid.UUID(a.json()["event_id"]) for a in answers}
    # uvicorn re-raises the SIGTERM it caught once shutdown is complete: "killed by SIGTERM" is its clean exit.
    assert await gateway.wait_exit(15) in (0, -signal.SIGTERM), gateway.output()
    async with sm() as session:
        stored = set(await session.scalars(select(Event.id).where(Event.bundle_id == bundle_id)))
    assert stored == event_ids


def _metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[2] or ""))
        if labels.items() <= found.items():
            total += float(match[3])
    return total


async def test_worker_sigterm_mid_load_loses_and_doubles_nothing(
    sm: Any, sandbox: Any, service_env: dict[str, str], services: list[Service]
) -> None:
    owner = await make_workspace(sm)
    gateway_port = free_port()
    env = {**service_env, "BPMLINK_PUBLIC_GATEWAY_URL": f"http://127.0.0.1:{gateway_port}"}
    api = start(services, "bpmlink_api", env, "BPMLINK_API_PORT")
    gateway = Service("bpmlink_gateway", {**env, "BPMLINK_GATEWAY_PORT": str(gateway_port)}, gateway_port)
    services.append(gateway)
    workers = [start(services, "bpmlink_worker", env, "BPMLINK_WORKER_PORT", BPMLINK_WORKER_CONCURRENCY="4")]
    workers.append(start(services, "bpmlink_worker", env, "BPMLINK_WORKER_PORT", BPMLINK_WORKER_CONCURRENCY="4"))
    await asyncio.gather(api.wait_ready(), gateway.wait_ready(), *(w.wait_ready() for w in workers))

    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
        assert login.status_code == 200, login.text
        http.headers["X-CSRF-Token"] = http.cookies["bpmlink_csrf"]
        connection = await http.post(
            "/api/v1/connections",
            json={
                "app": "bpmonline",
                "name": "Sandbox",
                "params": {"domain": sandbox.base_url, "auth": "forms", "username": sandbox.username},
                "secrets": {"password": sandbox.password},
            },
        )
        assert connection.status_code == 201, connection.text
        created = await http.post(
            "/api/v1/bundles",
            json={
                "name": "Leads",
                "source": {"app": "webhook", "trigger": "incoming_request"},
                "target": {"connection_id": connection.json()["id"], "action": "create_record", "entity": "Contact"},
                "mapping": [
                    {"target": "Name", "template": "{{ name }}"},
                    {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
                ],
                "dedup": {"mode": "update_if_found", "match_fields": ["Email"]},
            },
        )
        assert created.status_code == 201, created.text
        started = await http.post(f"/api/v1/bundles/{created.json()['id']}/start")
        assert started.status_code == 200, started.text
        webhook_url = started.json()["webhook_url"]
        bundle_id = uuid.UUID(started.json()["id"])
        api_metrics = (await http.get("/metrics")).text

    # Each bpm'online request now takes 0.25 s: jobs are in flight long enough to be cut.
    sandbox.set_faults(latency_ms=250)
    n = 16
    stamp = uuid.uuid4().hex[:8]
    emails = [f"lead{i}-{stamp}@shutdown.test" for i in range(n)]
    async with httpx.AsyncClient(timeout=30) as http:
        answers = await asyncio.gather(
            *(http.post(webhook_url, json={"name": f"Lead {i}", "email": e}) for i, e in enumerate(emails))
        )
        assert {a.status_code for a in answers} == {202}
        gateway_metrics = (await http.get(f"{gateway.base_url}/metrics")).text

        # SIGTERM the first worker while it holds jobs (its own gauge says so).
        leaving, staying = workers
        deadline = time.monotonic() + 20
        while True:
            text = (await http.get(f"{leaving.base_url}/metrics")).text
            if _metric(text, "bpmlink_worker_jobs_in_progress", function="event.process") >= 1:
                break
            assert time.monotonic() < deadline, "the worker never picked up a job"
            await asyncio.sleep(0.05)
        leaving.terminate()
        assert await leaving.wait_exit(40) == 0, leaving.output()

        deadline = time.monotonic() + 40
        while True:
            async with sm() as session:
                open_ops = await session.scalar(
                    select(func.count())
                    .select_from(Operation)
                    .where(Operation.bundle_id == bundle_id, Operation.finished_at.is_(None))
                )
            if open_ops == 0:
                break
            assert time.monotonic() < deadline, f"{open_ops} operations never finished:\n{staying.output()}"
            await asyncio.sleep(0.2)
        worker_metrics = (await http.get(f"{staying.base_url}/metrics")).text

    sandbox.clear_faults()
    async with sm() as session:
        ops = list(await session.scalars(select(Operation).where(Operation.bundle_id == bundle_id)))
    assert len(ops) == n
    # created, each after exactly one run: no job was cut and rerun, none was lost.
    assert {(op.status, op.attempts) for op in ops} == {(OperationStatus.created, 1)}, [
        (op.status, op.attempts, op.error) for op in ops
    ]
    client = sandbox.login()
    try:
        for email in emails:
            rows = client.get("/0/odata/Contact", params={"$filter": f"Email eq '{email}'"}).json()["value"]
            assert len(rows) == 1, (email, rows)
    finally:
        client.close()

    # /metrics after the run, on each service.
    assert _metric(api_metrics, "bpmlink_http_requests_total", service="api", route="/api/v1/bundles") >= 1
    assert _metric(gateway_metrics, "bpmlink_http_requests_total", route="/hooks/{token}", status="202") == n
    assert webhook_url.rsplit("/", 1)[1] not in gateway_metrics, "a webhook token must never become a label"
    done_by_staying = _metric(worker_metrics, "bpmlink_worker_jobs_total", function="event.process", outcome="created")
    assert 1 <= done_by_staying < n, "both workers took part"
    assert _metric(worker_metrics, "bpmlink_worker_job_duration_seconds_count", function="event.process") >= 1
    assert "bpmlink_queue_depth" in worker_metrics and "bpmlink_queue_oldest_ready_age_seconds" in worker_metrics
