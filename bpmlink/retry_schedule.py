"""The slow retries of an operation parked after its fast tries (issue #19 §10).

An operation whose fast tries (`event.process`'s MAX_TRIES, a few minutes) all met a transient error is
parked: status `retrying`, `parked_at` set, `next_attempt_at` the next slow try. The slow tries follow
the workspace's schedule, counted from `parked_at`: the delays in turn, the last one repeated, until
`give_up_after_seconds` have passed; the last try falls at that end, and when it fails too the
operation is `failed` (and can be replayed). The schedule is data so a test can make it seconds long.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bpmlink.events import process_job_id

DEFAULT_DELAYS_SECONDS = (600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)  # 10 min, 30 min, 1 h, 3 h, 6 h, 12 h
DEFAULT_GIVE_UP_AFTER_SECONDS = 72 * 3600

# The `event.process` job's second argument on a slow try: the run counts as past its fast tries.
PARKED = "parked"
# The job the api queues when a connection test succeeds: that connection's parked operations, now.
RETRY_CONNECTION = "connection.retry_parked"
# The job of one bundle's due parked operations, one match key's after the other (the worker's parked_retries.py).
RETRY_IN_ORDER = "operation.retry_parked_in_order"


@dataclass(frozen=True)
class RetrySchedule:
    delays_seconds: tuple[int, ...] = DEFAULT_DELAYS_SECONDS
    give_up_after_seconds: int = DEFAULT_GIVE_UP_AFTER_SECONDS

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> RetrySchedule:
        """A workspace's `retry_schedule` column (None or a partial object: the defaults fill in)."""
        raw = raw or {}
        return cls(
            delays_seconds=tuple(raw.get("delays_seconds") or DEFAULT_DELAYS_SECONDS),
            give_up_after_seconds=int(raw.get("give_up_after_seconds") or DEFAULT_GIVE_UP_AFTER_SECONDS),
        )

    def next_attempt(self, parked_at: datetime, now: datetime) -> datetime | None:
        """When the slow try after `now` is due; None when the schedule has ended (the operation fails)."""
        end = parked_at + timedelta(seconds=self.give_up_after_seconds)
        if now >= end:
            return None
        elapsed = (now - parked_at).total_seconds()
        due = 0.0
        for delay in self.delays_seconds:
            due += delay
            if due > elapsed:
                return min(parked_at + timedelta(seconds=due), end)
        last = self.delays_seconds[-1]
        repeats = int((elapsed - due) // last) + 1  # the last delay, repeated past the list
        return min(parked_at + timedelta(seconds=due + repeats * last), end)


def in_order_job_id(bundle_id: uuid.UUID) -> str:
    """One RETRY_IN_ORDER job per bundle: a second enqueue while it waits or runs is a no-op."""
    return f"{RETRY_IN_ORDER}:{bundle_id}"


def parked_job_id(event_id: uuid.UUID, attempts: int) -> str:
    """One slow try per attempt count: a second enqueue of a waiting or running try is a no-op."""
    return process_job_id(event_id, f"parked{attempts}")
