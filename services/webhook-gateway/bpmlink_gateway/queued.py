"""Marking enqueued events `queued`, batched off the request path.

After the commit and a successful enqueue an event is in Redis but its row still says
`pending`. Marking it one row per request would cost a second transaction on the hot path,
so ids are collected and flushed in one UPDATE every FLUSH_SECONDS. If a flush is lost
(crash, database blip) nothing breaks: the sweeper re-enqueues pending events, and the
deterministic job id makes that a no-op for jobs that are already in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .repository import mark_queued

log = logging.getLogger("bpmlink.gateway")

FLUSH_SECONDS = 0.25
MAX_BATCH = 2000


class QueuedMarks:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], interval: float = FLUSH_SECONDS) -> None:
        self.sessionmaker = sessionmaker
        self.interval = interval
        self._ids: list[uuid.UUID] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, event_id: uuid.UUID) -> None:
        self._ids.append(event_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-queued-marks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> int:
        marked = 0
        while self._ids:
            batch, self._ids = self._ids[:MAX_BATCH], self._ids[MAX_BATCH:]
            try:
                async with self.sessionmaker() as session:
                    marked += await mark_queued(session, batch)
                    await session.commit()
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                # Left pending: the sweeper re-enqueues them (a no-op in Redis) and marks them.
                log.warning("could not mark %d events queued: %s", len(batch), exc)
        return marked

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
