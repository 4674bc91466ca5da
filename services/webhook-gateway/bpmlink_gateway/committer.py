"""Group commit: webhooks that arrive together share one INSERT statement, so one transaction and one commit.

Each request hands its row to `GroupCommitter.store` and waits. When no batch is running, a batch starts
at once with what waits (a lone request pays no delay); while one runs, the rows that arrive meanwhile
wait and form the next batch, so under load a batch grows by itself. `store` returns only once its row's
statement has committed — the caller may answer 202 — and each request gets its own result: a resend
learns the id of the event it repeats (in the same batch or an earlier one).

A batch that fails:
- on the data of some row (SQLSTATE class 22/23, or a deadlock / serialization failure, class 40) is
  stored again row by row, so only the row at fault fails, and only its request answers an error;
- otherwise (PostgreSQL unreachable, timeout, …) every request of the batch gets the error: nothing of
  the batch was committed (one statement, one transaction), so none of them answers 202.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from bpmlink.events import EventRow, StoredEvent, store_events_now

log = logging.getLogger("bpmlink.gateway")

MAX_BATCH = 256
MAX_IN_FLIGHT = 2  # batches running at once: one on the wire while the next one's rows gather
DB_TIMEOUT_SECONDS = 10.0
_ROW_FAULTS = ("22", "23", "40")  # data exception, integrity violation, transaction rollback (deadlock)


class NotStored(Exception):
    """The row conflicted with an event deleted before its id could be read: not stored, retry later."""


def _row_fault(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg.PostgresError) and isinstance(state, str) and state[:2] in _ROW_FAULTS


def _time_out(future: asyncio.Future[StoredEvent]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("the event was not stored in time"))


Waiter = tuple[EventRow, "asyncio.Future[StoredEvent]"]


class GroupCommitter:
    def __init__(
        self,
        db: asyncpg.Pool,
        *,
        max_batch: int = MAX_BATCH,
        max_in_flight: int = MAX_IN_FLIGHT,
        timeout: float = DB_TIMEOUT_SECONDS,
        wait_timeout: float = DB_TIMEOUT_SECONDS,
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.timeout = timeout  # of a group's statements
        self.wait_timeout = wait_timeout  # of a caller's wait, its group's turn included
        self._waiting: list[Waiter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = 0
        self.batches = 0  # statements run (for tests and profiling)

    async def store(self, row: EventRow) -> StoredEvent:
        """Committed when it returns; TimeoutError after `wait_timeout`. A caller that stops waiting (cancelled,
        timed out) cancels only its own wait: its row may still be committed with its group, as a single
        statement cancelled after its commit would be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredEvent] = loop.create_future()
        timer = loop.call_later(self.wait_timeout, _time_out, future)
        self._waiting.append((row, future))
        if self._running < self.max_in_flight:
            self._running += 1  # counted here and uncounted in _run with no await between check and exit
            task = asyncio.create_task(self._run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            return await future
        finally:
            timer.cancel()

    async def drain(self) -> None:
        """Wait for every batch started or waiting (at shutdown, before the pool closes)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                try:
                    await self._commit(batch)
                except BaseException:  # cancelled (loop shutdown) or a bug: never leave a request waiting
                    for _, future in batch:
                        future.cancel()
                    raise
        finally:
            self._running -= 1

    async def _commit(self, batch: list[Waiter]) -> None:
        self.batches += 1
        try:
            results = await store_events_now(self.db, [row for row, _ in batch], timeout=self.timeout)
        except Exception as exc:
            if len(batch) > 1 and _row_fault(exc):
                log.warning("a group of %d events failed (%s); storing them one by one", len(batch), exc)
                for waiter in batch:
                    await self._commit([waiter])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), stored in zip(batch, results, strict=True):
            if future.done():  # only a cancelled wait's future is done: nobody listens
                continue
            if stored is None:
                future.set_exception(NotStored("conflict with an event that is gone"))
            else:
                future.set_result(stored)
