"""Owners (workspaces) whose user code ran out of its budget: their code runs in other processes.

A thread of `budget.off_loop` shares its process's GIL: paced to half a CPU, it still took turns from the
event loop, and a tenant whose every event spent its whole budget slowed every other tenant's events (issue
#19: the neighbour's p99 went 2.5×). An owner whose call spent its budget, or waited its lane out (`Busy`),
is quarantined for QUARANTINE_SECONDS, renewed at each such call. Meanwhile its calls run in a small pool
of worker processes (niced, and paced as threads are, so they leave the machine's cores to the others),
and the worker's batches do not wait for its events (`bpmlink_worker.process`).

Only functions marked `movable` go there (module-level, pure, arguments and results picklable: the
filter's `explain`, the engine's `build_values`). A movable call that runs SLOW_CALL in its thread
quarantines its owner and is moved: the thread stops at its next check and the call starts over in the
pool, under what is left of its budget, so a hostile tenant's first event takes the GIL for a tenth of a
second, not its whole budget. The worker starts the pool with its context (`start_pool`); elsewhere it
starts at the first quarantine, and calls stay in threads until its processes are up. An abandoned call
stops at its next budget check, as a thread does, its process then free again.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Final, TypeVar

QUARANTINE_SECONDS: Final = 60.0
SLOW_CALL: Final = 0.1  # seconds a movable call runs in a thread before its owner is quarantined
PROCESSES: Final = 2
_NICENESS: Final = 10

_MOVABLE: set[Callable[..., Any]] = set()
F = TypeVar("F", bound=Callable[..., Any])


def movable(fn: F) -> F:
    """Mark `fn` as fit to run in a pool process (module-level, pure, picklable arguments and result)."""
    _MOVABLE.add(fn)
    return fn


def is_movable(fn: Callable[..., Any]) -> bool:
    return fn in _MOVABLE


_until: dict[Hashable, float] = {}  # owner → monotonic end of its quarantine
_lock = threading.Lock()  # the pool is made once, whichever loop or thread asks first
_pool: ProcessPoolExecutor | None = None
_ready = threading.Event()  # set once every process of the pool has started


def quarantine(owner: Hashable) -> None:
    """`owner`'s user code ran out of its budget: run its calls in the pool for QUARANTINE_SECONDS."""
    if owner is None:
        return
    now = time.monotonic()
    if len(_until) > 10_000:  # ended quarantines, dropped now and then
        for key in [k for k, end in _until.items() if end <= now]:
            del _until[key]
    _until[owner] = now + QUARANTINE_SECONDS
    start_pool()


def is_quarantined(owner: Hashable) -> bool:
    end = _until.get(owner)
    return end is not None and end > time.monotonic()


def release(owner: Hashable) -> None:
    """End `owner`'s quarantine now (the tests: one quarantine per test)."""
    _until.pop(owner, None)


def ready_pool() -> ProcessPoolExecutor | None:
    """The process pool, once its processes are up; None before (the calls stay in threads)."""
    return _pool if _ready.is_set() else None


def start_pool() -> None:
    """Start the pool's processes (once per process; they are up shortly after, see `ready_pool`)."""
    global _pool
    with _lock:
        if _pool is not None:
            return
        # spawn, not fork: the parent has threads and an event loop a forked child would inherit mid-step.
        _pool = ProcessPoolExecutor(
            max_workers=PROCESSES, mp_context=multiprocessing.get_context("spawn"), initializer=_lower_priority
        )
        warming = [_pool.submit(_started) for _ in range(PROCESSES)]
    remaining = [len(warming)]

    def one_started(_: Future[int]) -> None:
        with _lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                _ready.set()

    for future in warming:
        future.add_done_callback(one_started)


def _lower_priority() -> None:
    os.nice(_NICENESS)


def _started() -> int:
    time.sleep(0.05)  # held a moment, so each warm-up call starts a process of its own
    return os.getpid()


def discard_pool(pool: ProcessPoolExecutor) -> None:
    """A process of `pool` died: the next quarantine starts a new pool."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
            _ready.clear()
    pool.shutdown(wait=False, cancel_futures=True)
