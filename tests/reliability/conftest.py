"""Helpers for the fault-injection suite: services as child processes, a waiting loop, the checks every
fault test ends with (one terminal operation per accepted event, the expected records in the sandbox,
nothing left `processing`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import FINAL_STATUSES, Operation, OperationStatus
from bpmlink.kit.embedded import free_port
from bpmlink.kit.settings import Settings
from tests.fixtures.app import TEST_SECRET_KEY
from tests.fixtures.pipeline import sandbox_rows

ROOT = Path(__file__).resolve().parents[2]


class Service:
    """`python -m <module>` as a child process, its output in a temp file (shown when an assert fails)."""

    def __init__(self, module: str, env: dict[str, str], port: int) -> None:
        self.module, self.port, self.env = module, port, env
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"{module}-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, timeout: float = 90) -> None:
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

    def sigkill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture
def service_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BPMLINK_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        BPMLINK_ENV="test",
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url,
        BPMLINK_SECRET_KEY=TEST_SECRET_KEY,
        BPMLINK_OUTBOUND_ALLOW_HOSTS="127.0.0.1,localhost",
        BPMLINK_LOG_FORMAT="json",
    )
    return env


@pytest.fixture
def services() -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(module: str, env: dict[str, str], port_var: str, **extra: str) -> Service:
        port = free_port()
        service = Service(module, {**env, port_var: str(port), **extra}, port)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.3) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(interval)


async def operations(sm: async_sessionmaker[AsyncSession], bundle_ids: list[str]) -> list[Operation]:
    async with sm() as session:
        ids = [uuid.UUID(b) for b in bundle_ids]
        return list(await session.scalars(select(Operation).where(Operation.bundle_id.in_(ids))))


async def all_final(sm: async_sessionmaker[AsyncSession], bundle_ids: list[str], expected: int) -> bool:
    ops = await operations(sm, bundle_ids)
    return len(ops) >= expected and all(op.status in FINAL_STATUSES for op in ops)


async def assert_delivered_once(
    sm: async_sessionmaker[AsyncSession],
    sandbox: Any,
    accepted: dict[uuid.UUID, str],
    bundle_ids: list[str],
) -> list[Operation]:
    """Every accepted event (id → e-mail) has exactly one operation, terminal and successful; the sandbox
    holds exactly one Contact per distinct e-mail; nothing is left `processing`."""
    ops = await operations(sm, bundle_ids)
    by_event: dict[uuid.UUID, list[Operation]] = {}
    for op in ops:
        by_event.setdefault(op.event_id, []).append(op)
    assert set(by_event) == set(accepted), "operations and accepted events differ"
    assert all(len(v) == 1 for v in by_event.values()), "an event has more than one operation"
    ok = {OperationStatus.created, OperationStatus.updated, OperationStatus.unchanged}
    bad = [(op.status, op.error) for op in ops if op.status not in ok]
    assert not bad, f"operations not delivered: {bad[:5]}"
    assert not [op for op in ops if op.status == OperationStatus.processing]
    for email in set(accepted.values()):
        rows = sandbox_rows(sandbox, "Contact", f"Email eq '{email}'")
        assert len(rows) == 1, f"{len(rows)} records for {email}"
    return ops


@pytest.fixture
async def arq_pool(settings: Settings) -> AsyncIterator[Any]:
    from bpmlink.kit.queue import create_arq_pool

    pool = await create_arq_pool(settings)
    yield pool
    await pool.aclose()
