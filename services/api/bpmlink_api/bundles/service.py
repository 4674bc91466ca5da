"""Bundles: saved configuration with versions, start/stop, sample capture, preview."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.audit import changed_fields
from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.catalog import get_app
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
    PollState,
    User,
)
from bpmlink.db.pagination import newest_first, page
from bpmlink.db.scoping import scoped
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import AppError, Conflict, InvalidInput, NotFound
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.rules import MappingRule, with_default_timezone
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.sources import FetchEnv, SourceError, backfill_job_id, get_source, load_source, trigger_config
from bpmlink.webhooks import encrypt_webhook_secret, new_webhook_token, webhook_url
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import Actor, Jobs
from bpmlink_api.errors import UpstreamError

from . import validation
from .schemas import (
    BackfillOut,
    BackfillProgress,
    BundleIn,
    BundleOut,
    FieldProblem,
    LastRun,
    PollingOut,
    PreviewIn,
    PreviewOut,
    SampleOut,
)


async def get_bundle(session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID) -> Bundle:
    bundle = await session.scalar(scoped(Bundle, workspace_id, Bundle.id == bundle_id, Bundle.deleted_at.is_(None)))
    if bundle is None:
        raise NotFound("bundle not found")
    return bundle


async def _summaries(
    session: AsyncSession, bundle_ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, LastRun], dict[uuid.UUID, dict[str, int]], dict[uuid.UUID, int]]:
    """Last run, 24-hour counts per status, and held events, for a page of bundles (3 indexed queries)."""
    if not bundle_ids:
        return {}, {}, {}
    last_rows = await session.execute(
        select(Operation.bundle_id, Operation.created_at, Operation.status)
        .where(Operation.bundle_id.in_(bundle_ids))
        .ext(distinct_on(Operation.bundle_id))
        .order_by(Operation.bundle_id, Operation.created_at.desc())
    )
    last = {b: LastRun(at=at, status=s) for b, at, s in last_rows}
    since = datetime.now(UTC) - timedelta(hours=24)
    count_rows = await session.execute(
        select(Operation.bundle_id, Operation.status, func.count())
        .where(Operation.bundle_id.in_(bundle_ids), Operation.created_at >= since)
        .group_by(Operation.bundle_id, Operation.status)
    )
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for b, s, n in count_rows:
        counts.setdefault(b, {})[s] = int(n)
    held_rows = await session.execute(
        select(Event.bundle_id, func.count())
        .where(Event.bundle_id.in_(bundle_ids), Event.state == EventState.held)
        .group_by(Event.bundle_id)
    )
    held = {b: int(n) for b, n in held_rows}
    return last, counts, held


def _out(
    bundle: Bundle,
    settings: Settings,
    last: LastRun | None,
    counts: dict[str, int],
    held: int,
    polling: PollingOut | None = None,
) -> BundleOut:
    return BundleOut(
        **bundle.config,
        id=bundle.id,
        status=bundle.status,
        status_reason=bundle.status_reason,
        config_version=bundle.config_version,
        webhook_url=webhook_url(settings, bundle.webhook_token) if bundle.webhook_token else None,
        webhook_secret_set=bundle.webhook_secret_encrypted is not None,
        capture_sample=bundle.capture_sample,
        has_sample=bundle.sample is not None,
        held_count=held,
        last_run=last,
        counts=counts,
        polling=polling,
        created_at=bundle.created_at,
        updated_at=bundle.updated_at,
    )


def _polling_out(state: PollState, outcome: dict[str, int] | None = None) -> PollingOut:
    backfill = None
    if state.backfill:
        backfill = BackfillProgress.model_validate(
            {k: v for k, v in state.backfill.items() if k in BackfillProgress.model_fields}
        )
        if outcome is not None:
            backfill.failed = outcome.get(OperationStatus.failed, 0)
            backfill.processed = sum(
                n for s, n in outcome.items() if s in FINAL_STATUSES and s != OperationStatus.failed
            )
    return PollingOut(
        interval_minutes=state.interval_minutes,
        next_due_at=state.next_due_at,
        last_polled_at=state.last_polled_at,
        last_error=state.last_error,
        failures=state.failures,
        backfill=backfill,
    )


async def _poll_states(session: AsyncSession, bundle_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PollingOut]:
    if not bundle_ids:
        return {}
    states = await session.scalars(select(PollState).where(PollState.bundle_id.in_(bundle_ids)))
    return {s.bundle_id: _polling_out(s) for s in states}


async def _backfill_outcome(session: AsyncSession, bundle_id: uuid.UUID, since: Any) -> dict[str, int]:
    """Operations of the events the current backfill stored, per status."""
    rows = await session.execute(
        select(Operation.status, func.count())
        .join(Event, Event.id == Operation.event_id)
        .where(Event.bundle_id == bundle_id, Event.origin == "backfill", Event.received_at >= since)
        .group_by(Operation.status)
    )
    return {status: int(n) for status, n in rows}


async def to_out(session: AsyncSession, settings: Settings, bundle: Bundle) -> BundleOut:
    last, counts, held = await _summaries(session, [bundle.id])
    polling = None
    state = await session.get(PollState, bundle.id, populate_existing=True)
    if state is not None:
        requested = (state.backfill or {}).get("requested_at")
        outcome = await _backfill_outcome(session, bundle.id, datetime.fromisoformat(requested)) if requested else None
        polling = _polling_out(state, outcome)
    return _out(bundle, settings, last.get(bundle.id), counts.get(bundle.id, {}), held.get(bundle.id, 0), polling)


async def list_bundles(
    session: AsyncSession, settings: Settings, workspace_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[BundleOut], str | None]:
    query = newest_first(
        scoped(Bundle, workspace_id, Bundle.deleted_at.is_(None)), Bundle.created_at, Bundle.id, cursor, limit
    )
    rows, next_cursor = page(list(await session.scalars(query)), limit)
    last, counts, held = await _summaries(session, [b.id for b in rows])
    polling = await _poll_states(session, [b.id for b in rows])
    items = [
        _out(b, settings, last.get(b.id), counts.get(b.id, {}), held.get(b.id, 0), polling.get(b.id)) for b in rows
    ]
    return items, next_cursor


async def _with_profile_timezone(session: AsyncSession, actor: Actor, rules: list[MappingRule]) -> list[MappingRule]:
    """Date steps without a zone take the acting user's profile zone, written into the rule."""
    timezone = (await session.execute(select(User.timezone).where(User.id == actor.user_id))).scalar_one()
    return with_default_timezone(rules, timezone)


