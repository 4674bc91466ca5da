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

`off_loop` runs the synchronous part in a thread of a small pool, so an event loop
(the worker's lock renewals and heartbeats, the api's other requests) keeps running
while it works, and stops waiting for it shortly after the budget is spent: the
abandoned thread stops by itself at its next budget check.

Every limit raises `LimitExceeded`, a `MappingError` with a stable `code` and its
`params` beside the readable message.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, ParamSpec, TypeVar

from bpmlink.mapping.errors import MappingError

EVENT_BUDGET: Final = 1.0  # seconds of filter + mapping + templates per event
MAX_CONDITIONS: Final = 100
MAX_RULES: Final = 200
MAX_LIST_ELEMENTS: Final = 100
_GRACE: Final = 0.5  # seconds past the deadline before the caller stops waiting for the thread
_THREADS: Final = 4

P = ParamSpec("P")
T = TypeVar("T")


class LimitExceeded(MappingError):
    """A bound of `Budget` was reached; `code` and `params` say which, for the user's language."""

    def __init__(self, code: str, params: Mapping[str, Any], message: str, field: str | None = None) -> None:
        super().__init__(field, message)
        self.code = code
        self.params = dict(params)


class Budget:
    """One event's time budget (monotonic deadline), shared by everything the event runs."""

    def __init__(self, seconds: float = EVENT_BUDGET) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self, field: str | None = None) -> None:
        """Raise LimitExceeded when the budget is spent (`field`: the rule or condition at work)."""
        if time.monotonic() > self.deadline:
            raise spent(self, field)


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


async def off_loop(budget: Budget, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in the user-code pool (with this context's variables); raise
    LimitExceeded if it has not returned shortly after the budget's deadline."""
    call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    future = asyncio.get_running_loop().run_in_executor(_POOL, call)
    try:
        return await asyncio.wait_for(future, timeout=max(budget.remaining(), 0.0) + _GRACE)
    except TimeoutError:
        raise spent(budget, None) from None
