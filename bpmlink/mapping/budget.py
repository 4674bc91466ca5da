"""The bounds on a bundle's user code for one event, and where that code runs.

A bundle's filter, mapping rules and templates are code a user wrote; one event runs
them under one `Budget`:

- a time budget (`EVENT_BUDGET` seconds) shared by the filter and every rule and
  template, checked at each condition, list element, rule and template step, so N
  rules do not get N times the time;
- caps on the size of what runs: `MAX_CONDITIONS` conditions in a filter and
  `MAX_RULES` mapping rules (refused at save, `check_sizes`; refused again at run for
  a configuration saved before the caps), and `MAX_LIST_ELEMENTS` elements of one
  list value examined by a condition (the rest are not looked at);
- regular expressions run on RE2 (`filters`), linear in the text by construction.

`off_loop` runs the synchronous part in a thread of a small pool, paced to half a CPU (`pace`), so an event loop
(the worker's lock renewals and heartbeats, the api's other requests) keeps running
while it works, and stops waiting for it shortly after the budget is spent: the
abandoned thread stops by itself at its next budget check. Each owner (workspace) has
one lane in the pool, so one tenant's slow code queues behind itself, not before the
others; time spent queueing is not taken from the budget. An owner whose call spent its
budget is quarantined (`quarantine`): for a while its calls run in other processes, off
this process's GIL.

Every limit raises `LimitExceeded`, a `MappingError` with a stable `code` and its
`params` beside the readable message.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Final, ParamSpec, TypeVar

from bpmlink.mapping import quarantine as quarantine_module
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.quarantine import SLOW_CALL, is_movable, is_quarantined, quarantine, ready_pool

EVENT_BUDGET: Final = 1.0  # seconds of filter + mapping + templates per event
MAX_CONDITIONS: Final = 100
MAX_RULES: Final = 200
MAX_LIST_ELEMENTS: Final = 100
_GRACE: Final = 0.5  # seconds past the deadline before the caller stops waiting for the thread
_THREADS: Final = 4
_SLICE: Final = 0.005  # seconds: user code runs a slice, then sleeps one (`pace`)
LANE_WAIT: Final = EVENT_BUDGET  # seconds of others' user code a call may wait behind in its lane (`Busy`)

P = ParamSpec("P")
T = TypeVar("T")


class LimitExceeded(MappingError):
    """A bound of `Budget` was reached; `code` and `params` say which, for the user's language."""

    def __init__(self, code: str, params: Mapping[str, Any], message: str, field: str | None = None) -> None:
        super().__init__(field, message)
        self.code = code
        self.params = dict(params)


_thread = threading.local()  # slice_start, move: set in the pool's threads while they run user code


class _Moved(BaseException):  # a BaseException: user code's `except Exception` must not keep it
    """Raised in a thread's user code at its next check: the call goes on in the quarantine pool."""


def pace() -> None:
    """Called at each check of user code: in a pool thread, after each _SLICE of running, sleep as
    long, so user code takes at most half of a CPU and leaves the GIL to the event loop's thread.
    (A sleep is spent budget: a hostile event gets half its budget's seconds of CPU.) Stops the call
    when it is moved to the quarantine pool."""
    move = getattr(_thread, "move", None)
    if move is not None and move.is_set():
        raise _Moved()
    started = getattr(_thread, "slice_start", None)
    if started is not None and time.monotonic() - started >= _SLICE:
        time.sleep(_SLICE)
        _thread.slice_start = time.monotonic()


class Busy(LimitExceeded):
    """The call waited behind LANE_WAIT of its owner's user code: try this event again later (its code
    is not at fault; the owner's earlier events are spending their budgets)."""

    def __init__(self) -> None:
        super().__init__(
            "mapping.busy",
            {"seconds": LANE_WAIT},
            "the workspace's filters and mappings are busy with earlier events: this one will be tried again",
        )