async def _config(session: AsyncSession, actor: Actor, body: BundleIn) -> BundleConfig:
    """The configuration to store. Date steps are saved with an explicit zone (the saver's profile
    zone when the body names none, "UTC" included), so a later profile change or another editor's
    save never changes what a saved bundle does."""
    config = BundleConfig.model_validate(body.model_dump(exclude={"webhook_secret"}))
    config.mapping = await _with_profile_timezone(session, actor, config.mapping)
    return config


async def create(
    session: AsyncSession,
    box: SecretBox,
    settings: Settings,
    redis: aioredis.Redis,
    actor: Actor,
    body: BundleIn,
) -> BundleOut:
    config = await _config(session, actor, body)
    trigger = await validation.validate(session, box, settings, redis, actor.workspace_id, config)
    stored = config.stored()
    bundle = Bundle(
        workspace_id=actor.workspace_id,
        name=config.name,
        status=BundleStatus.stopped,
        config=stored,
        config_version=1,
        source_app=config.source.app,
        source_connection_id=config.source.connection_id,
        target_connection_id=config.target.connection_id,
        webhook_token=new_webhook_token() if trigger.kind == "webhook" else None,
        webhook_secret_encrypted=encrypt_webhook_secret(box, body.webhook_secret) if body.webhook_secret else None,
    )
    session.add(bundle)
    await session.flush()
    session.add(BundleVersion(bundle_id=bundle.id, version=1, config=stored))
    if trigger.kind == "polling":
        session.add(
            PollState(
                bundle_id=bundle.id, workspace_id=actor.workspace_id, interval_minutes=config.schedule.interval_minutes
            )
        )
    details = {"source_app": config.source.app, "trigger": config.source.trigger, "entity": config.target.entity}
    await record_audit(session, actor, "created", "bundle", bundle.id, bundle.name, details)
    await session.flush()
    await session.refresh(bundle)
    return await to_out(session, settings, bundle)


