"""Group commit: webhooks that arrive together share one INSERT statement, so one transaction and one commit.

Each request hands its row to `GroupCommitter.store` and waits. When no batch is running, a batch starts
at once with what waits (a lone request pays no delay); while one runs, the rows that arrive meanwhile
wait and form the next batch, so under load a batch grows by itself. `store` returns only once its row's
statement has committed — the caller may answer 202 — and each request gets its own result: a resend
learns the id of the event it repeats (in the same batch or an earlier one). A request that becomes several
events (a source app's split) hands them over together (`store_request`): they are rows of one statement,
committed together or not at all, and a batch never separates them.

A batch that fails:
- on the data of some row (SQLSTATE class 22/23, or a deadlock / serialization failure, class 40) is
  stored again request by request, so only the request at fault fails and answers an error;
- otherwise (PostgreSQL unreachable, timeout, …) every request of the batch gets the error: nothing of
  the batch was committed (one statement, one transaction), so none of them answers 202.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from bpmlink.events import EventRow, StoredEvent, store_events_now

log = logging.getLogger("bpmlink.gateway")

MAX_BATCH = 256  # rows of one statement; a request with more rows is a statement of its own
MAX_IN_FLIGHT = 2  # batches running at once: one on the wire while the next one's rows gather
DB_TIMEOUT_SECONDS = 10.0
_ROW_FAULTS = ("22", "23", "40")  # data exception, integrity violation, transaction rollback (deadlock)


class NotStored(Exception):
    """The row conflicted with an event deleted before its id could be read: not stored, retry later."""


def _row_fault(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    return isinstance(exc, asyncpg.PostgresError) and isinstance(state, str) and state[:2] in _ROW_FAULTS


def _time_out(future: asyncio.Future[list[StoredEvent]]) -> None:
    if not future.done():
        future.set_exception(TimeoutError("the event was not stored in time"))


Waiter = tuple[list[EventRow], "asyncio.Future[list[StoredEvent]]"]


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
        """One request's one event: `store_request` of one row."""
        [stored] = await self.store_request([row])
        return stored

    async def store_request(self, rows: list[EventRow]) -> list[StoredEvent]:
        """One request's events, committed together when it returns (results in the order of `rows`);
        TimeoutError after `wait_timeout`. A caller that stops waiting (cancelled, timed out) cancels only its
        own wait: its rows may still be committed with their group, as a single statement cancelled after its
        commit would be."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[StoredEvent]] = loop.create_future()
        timer = loop.call_later(self.wait_timeout, _time_out, future)
        self._waiting.append((rows, future))
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
                batch = self._next_batch()
                try:
                    await self._commit(batch)
                except BaseException:  # cancelled (loop shutdown) or a bug: never leave a request waiting
                    for _, future in batch:
                        future.cancel()
                    raise
        finally:
            self._running -= 1

    def _next_batch(self) -> list[Waiter]:
        """The waiting requests whose rows fit in `max_batch` (at least one request, whatever its size)."""
        count = rows = 0
        while count < len(self._waiting) and (count == 0 or rows + len(self._waiting[count][0]) <= self.max_batch):
            rows += len(self._waiting[count][0])
            count += 1
        batch, self._waiting = self._waiting[:count], self._waiting[count:]
        return batch

    async def _commit(self, batch: list[Waiter]) -> None:
        self.batches += 1
        try:
            results = await store_events_now(self.db, [row for rows, _ in batch for row in rows], timeout=self.timeout)
        except Exception as exc:
            if len(batch) > 1 and _row_fault(exc):
                log.warning("a group of %d requests failed (%s); storing them one by one", len(batch), exc)
                for waiter in batch:
                    await self._commit([waiter])
                return
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for rows, future in batch:
            stored, start = results[start : start + len(rows)], start + len(rows)
            if future.done():  # only a cancelled wait's future is done: nobody listens
                continue
            if any(s is None for s in stored):
                future.set_exception(NotStored("conflict with an event that is gone"))
            else:
                future.set_result([s for s in stored if s is not None])
