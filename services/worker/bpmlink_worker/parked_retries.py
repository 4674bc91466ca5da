"""The slow tries of parked operations: one match key's one after the other, oldest first (issue #19 §10).

When a connection answers again, every operation parked behind it is due at once. Run as separate jobs,
two events of one match key could be pushed in either order (a CI run ended with the sixth event's values
instead of the tenth's): the match-key lock keeps them from both creating, not from changing places. So
`parking.enqueue_due` queues one job per bundle with its due events, oldest first, and this job groups
them by match key (the values mapped at their last try, under the bundle's dedup policy; events that
share any group's key are one key here) and runs each
key's events in turn, the keys side by side (their runs still share the worker's batches). A key's turn
stops at the first event that does not end (parked again): the ones after it stay parked for a later slow
try, so none overtakes it. An event never mapped (its connection was down from the start) has no key to
group by: then the bundle's events all take one turn.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Hashable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.bundle_config import BundleConfig
from bpmlink.db.models import FINAL_STATUSES, Operation
from bpmlink.mapping.dedup import DedupMode, DedupPolicy, match_keys
from bpmlink.retry_schedule import RETRY_IN_ORDER

from .claims import MAX_TRIES, bundle_configs
from .jobs import JobRun, job
from .process import run_event

if TYPE_CHECKING:
    from .context import WorkerContext


async def key_turns(session: AsyncSession, bundle_id: uuid.UUID, event_ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    """The events in turns: one per match key, each oldest first (with the order of `event_ids` for ties)."""
    rows = (
        await session.execute(
            select(Operation.event_id, Operation.mapped_data, Operation.config_version)
            .where(Operation.bundle_id == bundle_id, Operation.event_id.in_(event_ids))
            .order_by(Operation.created_at)
        )
    ).all()
    configs = await bundle_configs(session, {(bundle_id, row.config_version) for row in rows})
    # Events that share any group's key share a turn (they could find one record): a union-find.
    turn_of: dict[Hashable, Hashable] = {}

    def root(key: Hashable) -> Hashable:
        while turn_of.setdefault(key, key) != key:
            key = turn_of[key]
        return key

    keys_of: dict[uuid.UUID, list[Hashable]] = {}
    for event_id, mapped, version in rows:
        policy = _first_policy(configs[(bundle_id, version)])
        if policy.mode == DedupMode.ALWAYS_CREATE:
            keys: list[Hashable] = [event_id]  # a record of its own: no order to keep
        elif mapped is None:
            return [[row.event_id for row in rows]]  # a key unknown: every event in one turn
        else:
            keys = [*match_keys(policy, mapped)] or [event_id]  # an empty match value matches nothing
        keys_of[event_id] = keys
        for key in keys[1:]:
            turn_of[root(key)] = root(keys[0])
    turns: dict[Hashable, list[uuid.UUID]] = {}
    for event_id, _, _ in rows:
        turns.setdefault(root(keys_of[event_id][0]), []).append(event_id)
    return list(turns.values())


async def _take_turn(context: WorkerContext, turn: list[uuid.UUID]) -> int:
    for done, event_id in enumerate(turn):
        run = await run_event(context, event_id, MAX_TRIES)  # a slow try: a failure parks it again
        if run is not None and run.status not in FINAL_STATUSES:
            return done  # the rest wait behind it, still parked
    return len(turn)


# One job per bundle at a time (its id), kept no longer than it runs, so the next cron can queue it again.
@job(RETRY_IN_ORDER, max_tries=3, transaction=False, keep_result=0)
async def retry_in_order(run: JobRun, bundle_id: str, event_ids: list[str]) -> int:
    """The slow tries of one bundle's due parked operations; returns how many ended."""
    async with run.context.sessionmaker() as session:
        turns = await key_turns(session, uuid.UUID(bundle_id), [uuid.UUID(e) for e in event_ids])
    return sum(await asyncio.gather(*(_take_turn(run.context, turn) for turn in turns)))


def _first_policy(config: BundleConfig) -> DedupPolicy:
    """The dedup policy of the first step that searches: the values an operation keeps are its."""
    return next((step.dedup for step in config.steps if step.searches), DedupPolicy())