async def update_config(
    session: AsyncSession,
    box: SecretBox,
    settings: Settings,
    redis: aioredis.Redis,
    actor: Actor,
    bundle_id: uuid.UUID,
    body: BundleIn,
) -> BundleOut:
    """Save a new configuration; events processed after this run with the new version."""
    bundle = await get_bundle(session, actor.workspace_id, bundle_id)
    config = await _config(session, actor, body)
    if config.source.app != bundle.source_app or config.source.trigger != bundle.config["source"]["trigger"]:
        raise InvalidInput(
            "the source of a saved bundle cannot change; create a new bundle",
            details=[{"field": "source", "message": "cannot change"}],
        )
    await validation.validate(session, box, settings, redis, actor.workspace_id, config)
    stored = config.stored()
    # The parts of the configuration that changed, by name; the webhook secret only as "set".
    changed = changed_fields(bundle.config, stored) + (["webhook_secret"] if body.webhook_secret else [])
    details: dict[str, Any] = {"changed": changed}
    if config.name != bundle.name:
        details["previous_name"] = bundle.name
    if stored != bundle.config:
        bundle.config_version += 1
        bundle.config = stored
        bundle.name = config.name
        bundle.source_connection_id = config.source.connection_id
        bundle.target_connection_id = config.target.connection_id
        session.add(BundleVersion(bundle_id=bundle.id, version=bundle.config_version, config=stored))
        await session.execute(
            update(PollState)
            .where(PollState.bundle_id == bundle.id)
            .values(interval_minutes=config.schedule.interval_minutes)
        )
    if body.webhook_secret:
        bundle.webhook_secret_encrypted = encrypt_webhook_secret(box, body.webhook_secret)
    if changed:
        details["config_version"] = bundle.config_version
        await record_audit(session, actor, "updated", "bundle", bundle.id, bundle.name, details)
    await session.flush()
    await session.refresh(bundle)
    return await to_out(session, settings, bundle)


async def delete(session: AsyncSession, actor: Actor, bundle_id: uuid.UUID) -> None:
    """Soft delete: history stays readable by id, the webhook URL answers 410."""
    bundle = await get_bundle(session, actor.workspace_id, bundle_id)
    await record_audit(session, actor, "deleted", "bundle", bundle.id, bundle.name, {"previous_status": bundle.status})
    bundle.deleted_at = datetime.now(UTC)
    bundle.status = BundleStatus.stopped
    bundle.source_connection_id = None
    bundle.target_connection_id = None
    await session.execute(update(PollState).where(PollState.bundle_id == bundle.id).values(next_due_at=None))
    await session.flush()


async def start(
    session: AsyncSession,
    settings: Settings,
    jobs: Jobs,
    actor: Actor,
    bundle_id: uuid.UUID,
    held: str,
) -> BundleOut:
    bundle = await get_bundle(session, actor.workspace_id, bundle_id)
    app = get_app(bundle.source_app)
    trigger = app.trigger(bundle.config["source"]["trigger"]) if app else None
    if trigger is None:
        raise InvalidInput("the bundle's source no longer exists in the catalog")
    if bundle.target_connection_id is None:
        raise InvalidInput(
            "the bundle has no bpm'online connection",
            details=[{"field": "target.connection_id", "message": "required"}],
        )
    previous_status = bundle.status
    bundle.status = BundleStatus.running if trigger.kind == "polling" else BundleStatus.waiting
    bundle.status_reason = None
    if trigger.kind == "polling":
        await session.execute(
            update(PollState)
            .where(PollState.bundle_id == bundle.id)
            .values(next_due_at=func.now(), last_error=None, failures=0)
        )
    held_ids = list(
        await session.scalars(select(Event.id).where(Event.bundle_id == bundle.id, Event.state == EventState.held))
    )
    if held_ids:
        if held == "process":
            await session.execute(update(Event).where(Event.id.in_(held_ids)).values(state=EventState.pending))
            await session.execute(
                update(Operation)
                .where(Operation.event_id.in_(held_ids))
                .values(status=OperationStatus.queued, config_version=bundle.config_version)
            )
            for event_id in held_ids:
                jobs.enqueue_event(event_id)
        else:
            await session.execute(update(Event).where(Event.id.in_(held_ids)).values(state=EventState.discarded))
            await session.execute(
                update(Operation)
                .where(Operation.event_id.in_(held_ids))
                .values(
                    status=OperationStatus.filtered,
                    error="discarded by the user when the bundle was started",
                    finished_at=func.now(),
                )
            )
    # Starting a running bundle changes nothing, unless it let held events go or dropped them.
    if previous_status != bundle.status or held_ids:
        details: dict[str, Any] = {"previous_status": previous_status, "status": bundle.status}
        if held_ids:
            details["held"] = {"count": len(held_ids), "decision": held}
        await record_audit(session, actor, "started", "bundle", bundle.id, bundle.name, details)
    await session.flush()
    await session.refresh(bundle)
    return await to_out(session, settings, bundle)


