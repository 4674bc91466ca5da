"""Group concurrent calls into batches: whoever waits while batches run goes in the next one.

A lone call starts a batch of one on the next loop turn, so an idle worker adds no latency.
While a batch runs, calls pile up; the next batch starts when it ends, or sooner — up to
`max_running` at once — when a full batch (`max_size`) is waiting or the newest running batch
has run for `overlap_after` seconds: batches stay large while the work is CPU-bound (they end
sooner) and overlap while they wait on a slow server.

While `held()` says so (a connection's rate limit is what waits), batches grow to `held_size` and
another starts alongside only when a full one waits or the newest has run `held_overlap_after`:
under a request budget, a batch of 100 events costs the requests a batch of 10 does.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        max_size: int,
        max_running: int,
        overlap_after: float = 0.1,
        held: Callable[[], bool] | None = None,
        held_size: int | None = None,
        held_overlap_after: float = 0.5,
    ) -> None:
        self._run = run
        self.max_size = max_size
        self.max_running = max_running
        self.overlap_after = overlap_after
        self._held = held
        self.held_size = held_size or max_size
        self.held_overlap_after = held_overlap_after
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._newest_start = 0.0
        self._start_scheduled = False
        self._timer: asyncio.TimerHandle | None = None

    async def submit(self, item: T) -> R:
        """Run `item` in a batch and return its result (or raise the batch's error)."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._start_scheduled:
            # On the next loop turn, so the calls made in this one share a batch.
            self._start_scheduled = True
            asyncio.get_running_loop().call_soon(self._start)
        return await future

    def _start(self) -> None:
        self._start_scheduled = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting and len(self._running) < self.max_running:
            held = self._held is not None and self._held()
            size, overlap = (self.held_size, self.held_overlap_after) if held else (self.max_size, self.overlap_after)
            wait = self._newest_start + overlap - time.monotonic()
            if self._running and len(self._waiting) < size and wait > 0:
                self._timer = asyncio.get_running_loop().call_later(wait, self._start)
                return
            self._newest_start = time.monotonic()
            batch, self._waiting = self._waiting[:size], self._waiting[size:]
            batch = [(item, future) for item, future in batch if not future.done()]  # a cancelled caller
            if not batch:
                continue
            # A fresh context: the batch's logs must not carry the ids of the call that started it.
            task = asyncio.create_task(self._run_batch(batch), context=contextvars.Context())
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._start()

    async def _run_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def aclose(self) -> None:
        """Wait for the running batches (their callers may be gone; their rows must still be written)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
