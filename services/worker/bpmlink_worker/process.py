"""The `event.process` job: map → dedup → push one event, and write its operation and steps.

The job may run more than once for the same event (a retry, a worker that died, the
sweeper): it re-reads its rows, does nothing for a finished operation, and pushes with a
deterministic record Id, so every run converges on one record.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from arq import Retry
from sqlalchemy import Integer, String, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink import audit, metrics
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, TransientError
from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.bpmonline.steps import Step as StepRecord
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.db.models import (
    FINAL_STATUSES,
    Bundle,
    BundleStatus,
    Connection,
    Event,
    EventState,
    Operation,
    OperationStatus,
    Step,
)
from bpmlink.logging import bind_log_context
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.notifications import open_incident
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.push import PushResult, push
from bpmlink.search_terms import search_terms
from bpmlink.security import SecretBox
from bpmlink.targets import target_fields

from .incidents import enqueue_delivery

log = logging.getLogger("bpmlink.worker.process")

MAX_TRIES = 8  # runs of one job (arq's job_try) before the operation fails for good
BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0


def backoff_seconds(job_try: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the server's Retry-After."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (job_try - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class _Failed(Exception):
    def __init__(self, message: str, *, stop_bundle: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.stop_bundle = stop_bundle


@dataclass
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
    mapped_data: dict[str, Any] | None = None
    target: Connection | None = None  # the bundle's bpm'online connection, read with the claim


# The tables, not the ORM classes: Core statements skip the ORM's bulk-persistence layer.
OPERATIONS = cast(Table, Operation.__table__)
EVENTS = cast(Table, Event.__table__)
STEPS = cast(Table, Step.__table__)
_UNFINISHED = tuple(s.value for s in OperationStatus if s not in FINAL_STATUSES)
# One statement marks the operation processing (locking its row like SELECT … FOR UPDATE) and
# reads the event, the bundle and its current version; anything unusual falls to _settle.
_CLAIM = (
    text(
        """
    UPDATE operations AS o
    SET status = 'processing', attempts = o.attempts + 1, config_version = b.config_version, updated_at = now()
    FROM events AS e, bundles AS b, bundle_versions AS v
    WHERE o.event_id = :event_id AND e.id = o.event_id AND b.id = e.bundle_id
      AND v.bundle_id = b.id AND v.version = b.config_version
      AND e.state NOT IN ('held', 'discarded', 'sample')
      AND o.status IN :unfinished
      AND b.deleted_at IS NULL
    RETURNING o.id, o.attempts, e.item, e.workspace_id, e.bundle_id, b.name, b.config_version, v.config
    """
    )
    .bindparams(bindparam("unfinished", expanding=True))
    .columns(
        id=UUID(as_uuid=True),
        attempts=Integer,
        item=JSONB,
        workspace_id=UUID(as_uuid=True),
        bundle_id=UUID(as_uuid=True),
        name=String,
        config_version=Integer,
        config=JSONB,
    )
)

# Parsed configurations by (bundle, version): a saved version never changes.
_CONFIGS: dict[tuple[uuid.UUID, int], BundleConfig] = {}
_CONFIGS_MAX = 1000


def _config(bundle_id: uuid.UUID, version: int, raw: dict[str, Any]) -> BundleConfig:
    key = (bundle_id, version)
    config = _CONFIGS.get(key)
    if config is None:
        if len(_CONFIGS) >= _CONFIGS_MAX:
            _CONFIGS.clear()
        config = _CONFIGS[key] = BundleConfig.model_validate(raw)
    return config


async def _claim(session: AsyncSession, event_id: uuid.UUID) -> Claimed | None:
    """Mark the operation processing for this run; None if there is nothing to do."""
    row = (await session.execute(_CLAIM, {"event_id": event_id, "unfinished": _UNFINISHED})).one_or_none()
    if row is None:
        await _settle(session, event_id)
        return None
    return Claimed(
        event_id=event_id,
        operation_id=row.id,
        workspace_id=row.workspace_id,
        bundle_id=row.bundle_id,
        bundle_name=row.name,
        attempts=row.attempts,
        item=row.item,
        config=_config(row.bundle_id, row.config_version, row.config),
    )


async def _settle(session: AsyncSession, event_id: uuid.UUID) -> None:
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
        event.state = EventState.done


async def _run(ctx: dict[str, Any], claimed: Claimed, recorder: StepRecorder) -> PushResult:
    config = claimed.config
    verdict = explain(config.filter, claimed.item)
    if not verdict.passed:
        return PushResult(OperationStatus.filtered, None, verdict.reason or "the filter did not pass")
    box: SecretBox = ctx["secret_box"]
    target = claimed.target
    if target is None:
        raise _Failed("the bundle's bpm'online connection was deleted", stop_bundle=True)
    pool: BpmClientPool = ctx["bpm_clients"]
    client = await pool.get(bpm_connection(target, box))
    metadata = await client.metadata(recorder=recorder)
    entity = metadata.entities.get(config.target.entity)
    if entity is None:
        raise _Failed(f"bpm'online has no entity {config.target.entity!r} any more")
    fields = target_fields(entity)
    mapped = await apply_mapping(
        config.mapping, claimed.item, fields, make_resolver(client, recorder, allow_create=True)
    )
    claimed.mapped_data = mapped.values
    if not mapped.ok:
        raise _Failed("; ".join(f"{e.field}: {e.message}" for e in mapped.errors))
    return await push(
        client,
        ctx["redis"],
        bundle_id=claimed.bundle_id,
        event_id=claimed.event_id,
        entity=config.target.entity,
        values=mapped.values,
        fields=fields,
        policy=config.dedup,
        retry=claimed.attempts > 1,
        recorder=recorder,
    )


def _step_rows(claimed: Claimed, steps: list[StepRecord]) -> list[dict[str, Any]]:
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
        for i, s in enumerate(steps)
    ]


async def process_event(ctx: dict[str, Any], event_id: str) -> str:
    """arq job `event.process`."""
    job_try: int = ctx.get("job_try", 1)
    eid = uuid.UUID(event_id)
    async with ctx["sessionmaker"]() as session:
        claimed = await _claim(session, eid)
        if claimed is not None:
            claimed.target = await get_connection(session, claimed.workspace_id, claimed.config.target.connection_id)
        await session.commit()
    if claimed is None:
        return "nothing to do"
    bind_log_context(workspace_id=claimed.workspace_id, bundle_id=claimed.bundle_id, operation_id=claimed.operation_id)
    recorder = StepRecorder()
    retry_in: float | None = None
    stop_reason: str | None = None
    record_id: uuid.UUID | None = None
    # No database connection is held while bpm'online answers: at 200 ms a request and a hundred
    # jobs per worker, that would be a hundred idle connections.
    try:
        result = await _run(ctx, claimed, recorder)
        status, error = result.status, result.note
        record_id = uuid.UUID(result.record_id) if result.record_id else None
    except TransientError as exc:
        if job_try < MAX_TRIES:
            status, error = OperationStatus.retrying, f"{exc} (will retry)"
            retry_in = backoff_seconds(job_try, exc.retry_after)
            metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
        else:
            status, error = OperationStatus.failed, f"{exc} (gave up after {job_try} tries)"
    except (AuthError, ConfigurationError) as exc:
        status, error = OperationStatus.failed, str(exc)
        stop_reason = f"bpm'online refused the connection: {exc}"
    except BpmError as exc:
        status, error = OperationStatus.failed, str(exc)
    except _Failed as exc:
        status, error = OperationStatus.failed, exc.message
        stop_reason = exc.message if exc.stop_bundle else None
    except MappingError as exc:
        status, error = OperationStatus.failed, f"{exc.field}: {exc.message}" if exc.field else exc.message
    async with ctx["sessionmaker"]() as session:
        final = status in FINAL_STATUSES
        await session.execute(
            update(OPERATIONS)
            .where(OPERATIONS.c.id == claimed.operation_id)
            .values(
                status=status,
                error=error,
                record_id=record_id,
                mapped_data=claimed.mapped_data,
                search_terms=search_terms(claimed.item, claimed.mapped_data, record_id),
                finished_at=datetime.now(UTC) if final else None,
            )
        )
        if final:
            await session.execute(update(EVENTS).where(EVENTS.c.id == claimed.event_id).values(state=EventState.done))
        if recorder.steps:
            await session.execute(insert(STEPS), _step_rows(claimed, recorder.steps))  # one executemany
        incident_id: int | None = None
        if stop_reason:
            incident_id = await _stop_bundle(session, claimed, stop_reason)
        await session.commit()
    if incident_id is not None:
        await enqueue_delivery(ctx["arq"], incident_id)
    log.info("operation %s", status if retry_in is None else f"{status}, again in {retry_in:.1f} s")
    if retry_in is not None:
        raise Retry(defer=retry_in)
    return str(status)


async def _stop_bundle(session: AsyncSession, claimed: Claimed, reason: str) -> int | None:
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
        message=f"the bundle «{claimed.bundle_name}» was stopped: {reason}",
    )
