"""The `event.process` job: map → dedup → push one event, and write its operation and steps.

The job may run more than once for the same event (a retry, a worker that died, the
sweeper): it re-reads its rows, does nothing for a finished operation, and pushes with a
deterministic record Id, so every run converges on one record.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import UTC, datetime
from typing import Any

from arq import Retry
from sqlalchemy import select, update
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
    BundleVersion,
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


async def _claim(session: AsyncSession, event_id: uuid.UUID) -> tuple[Event, Operation, Bundle, dict[str, Any]] | None:
    """Lock the operation row for this run and mark it processing; None if there is nothing to do."""
    event = await session.get(Event, event_id)
    if event is None or event.state in (EventState.held, EventState.discarded, EventState.sample):
        return None
    op = await session.scalar(select(Operation).where(Operation.event_id == event_id).with_for_update())
    if op is None or op.status in FINAL_STATUSES:
        if event.state != EventState.done:
            event.state = EventState.done
        return None
    bundle = await session.get(Bundle, event.bundle_id)
    if bundle is None:
        return None
    if bundle.deleted_at is not None:
        op.status, op.error, op.finished_at = OperationStatus.failed, "the bundle was deleted", datetime.now(UTC)
        event.state = EventState.done
        return None
    # An edit applies to events processed after the save: run the bundle's current version.
    version = await session.get(BundleVersion, (event.bundle_id, bundle.config_version))
    if version is None:
        return None
    op.config_version = bundle.config_version
    op.status = OperationStatus.processing
    op.attempts += 1
    return event, op, bundle, version.config


async def _run(
    ctx: dict[str, Any],
    session: AsyncSession,
    event: Event,
    op: Operation,
    config: BundleConfig,
    recorder: StepRecorder,
) -> PushResult:
    verdict = explain(config.filter, event.item)
    if not verdict.passed:
        return PushResult(OperationStatus.filtered, None, verdict.reason or "the filter did not pass")
    box: SecretBox = ctx["secret_box"]
    target = await get_connection(session, event.workspace_id, config.target.connection_id)
    if target is None:
        raise _Failed("the bundle's bpm'online connection was deleted", stop_bundle=True)
    pool: BpmClientPool = ctx["bpm_clients"]
    client = await pool.get(bpm_connection(target, box))
    metadata = await client.metadata(recorder=recorder)
    entity = metadata.entities.get(config.target.entity)
    if entity is None:
        raise _Failed(f"bpm'online has no entity {config.target.entity!r} any more")
    fields = target_fields(entity)
    mapped = await apply_mapping(config.mapping, event.item, fields, make_resolver(client, recorder, allow_create=True))
    op.mapped_data = mapped.values
    if not mapped.ok:
        raise _Failed("; ".join(f"{e.field}: {e.message}" for e in mapped.errors))
    return await push(
        client,
        ctx["redis"],
        bundle_id=event.bundle_id,
        event_id=event.id,
        entity=config.target.entity,
        values=mapped.values,
        fields=fields,
        policy=config.dedup,
        retry=op.attempts > 1,
        recorder=recorder,
    )


def _step_rows(op: Operation, steps: list[StepRecord]) -> list[Step]:
    return [
        Step(
            operation_id=op.id,
            attempt=op.attempts,
            position=i,
            system=s.system,
            method=s.method,
            url=s.url,
            request_headers=s.request_headers,
            request_body=s.request_body,
            status=s.status,
            response_body=s.response_body,
            duration_ms=round(s.duration_ms),
            error=s.error,
            started_at=s.started_at,
        )
        for i, s in enumerate(steps)
    ]


async def process_event(ctx: dict[str, Any], event_id: str) -> str:
    """arq job `event.process`."""
    job_try: int = ctx.get("job_try", 1)
    eid = uuid.UUID(event_id)
    async with ctx["sessionmaker"]() as session:
        claimed = await _claim(session, eid)
        await session.commit()
    if claimed is None:
        return "nothing to do"
    event, op, bundle, raw_config = claimed
    bind_log_context(workspace_id=bundle.workspace_id, bundle_id=bundle.id, operation_id=op.id)
    recorder = StepRecorder()
    retry_in: float | None = None
    stop_reason: str | None = None
    async with ctx["sessionmaker"]() as session:
        session.add_all([event, op])
        try:
            result = await _run(ctx, session, event, op, BundleConfig.model_validate(raw_config), recorder)
            op.status, op.error = result.status, result.note
            op.record_id = uuid.UUID(result.record_id) if result.record_id else None
        except TransientError as exc:
            if job_try < MAX_TRIES:
                op.status, op.error = OperationStatus.retrying, f"{exc} (will retry)"
                retry_in = backoff_seconds(job_try, exc.retry_after)
                metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
            else:
                op.status, op.error = OperationStatus.failed, f"{exc} (gave up after {job_try} tries)"
        except (AuthError, ConfigurationError) as exc:
            op.status, op.error = OperationStatus.failed, str(exc)
            stop_reason = f"bpm'online refused the connection: {exc}"
        except BpmError as exc:
            op.status, op.error = OperationStatus.failed, str(exc)
        except _Failed as exc:
            op.status, op.error = OperationStatus.failed, exc.message
            stop_reason = exc.message if exc.stop_bundle else None
        except MappingError as exc:
            op.status, op.error = OperationStatus.failed, f"{exc.field}: {exc.message}" if exc.field else exc.message
        session.add_all(_step_rows(op, recorder.steps))
        op.search_terms = search_terms(event.item, op.mapped_data, op.record_id)
        if op.status in FINAL_STATUSES:
            op.finished_at = datetime.now(UTC)
            event.state = EventState.done
        incident_id: int | None = None
        if stop_reason:
            # Every next event would fail the same way: stop the bundle, say why, tell people once.
            stopped_now = await session.scalar(
                update(Bundle)
                .where(Bundle.id == bundle.id, Bundle.status.in_((BundleStatus.running, BundleStatus.waiting)))
                .values(status=BundleStatus.error, status_reason=stop_reason)
                .returning(Bundle.id)
            )
            if stopped_now is not None:
                await audit.record_bundle_error(
                    session,
                    workspace_id=bundle.workspace_id,
                    bundle_id=bundle.id,
                    bundle_name=bundle.name,
                    reason=stop_reason,
                )
                incident_id = await open_incident(
                    session,
                    bundle,
                    kind="bundle_error",
                    key=f"bundle_error:{bundle.id}:{op.id}",
                    message=f"the bundle «{bundle.name}» was stopped: {stop_reason}",
                )
        await session.commit()
    if incident_id is not None:
        await enqueue_delivery(ctx["arq"], incident_id)
    log.info("operation %s", op.status if retry_in is None else f"{op.status}, again in {retry_in:.1f} s")
    if retry_in is not None:
        raise Retry(defer=retry_in)
    return str(op.status)