async def stop(session: AsyncSession, settings: Settings, actor: Actor, bundle_id: uuid.UUID) -> BundleOut:
    bundle = await get_bundle(session, actor.workspace_id, bundle_id)
    if bundle.status != BundleStatus.stopped:
        details = {"previous_status": bundle.status}
        await record_audit(session, actor, "stopped", "bundle", bundle.id, bundle.name, details)
    bundle.status = BundleStatus.stopped
    bundle.status_reason = None
    await session.execute(update(PollState).where(PollState.bundle_id == bundle.id).values(next_due_at=None))
    await session.flush()
    await session.refresh(bundle)
    return await to_out(session, settings, bundle)


async def regenerate_token(session: AsyncSession, settings: Settings, actor: Actor, bundle_id: uuid.UUID) -> BundleOut:
    bundle = await get_bundle(session, actor.workspace_id, bundle_id)
    if bundle.webhook_token is None:
        raise InvalidInput("only a webhook bundle has a URL")
    bundle.webhook_token = new_webhook_token()
    # The token is the URL's secret: the entry says it changed, not what it is now.
    await record_audit(session, actor, "updated", "bundle", bundle.id, bundle.name, {"changed": ["webhook_url"]})
    await session.flush()
    await session.refresh(bundle)
    return await to_out(session, settings, bundle)


def sample_fields(item: Any, prefix: str = "", depth: int = 0) -> list[dict[str, Any]]:
    """Every path in the sample with its value, for the mapping dropdowns."""
    out: list[dict[str, Any]] = []
    if isinstance(item, dict) and depth < 6:
        for key, value in item.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict | list) and value:
                out += sample_fields(value, path, depth + 1)
            else:
                out.append({"path": path, "value": value})
    elif isinstance(item, list) and depth < 6:
        for index, value in enumerate(item[:5]):
            out += sample_fields(value, f"{prefix}[{index}]", depth + 1)
    else:
        out.append({"path": prefix, "value": item})
    return out


def sample_out(bundle: Bundle) -> SampleOut:
    sample = bundle.sample
    return SampleOut(capture=bundle.capture_sample, sample=sample, fields=sample_fields(sample) if sample else [])


async def set_sample(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    bundle_id: uuid.UUID,
    capture: bool | None,
    item: dict[str, Any] | None,
) -> SampleOut:
    bundle = await get_bundle(session, workspace_id, bundle_id)
    if item is not None:
        bundle.sample = item
        bundle.capture_sample = False
    elif capture is not None:
        if capture and bundle.webhook_token is None:
            raise InvalidInput("capture mode is for webhook bundles; polling bundles fetch a sample")
        bundle.capture_sample = capture
    await session.flush()
    return sample_out(bundle)


class SourceUnavailable(AppError):
    status_code = 502
    code = "source_error"


async def fetch_sample(
    session: AsyncSession,
    box: SecretBox,
    settings: Settings,
    redis: aioredis.Redis,
    workspace_id: uuid.UUID,
    bundle_id: uuid.UUID,
) -> SampleOut:
    """Fetch one item from a polling source (from the beginning, the cursor untouched) as the sample."""
    bundle = await get_bundle(session, workspace_id, bundle_id)
    source = get_source(bundle.source_app)
    if source is None or bundle.webhook_token is not None:
        raise InvalidInput("fetching a sample is for polling bundles; webhook bundles capture one")
    recorder = StepRecorder(system=bundle.source_app)
    try:
        source, conn = await load_source(session, box, bundle)
        page = await source.fetch(conn, trigger_config(bundle), None, 1, recorder, FetchEnv(settings, redis=redis))
    except SourceError as exc:
        raise SourceUnavailable(f"the source failed: {exc.message}", details={"code": exc.code}) from exc
    if not page.items:
        raise InvalidInput("the source has no items yet: add one there, or set a sample by hand")
    bundle.sample = page.items[0][1]
    bundle.capture_sample = False
    await session.flush()
    return sample_out(bundle)


