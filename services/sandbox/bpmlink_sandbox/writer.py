"""Group commit for single-row writes: concurrent requests share one statement and round trip.

Each request still waits until its own row is in PostgreSQL before answering; under load many
rows travel together (`unnest` arrays), which keeps the database off the critical path.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

MAX_BATCH = 500

SQL = {
    "insert": "INSERT INTO sb_record (entity, id, data) "
              "SELECT e, i::uuid, d::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(e, i, d)",
    "update": "UPDATE sb_record s SET data = u.d::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) "
              "AS u(e, i, d) WHERE s.entity = u.e AND s.id = u.i::uuid",
    "delete": "DELETE FROM sb_record s USING unnest($1::text[], $2::text[]) AS u(e, i) "
              "WHERE s.entity = u.e AND s.id = u.i::uuid",
}
SINGLE = {
    "insert": "INSERT INTO sb_record (entity, id, data) VALUES ($1, $2::text::uuid, $3::text::jsonb)",
    "update": "UPDATE sb_record SET data = $3::text::jsonb WHERE entity = $1 AND id = $2::text::uuid",
    "delete": "DELETE FROM sb_record WHERE entity = $1 AND id = $2::text::uuid",
}

Item = tuple[str, tuple[Any, ...], "asyncio.Future[None]"]


class BatchWriter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.pending: list[Item] = []
        self.wakeup = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.conn: Any = None  # a pooled connection held between flushes (no per-write acquire/reset)
        self.flushes = 0
        self.rows = 0

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
            self.task = None
        await self._drop_connection()

    def _usable(self) -> bool:
        if self.conn is None:
            return False
        try:
            return not self.conn.is_closed()
        except asyncpg.InterfaceError:  # asyncpg already took a dead connection back from us
            return False

    async def _drop_connection(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                await self.pool.release(conn)
            except Exception:  # noqa: S110 - a broken connection is discarded either way
                pass

    async def submit(self, kind: str, *args: Any) -> None:
        """Persist one write; raises what PostgreSQL (or the connection) raised for this row."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.pending.append((kind, args, fut))
        self.wakeup.set()
        await fut

    async def _run(self) -> None:
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            while self.pending:
                batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
                self.flushes += 1
                self.rows += len(batch)
                try:
                    if not self._usable():
                        await self._drop_connection()
                        self.conn = await self.pool.acquire()
                    await self._flush(self.conn, batch)
                except Exception as exc:  # database down or connection lost: fail these writes, retry later
                    for _, _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    await self._drop_connection()

    async def _flush(self, conn: asyncpg.Connection, batch: list[Item]) -> None:
        # Consecutive writes of one kind go together; order between kinds is kept.
        start = 0
        while start < len(batch):
            end = start
            kind = batch[start][0]
            while end < len(batch) and batch[end][0] == kind:
                end += 1
            group = batch[start:end]
            start = end
            try:
                columns = list(zip(*(args for _, args, _ in group), strict=True))
                await conn.execute(SQL[kind], *[list(c) for c in columns])
            except (asyncpg.PostgresError, OSError):
                # Find the culprit(s): replay row by row so each caller gets its own error.
                for _, args, fut in group:
                    try:
                        await conn.execute(SINGLE[kind], *args)
                    except (asyncpg.PostgresError, OSError) as exc:
                        if not fut.done():
                            fut.set_exception(exc)
                    else:
                        if not fut.done():
                            fut.set_result(None)
                continue
            for _, _, fut in group:
                if not fut.done():
                    fut.set_result(None)