class Budget:
    """One event's time budget, shared by everything the event runs.

    Only time spent running counts (`running`): an event waiting for a thread of the pool, or for
    the event loop, spends none of it. `owner` (the workspace) gives the event its lane in
    `off_loop`."""

    def __init__(self, seconds: float = EVENT_BUDGET, owner: Hashable = None) -> None:
        self.seconds = seconds
        self.owner = owner
        self._used = 0.0  # seconds of the runs that ended
        self._since: float | None = None  # monotonic start of the run under way

    def remaining(self) -> float:
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self.seconds - self._used - running

    def spend(self, seconds: float) -> None:
        """Count `seconds` run elsewhere (in a process of the quarantine pool)."""
        self._used += seconds

    def check(self, field: str | None = None) -> None:
        """Raise LimitExceeded when the budget is spent (`field`: the rule or condition at work)."""
        pace()
        if self.remaining() < 0:
            raise spent(self, field)

    @contextmanager
    def running(self) -> Iterator[None]:
        """Count the time of this block (once: a block inside another is already counted)."""
        if self._since is not None:
            yield
            return
        self._since = time.monotonic()
        try:
            yield
        finally:
            self._used += time.monotonic() - self._since
            self._since = None


def spent(budget: Budget, field: str | None) -> LimitExceeded:
    """The error of a spent budget, naming the rule or condition that was at work (`field`)."""
    return LimitExceeded(
        "mapping.budget_exceeded",
        {"seconds": budget.seconds, "field": field},
        f"the filter, mapping and templates took longer than {budget.seconds:g} s for this event",
        field,
    )


def too_many(what: str, count: int, limit: int) -> LimitExceeded:
    """`what`: "conditions" or "rules"."""
    return LimitExceeded(
        f"mapping.too_many_{what}",
        {"count": count, "max": limit},
        f"{count} {what} is more than the {limit} allowed",
    )


def check_sizes(conditions: int, rules: int) -> None:
    """Refuse a filter with more than MAX_CONDITIONS conditions or more than MAX_RULES rules."""
    if conditions > MAX_CONDITIONS:
        raise too_many("conditions", conditions, MAX_CONDITIONS)
    if rules > MAX_RULES:
        raise too_many("rules", rules, MAX_RULES)


_POOL: Final = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="bpmlink-user-code")


class _Lane:
    """One owner's (workspace's) place in the pool, per event loop: a tenant whose code runs long
    holds one thread, never all of them, and its calls wait behind at most LANE_WAIT of its code
    (holding their batch and their job), then are refused, to come back later. Only user code's
    running time counts, not the loop's: cheap calls queued on a busy loop are never refused."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.ran = 0.0  # seconds the calls that ended ran in their threads
        self.since: float | None = None  # monotonic start of the call running (set in its thread)

    def used(self) -> float:
        since = self.since
        return self.ran + (time.monotonic() - since if since is not None else 0.0)


_LANES: weakref.WeakValueDictionary[tuple[int, Hashable], _Lane] = weakref.WeakValueDictionary()


async def off_loop(budget: Budget, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the user-code pool, in the budget owner's lane, with this context's
    variables and its time counted in `budget`; LimitExceeded if it has not returned shortly after
    the budget is spent (the thread is abandoned: it stops at its next budget check); Busy when it
    waited behind LANE_WAIT of the owner's user code. Either, or a `movable` call running SLOW_CALL,
    quarantines the owner: its movable calls then run in a process of the quarantine pool."""
    loop = asyncio.get_running_loop()
    lane_key = (id(loop), budget.owner)
    lane = _LANES.get(lane_key)
    if lane is None:
        lane = _LANES[lane_key] = _Lane()
    movable = is_movable(fn) and budget.owner is not None
    queued = lane.used()
    await lane.lock.acquire()
    try:
        if lane.used() - queued > LANE_WAIT:
            quarantine(budget.owner)
            raise Busy()
        pool = ready_pool() if movable and is_quarantined(budget.owner) else None
        if pool is not None:
            try:
                return await _in_process(pool, lane, budget, fn, args, kwargs)
            except BrokenProcessPool:  # a process died (killed): a new pool for the next calls, this one in a thread
                quarantine_module.discard_pool(pool)
        try:
            return await _in_thread(loop, lane, budget, movable, functools.partial(fn, *args, **kwargs))
        except _Moved:  # stopped at its check: it starts over in the pool with what is left of its budget
            pool = ready_pool()
            if pool is None:  # discarded meanwhile
                raise spent(budget, None) from None
            return await _in_process(pool, lane, budget, fn, args, kwargs)
    except LimitExceeded as exc:
        if exc.code == "mapping.budget_exceeded":
            quarantine(budget.owner)
        raise
    finally:
        lane.lock.release()