# A queued or running backfill that has not moved for this long is taken as dead (Redis lost the
# job, or its worker died without arq retrying it) and may be started again.
BACKFILL_STALE = timedelta(minutes=15)


async def start_backfill(
    session: AsyncSession, workspace_id: uuid.UUID, bundle_id: uuid.UUID, since: datetime | None
) -> BackfillOut:
    """Record a new backfill (queued); the endpoint enqueues its job after the commit."""
    bundle = await get_bundle(session, workspace_id, bundle_id)
    state = await session.scalar(select(PollState).where(PollState.bundle_id == bundle.id).with_for_update())
    if state is None or get_source(bundle.source_app) is None:
        raise InvalidInput("a backfill reads a polling source; this bundle has none")
    now = datetime.now(UTC)
    current = state.backfill or {}
    if current.get("status") in ("queued", "running"):
        touched = current.get("updated_at") or current.get("requested_at")
        if touched and now - datetime.fromisoformat(touched) < BACKFILL_STALE:
            raise Conflict("a backfill of this bundle is already running", details=current)
    backfill_id = uuid.uuid4().hex
    since_text = since.astimezone(UTC).isoformat().replace("+00:00", "Z") if since else None
    state.backfill = {
        "id": backfill_id,
        "status": "queued",
        "since": since_text,
        "cursor": {"value": since_text} if since_text else None,
        "pages": 0,
        "found": 0,
        "stored": 0,
        "error": None,
        "requested_at": now.isoformat(),
        "updated_at": now.isoformat(),
    }
    await session.flush()
    progress = _polling_out(state).backfill
    assert progress is not None
    return BackfillOut(job_id=backfill_job_id(bundle.id, backfill_id), backfill=progress)


async def preview(
    session: AsyncSession,
    box: SecretBox,
    settings: Settings,
    redis: aioredis.Redis,
    actor: Actor,
    bundle_id: uuid.UUID,
    body: PreviewIn,
) -> PreviewOut:
    """The mapping applied to the sample: reads lookups, writes nothing. An unsaved mapping gets
    the caller's profile zone in its date steps as a save would, so the preview shows what the
    saved bundle will do."""
    workspace_id = actor.workspace_id
    bundle = await get_bundle(session, workspace_id, bundle_id)
    item = body.item if body.item is not None else bundle.sample
    if item is None:
        raise InvalidInput("no sample yet: send a test request or fetch a sample first")
    config = BundleConfig.model_validate(bundle.config)
    if body.mapping is not None:
        config.mapping = await _with_profile_timezone(session, actor, body.mapping)
    if "filter" in body.model_fields_set:
        config.filter = body.filter
    try:
        verdict = explain(config.filter, item)
    except MappingError as exc:
        return PreviewOut(passed_filter=False, filter_reason=exc.message, values={}, errors=[], warnings=[])
    target = await get_connection(session, workspace_id, config.target.connection_id)
    if target is None:
        raise InvalidInput("the bundle's bpm'online connection is gone")
    async with BpmClient(bpm_connection(target, box), settings=settings, redis=redis) as client:
        fields = await validation.entity_fields(client, config.target.entity)
        resolver = make_resolver(client, StepRecorder(), allow_create=False)
        try:
            mapped = await apply_mapping(config.mapping, item, fields, resolver)
        except BpmError as exc:
            raise UpstreamError(f"a lookup failed in bpm'online: {exc}") from exc
    return PreviewOut(
        passed_filter=verdict.passed,
        filter_reason=verdict.reason or None,
        values=mapped.values,
        errors=[FieldProblem(field=e.field, message=e.message) for e in mapped.errors],
        warnings=[FieldProblem(field=e.field, message=e.message) for e in mapped.warnings],
    )
