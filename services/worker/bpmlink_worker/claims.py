"""The claim of a batch's events: one statement marks their operations processing and reads what each
run needs (`Claimed`); the cases it skips are settled (`settle`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Integer, String, Table, bindparam, select, text, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.connections import get_connection
from bpmlink.db.models import (
    FINAL_STATUSES,
    Bundle,
    BundleVersion,
    Connection,
    Event,
    EventState,
    Operation,
    OperationStatus,
)
from bpmlink.kit.messages import Message
from bpmlink.step_results import StepResult

MAX_TRIES = 8  # runs of one job (arq's job_try) before the operation fails for good


@dataclass(eq=False)  # runs are told apart by identity (dict keys in the step runner)
class Claimed:
    """What one run needs of its event, operation and bundle, read by the claiming statement."""

    event_id: uuid.UUID
    operation_id: uuid.UUID
    workspace_id: uuid.UUID
    bundle_id: uuid.UUID
    bundle_name: str
    attempts: int
    item: dict[str, Any]
    config: BundleConfig
    config_version: int
    job_try: int = 1
    # The steps' bpm'online connections (None: deleted), read with the claim.
    connections: dict[uuid.UUID, Connection | None] = field(default_factory=dict)
    # What each step did: read with the claim (a replay resumes after the finished steps), then
    # filled in by this run.
    step_results: dict[str, StepResult] = field(default_factory=dict)
    stopped: str | None = None  # the step whose find found nothing and ended the run
    mapped_data: dict[str, Any] | None = None
    changes: dict[str, Any] | None = None  # the first step's update: {column: [old, new]}
    recorder: StepRecorder = field(default_factory=StepRecorder)
    # The end of this run, set by _end_push / _fail:
    status: OperationStatus = OperationStatus.processing
    error: str | None = None
    message: Message | None = None  # the error (or note) as a code + params; `error` is its English
    record_id: uuid.UUID | None = None
    retry_in: float | None = None
    parked: bool = False  # past its fast tries, still failing transiently: parking.park_and_resolve decides
    stop_reason: str | None = None
    # Set when push_many handed the event back: the rest of its run (that push, then the later
    # steps), in the job's own task (once, whichever job of this event gets there first: alone_task).
    rest: Callable[[], Awaitable[None]] | None = None
    alone_task: asyncio.Task[None] | None = None
    # Set when its bundle's run was still under way as the batch ended (see _run_bundles): the
    # job awaits it, then finishes as above.
    late: asyncio.Task[None] | None = None


_UNFINISHED = tuple(s.value for s in OperationStatus if s not in FINAL_STATUSES)
# One statement marks the operations processing (locking their rows like SELECT … FOR UPDATE) and
# reads the events and their bundles; anything unusual falls to settle. The bundle's configuration
# is read apart, once per version a process has not parsed yet (decoding it for every event cost
# 5% of the worker's CPU).
_CLAIM = (
    text(
        """
    UPDATE operations AS o
    SET status = 'processing', attempts = o.attempts + 1, config_version = b.config_version, updated_at = now()
    FROM events AS e, bundles AS b
    WHERE o.event_id = ANY(:event_ids) AND e.id = o.event_id AND b.id = e.bundle_id
      AND e.state NOT IN ('held', 'discarded', 'sample')
      AND o.status IN :unfinished
      AND b.deleted_at IS NULL
    RETURNING o.event_id, o.id, o.attempts, o.step_results, e.item, e.workspace_id, e.bundle_id, b.name,
      b.config_version
    """
    )
    .bindparams(bindparam("unfinished", expanding=True), bindparam("event_ids", type_=ARRAY(UUID(as_uuid=True))))
    .columns(
        event_id=UUID(as_uuid=True),
        id=UUID(as_uuid=True),
        attempts=Integer,
        step_results=JSONB,
        item=JSONB,
        workspace_id=UUID(as_uuid=True),
        bundle_id=UUID(as_uuid=True),
        name=String,
        config_version=Integer,
    )
)
_VERSIONS = cast(Table, BundleVersion.__table__)  # Core, not the ORM: no bulk-persistence layer

# Parsed configurations by (bundle, version): a saved version never changes.
_Version = tuple[uuid.UUID, int]
_CONFIGS: dict[_Version, BundleConfig] = {}
_CONFIGS_MAX = 1000


async def bundle_configs(session: AsyncSession, keys: set[_Version]) -> dict[_Version, BundleConfig]:
    """The parsed configuration of each (bundle, version), read only for those not cached yet."""
    missing = keys - _CONFIGS.keys()
    if missing:
        if len(_CONFIGS) + len(missing) > _CONFIGS_MAX:
            _CONFIGS.clear()
        rows = await session.execute(
            select(_VERSIONS.c.bundle_id, _VERSIONS.c.version, _VERSIONS.c.config).where(
                tuple_(_VERSIONS.c.bundle_id, _VERSIONS.c.version).in_(list(missing))
            )
        )
        for bundle_id, version, raw in rows:
            _CONFIGS[(bundle_id, version)] = BundleConfig.model_validate(raw)
    return {key: _CONFIGS[key] for key in keys}


async def claim(session: AsyncSession, jobs: dict[uuid.UUID, int]) -> list[Claimed]:
    """Mark the operations of these events (event id → job try) processing; the rest are settled."""
    rows = (await session.execute(_CLAIM, {"event_ids": list(jobs), "unfinished": _UNFINISHED})).all()
    configs = await bundle_configs(session, {(row.bundle_id, row.config_version) for row in rows})
    claimed = [
        Claimed(
            event_id=row.event_id,
            operation_id=row.id,
            workspace_id=row.workspace_id,
            bundle_id=row.bundle_id,
            bundle_name=row.name,
            attempts=row.attempts,
            item=row.item,
            config=configs[(row.bundle_id, row.config_version)],
            config_version=row.config_version,
            job_try=jobs[row.event_id],
            step_results={r["key"]: StepResult.model_validate(r) for r in row.step_results or ()},
        )
        for row in rows
    ]
    for event_id in set(jobs) - {c.event_id for c in claimed}:
        await settle(session, event_id)
    connections: dict[tuple[uuid.UUID, uuid.UUID], Connection | None] = {}
    for c in claimed:
        for connection_id in c.config.connection_ids:
            key = (c.workspace_id, connection_id)
            if key not in connections:
                connections[key] = await get_connection(session, *key)
            c.connections[connection_id] = connections[key]
    return claimed


async def settle(session: AsyncSession, event_id: uuid.UUID) -> None:
    """The cases the claim skips: a finished operation leaves its event `done`; a deleted bundle fails it."""
    event = await session.get(Event, event_id)
    if event is None or event.state in (EventState.held, EventState.discarded, EventState.sample):
        return
    op = await session.scalar(select(Operation).where(Operation.event_id == event_id).with_for_update())
    if op is None or op.status in FINAL_STATUSES:
        if event.state != EventState.done:
            event.state = EventState.done
        return
    bundle = await session.get(Bundle, event.bundle_id)
    if bundle is not None and bundle.deleted_at is not None:
        op.status, op.error, op.finished_at = OperationStatus.failed, "the bundle was deleted", datetime.now(UTC)
        op.message = Message(code="bundle_deleted", text=op.error).model_dump(exclude_none=True)
        event.state = EventState.done