async def _in_thread(
    loop: asyncio.AbstractEventLoop, lane: _Lane, budget: Budget, movable: bool, fn: Callable[[], T]
) -> T:
    """`off_loop`'s call in a thread, with this context's variables; raises _Moved when it ran SLOW_CALL
    and was moved (`movable`, the quarantine pool up)."""
    context = contextvars.copy_context()
    started: asyncio.Future[None] = loop.create_future()
    move = threading.Event()

    def mark_started() -> None:
        if not started.done():
            started.set_result(None)

    def call() -> T:
        loop.call_soon_threadsafe(mark_started)
        start = _thread.slice_start = lane.since = time.monotonic()
        _thread.move = move
        try:
            with budget.running():
                return context.run(fn)
        finally:
            lane.ran += time.monotonic() - start
            _thread.slice_start = _thread.move = None
            if lane.since == start:  # not taken over by the next call (this one was abandoned)
                lane.since = None

    future: asyncio.Future[T] = loop.run_in_executor(_POOL, call)
    await asyncio.wait((future, started), return_when=asyncio.FIRST_COMPLETED)  # waiting is free
    if movable:
        await asyncio.wait((future,), timeout=SLOW_CALL)
        if not future.done():  # slow: its owner is quarantined, and the call moved if the pool is up
            quarantine(budget.owner)
            if ready_pool() is not None:
                move.set()
    try:
        return await asyncio.wait_for(future, timeout=max(budget.remaining(), 0.0) + _GRACE)
    except TimeoutError:
        raise spent(budget, None) from None


async def _in_process(
    pool: ProcessPoolExecutor, lane: _Lane, budget: Budget, fn: Callable[..., T], args: Any, kwargs: Any
) -> T:
    """`off_loop`'s call in a process of the quarantine pool; its time in the pool (queueing included:
    the child cannot say when it started) is counted in the lane, its running time in `budget`."""
    start = lane.since = time.monotonic()
    try:
        future = asyncio.wrap_future(pool.submit(_in_child, fn, budget, tuple(args), dict(kwargs)))
        try:
            outcome, value, used = await asyncio.wait_for(future, timeout=max(budget.remaining(), 0.0) + _GRACE)
        except TimeoutError:
            raise spent(budget, None) from None
    finally:
        lane.ran += time.monotonic() - start
        if lane.since == start:
            lane.since = None
    budget.spend(used)
    if outcome == "raised":
        raise value
    return value


def _in_child(fn: Callable[..., Any], budget: Budget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """In a pool process: `fn(*args, **kwargs)`, paced as in a thread (`pace`: half a CPU, so a hostile
    tenant's code leaves the machine's cores to the others), its time counted in (the child's copy of)
    `budget`. Returns ("ok", value, seconds used) or ("raised", exception, seconds used): the parent adds
    the seconds to its own budget, then returns or raises."""
    started = _thread.slice_start = time.monotonic()
    try:
        with budget.running():
            value = fn(*args, **kwargs)
    except Exception as exc:
        return ("raised", exc, time.monotonic() - started)
    finally:
        _thread.slice_start = None
    return ("ok", value, time.monotonic() - started)
