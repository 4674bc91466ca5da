"""The end of a batch's runs in PostgreSQL: every run's operation, event and steps in one transaction,
parking decisions, and a bundle stopped when every next event would fail the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import audit
from bpmlink.bundle_config import BundleConfig
from bpmlink.bundle_steps import StepAction
from bpmlink.db.models import FINAL_STATUSES, Bundle, BundleStatus, Event, EventState, Operation, OperationStatus, Step
from bpmlink.kit.messages import message
from bpmlink.notifications import open_incident
from bpmlink.search_terms import search_terms

from .claims import MAX_TRIES, Claimed
from .incidents import request_delivery
from .parking import park_and_resolve

if TYPE_CHECKING:
    from .context import WorkerContext

# The tables, not the ORM classes: Core statements skip the ORM's bulk-persistence layer.
OPERATIONS = cast(Table, Operation.__table__)
EVENTS = cast(Table, Event.__table__)
STEPS = cast(Table, Step.__table__)


def step_rows(claimed: Claimed) -> list[dict[str, Any]]:
    return [
        {
            "operation_id": claimed.operation_id,
            "attempt": claimed.attempts,
            "position": i,
            "system": s.system,
            "method": s.method,
            "url": s.url,
            "request_headers": s.request_headers,
            "request_body": s.request_body,
            "status": s.status,
            "response_body": s.response_body,
            "duration_ms": round(s.duration_ms),
            "error": s.error,
            "started_at": s.started_at,
        }
        for i, s in enumerate(claimed.recorder.steps)
    ]


_FINISH = (
    update(OPERATIONS)
    .where(OPERATIONS.c.id == bindparam("op_id"))
    .values(
        status=bindparam("status"),
        error=bindparam("error"),
        message=bindparam("message"),
        record_id=bindparam("record_id"),
        mapped_data=bindparam("mapped_data"),
        changes=bindparam("changes"),
        step_results=bindparam("step_results"),
        search_terms=bindparam("search_terms"),
        finished_at=bindparam("finished_at"),
    )
)


def keeps_results(config: BundleConfig) -> bool:
    """A bundle of several steps keeps what each did (a replay resumes from it), and so does one
    that runs a process (its `started` mark); the one step of round 1 is its operation."""
    return len(config.steps) > 1 or any(step.action == StepAction.run_process for step in config.steps)


def _step_results(claimed: Claimed) -> list[dict[str, Any]] | None:
    """What each step did, in the bundle's order."""
    if not keeps_results(claimed.config):
        return None
    results = claimed.step_results
    steps = claimed.config.steps
    return [results[step.key].model_dump(mode="json", exclude_defaults=True) for step in steps if step.key in results]


_SAVE_RESULTS = (
    update(OPERATIONS).where(OPERATIONS.c.id == bindparam("op_id")).values(step_results=bindparam("results"))
)


async def save_step_results(context: WorkerContext, claimed: Claimed) -> None:
    """Write the steps' results now, before a request whose sending cannot be undone (run_process)."""
    async with context.transaction() as tx:
        await tx.session.execute(_SAVE_RESULTS, {"op_id": claimed.operation_id, "results": _step_results(claimed)})


def _step_terms(claimed: Claimed) -> list[Any]:
    """Every step's record ids and values, so history finds the operation by any of them."""
    if len(claimed.config.steps) == 1:
        return []
    return [[r.record_id, r.values, [e.record_id for e in r.elements]] for r in claimed.step_results.values()]


async def write(context: WorkerContext, runs: list[Claimed]) -> None:
    """Every run's operation, event and steps in one transaction (executemany where it can)."""
    now = datetime.now(UTC)
    async with context.transaction() as tx:
        session = tx.session
        await session.execute(
            _FINISH,
            [
                {
                    "op_id": c.operation_id,
                    "status": c.status,
                    "error": c.error,
                    "message": None if c.message is None else c.message.model_dump(mode="json", exclude_none=True),
                    "record_id": c.record_id,
                    "mapped_data": c.mapped_data,
                    "changes": c.changes,
                    "step_results": _step_results(c),
                    "search_terms": search_terms(c.item, c.mapped_data, c.record_id, *_step_terms(c)),
                    "finished_at": now if c.status in FINAL_STATUSES else None,
                }
                for c in runs
            ],
        )
        done = [c.event_id for c in runs if c.status in FINAL_STATUSES]
        if done:
            await session.execute(update(EVENTS).where(EVENTS.c.id.in_(done)).values(state=EventState.done))
        steps = [row for c in runs for row in step_rows(c)]
        if steps:
            await session.execute(insert(STEPS), steps)  # one executemany
        slow = [c for c in runs if c.job_try >= MAX_TRIES]
        if slow:
            parked = [c.operation_id for c in slow if c.parked]
            gave_up = await park_and_resolve(tx, parked, [c.operation_id for c in slow if not c.parked], now)
            for c in slow:
                if c.operation_id in gave_up:
                    c.status = OperationStatus.failed  # the job's answer: its schedule ended
        for c in runs:
            if c.stop_reason:
                incident_id = await stop_bundle(session, c, c.stop_reason)
                if incident_id is not None:
                    request_delivery(tx, incident_id)


async def stop_bundle(session: AsyncSession, claimed: Claimed, reason: str) -> int | None:
    """Every next event would fail the same way: stop the bundle, say why, tell people once."""
    stopped_now = await session.scalar(
        update(Bundle)
        .where(Bundle.id == claimed.bundle_id, Bundle.status.in_((BundleStatus.running, BundleStatus.waiting)))
        .values(status=BundleStatus.error, status_reason=reason)
        .returning(Bundle.id)
    )
    if stopped_now is None:
        return None
    await audit.record_bundle_error(
        session,
        workspace_id=claimed.workspace_id,
        bundle_id=claimed.bundle_id,
        bundle_name=claimed.bundle_name,
        reason=reason,
    )
    return await open_incident(
        session,
        Bundle(id=claimed.bundle_id, workspace_id=claimed.workspace_id),
        kind="bundle_error",
        key=f"bundle_error:{claimed.bundle_id}:{claimed.operation_id}",
        words=message(
            "incident_bundle_error",
            f"the bundle «{claimed.bundle_name}» was stopped: {reason}",
            bundle=claimed.bundle_name,
            reason=reason,  # bpm'online's or bpmlink's English words, as the bundle's status_reason keeps them
        ),
    )
