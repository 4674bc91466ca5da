"""The worker's context: everything a job uses, made once at start-up by `open_context`.

arq passes each job a dict (its own facts: job id, try, score) with our context under
`CONTEXT_KEY`; the job wrapper (`jobs.py`) hands the job this typed object instead. Nothing
here is made on first use: arq gives every job a copy of its dict, so a client stored by a job
was lost with it (each poll built, and leaked, a client and two TLS contexts — ~70% of the
workers' CPU at 2,000 polling bundles).

A job's unit of work is `transaction()`: one session, committed when the block ends, then the
jobs it asked for are sent — never before the commit, and not at all when the block raises
(as the API's request session in `bpmlink_api/deps.py`). Services and repositories flush.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bpmlink.bpmonline.limits import rate_waiting
from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.db.session import create_engine, create_sessionmaker, driver_url, rollback_if_open
from bpmlink.events import enqueue_committed
from bpmlink.kit.queue import create_redis
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings
from bpmlink.mapping import quarantine
from bpmlink.sources import FetchEnv
from bpmlink.sources.http_polling import make_client

from .batcher import Batcher
from .claims import Claimed
from .process import BATCH_SIZE, BATCHES_RUNNING, HELD_BATCH_SIZE, process_events

POLL_POOL_SIZE = 10  # polls hold a connection for one statement at a time, never while the source answers


class Transaction:
    """One transaction of a job: its session, and the jobs to send once it has committed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.jobs: list[tuple[str, tuple[Any, ...], str]] = []
        self.event_ids: list[uuid.UUID] = []

    def enqueue(self, function: str, *args: Any, job_id: str) -> None:
        self.jobs.append((function, args, job_id))

    def enqueue_events(self, event_ids: Sequence[uuid.UUID]) -> None:
        """`event.process` for these events; if Redis fails they stay `pending` for the sweeper."""
        self.event_ids += event_ids


EventBatcher = Batcher[tuple[uuid.UUID, int], Claimed | None]


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis  # arq's own pool: jobs that enqueue jobs
    redis: aioredis.Redis  # a plain client: locks, caches
    secret_box: SecretBox
    bpm_clients: BpmClientPool
    source_http: httpx.AsyncClient  # one guarded client for every source request of the process
    fetch_env: FetchEnv
    # The polls' statements run on a raw asyncpg pool, not ORM sessions: SQLAlchemy's pool checks every
    # connection it hands out (BEGIN, a ping, ROLLBACK: three round trips) and the ORM loads whole rows,
    # which together were most of a poll's CPU.
    db: asyncpg.Pool
    event_batcher: EventBatcher  # event.process jobs running together share a batch

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A session committed when the block ends, then its jobs sent; rolled back (jobs dropped) if it raises."""
        async with self.sessionmaker.begin() as session:
            tx = Transaction(session)
            yield tx
        for function, args, job_id in tx.jobs:
            await self.queue.enqueue_job(function, *args, _job_id=job_id)
        if tx.event_ids:
            await enqueue_committed(self.queue, tx.event_ids)


async def open_context(settings: Settings, queue: ArqRedis) -> WorkerContext:
    """The worker's context over arq's pool `queue`; connects to nothing yet (the worker starts while
    PostgreSQL or Redis is away). `close_context` releases it."""
    engine = create_engine(settings, pool_size=min(settings.worker_concurrency, 20))
    redis = create_redis(settings)
    bpm_clients = BpmClientPool(settings=settings, redis=redis)
    db = await asyncpg.create_pool(
        driver_url(settings),
        min_size=0,
        max_size=POLL_POOL_SIZE,
        server_settings={"application_name": "bpmlink-polling"},
        reset=rollback_if_open,
    )

    async def process(jobs: list[tuple[uuid.UUID, int]]) -> list[Claimed | None]:
        return await process_events(context, jobs)  # `context` exists before any job is submitted

    quarantine.start_pool()  # up before a hostile bundle needs it (bpmlink/mapping/quarantine.py)
    context = WorkerContext(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        queue=queue,
        redis=redis,
        secret_box=SecretBox(settings),
        bpm_clients=bpm_clients,
        source_http=make_client(settings),
        fetch_env=FetchEnv(settings=settings, redis=redis, bpm_clients=bpm_clients),
        db=db,
        event_batcher=Batcher(
            process, max_size=BATCH_SIZE, max_running=BATCHES_RUNNING, held=rate_waiting, held_size=HELD_BATCH_SIZE
        ),
    )
    return context


async def close_context(context: WorkerContext) -> None:
    await context.event_batcher.aclose()  # running batches write their rows first
    await context.source_http.aclose()
    await context.bpm_clients.aclose()
    await context.redis.aclose()
    context.db.terminate()  # as the engine's pool: connections still checked out are closed too
    await context.engine.dispose()
