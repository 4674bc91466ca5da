"""Bundles: saved configuration with versions (create, read, update, delete) and how a bundle reads.

Start/stop and the webhook token are in `lifecycle`, the sample and the preview in `sample`, a
backfill's start in `backfill`; every query in `repository`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bpmlink.audit import changed_fields
from bpmlink.bundle_config import BundleConfig
from bpmlink.bundle_secrets import merged_config_secrets, read_config_secrets, take_config_secrets
from bpmlink.db.models import FINAL_STATUSES, Bundle, BundleStatus, BundleVersion, OperationStatus, PollState
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput, NotFound
from bpmlink.mapping.rules import MappingRule, with_default_timezone
from bpmlink.webhooks import (
    encrypt_webhook_secret,
    new_webhook_token,
    stored_webhook_token,
    webhook_token_columns,
    webhook_url,
)
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import RequestContext

from . import rate_limit, repository, validation
from .schemas import BackfillProgress, BundleIn, BundleOut, LastRun, PollingOut


async def get_bundle(ctx: RequestContext, bundle_id: uuid.UUID) -> Bundle:
    bundle = await repository.get(ctx.session, ctx.workspace_id, bundle_id)
    if bundle is None:
        raise NotFound(message("bundle_not_found", "bundle not found"))
    return bundle


@dataclass(frozen=True)
class _Summaries:
    """Last run, 24-hour counts per status, held events and refused webhook requests, per bundle of a page."""

    last: dict[uuid.UUID, LastRun]
    counts: dict[uuid.UUID, dict[str, int]]
    held: dict[uuid.UUID, int]
    refused: dict[uuid.UUID, int]


async def _summaries(ctx: RequestContext, bundle_ids: Sequence[uuid.UUID]) -> _Summaries:
    """3 indexed queries and one Redis MGET for a page of bundles."""
    if not bundle_ids:
        return _Summaries({}, {}, {}, {})
    last = {b: LastRun(at=at, status=s) for b, (at, s) in (await repository.last_runs(ctx.session, bundle_ids)).items()}
    counts = await repository.status_counts(ctx.session, bundle_ids, datetime.now(UTC) - timedelta(hours=24))
    held = await repository.held_counts(ctx.session, bundle_ids)
    return _Summaries(last, counts, held, await rate_limit.refusals(ctx, bundle_ids))


def _out(bundle: Bundle, ctx: RequestContext, summaries: _Summaries, polling: PollingOut | None = None) -> BundleOut:
    token = stored_webhook_token(ctx.box, bundle.webhook_token_encrypted)
    url = webhook_url(ctx.settings, token) if token else None
    return BundleOut(
        **bundle.config,
        id=bundle.id,
        status=bundle.status,
        status_reason=bundle.status_reason,
        config_version=bundle.config_version,
        webhook_url=url,
        webhook_secret_set=bundle.webhook_secret_encrypted is not None,
        webhook_rate_per_minute=bundle.webhook_rate_per_minute,
        webhook_rate_default_per_minute=ctx.settings.hook_rate_per_minute if url else None,
        rate_limited_24h=summaries.refused.get(bundle.id, 0),
        config_secrets_set=sorted(read_config_secrets(ctx.box, bundle.config_secrets_encrypted)),
        capture_sample=bundle.capture_sample,
        has_sample=bundle.sample is not None,
        held_count=summaries.held.get(bundle.id, 0),
        last_run=summaries.last.get(bundle.id),
        counts=summaries.counts.get(bundle.id, {}),
        polling=polling,
        incomplete=bool(bundle.missing),
        missing=bundle.missing,
        created_at=bundle.created_at,
        updated_at=bundle.updated_at,
    )


def polling_out(state: PollState, outcome: dict[str, int] | None = None) -> PollingOut:
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


async def _poll_states(ctx: RequestContext, bundle_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PollingOut]:
    if not bundle_ids:
        return {}
    return {s.bundle_id: polling_out(s) for s in await repository.poll_states(ctx.session, bundle_ids)}


async def to_out(ctx: RequestContext, bundle: Bundle) -> BundleOut:
    summaries = await _summaries(ctx, [bundle.id])
    polling = None
    state = await repository.poll_state(ctx.session, bundle.id)
    if state is not None:
        requested = (state.backfill or {}).get("requested_at")
        outcome = (
            await repository.backfill_outcome(ctx.session, bundle.id, datetime.fromisoformat(requested))
            if requested
            else None
        )
        polling = polling_out(state, outcome)
    return _out(bundle, ctx, summaries, polling)


async def refreshed_out(ctx: RequestContext, bundle: Bundle) -> BundleOut:
    """The bundle as it reads after a change: flushed, then re-read with what the database set."""
    await ctx.session.flush()
    await ctx.session.refresh(bundle)
    return await to_out(ctx, bundle)


async def list_bundles(ctx: RequestContext, cursor: str | None, limit: int) -> tuple[list[BundleOut], str | None]:
    rows, next_cursor = await repository.list_page(ctx.session, ctx.workspace_id, cursor, limit)
    summaries = await _summaries(ctx, [b.id for b in rows])
    polling = await _poll_states(ctx, [b.id for b in rows])
    items = [_out(b, ctx, summaries, polling.get(b.id)) for b in rows]
    return items, next_cursor


async def with_profile_timezone(ctx: RequestContext, rules: list[MappingRule]) -> list[MappingRule]:
    """Date steps without a zone take the acting user's profile zone, written into the rule."""
    return with_default_timezone(rules, await repository.user_timezone(ctx.session, ctx.actor.user_id))


async def _config(ctx: RequestContext, body: BundleIn) -> BundleConfig:
    """The configuration to store. Date steps are saved with an explicit zone (the saver's profile
    zone when the body names none, "UTC" included), so a later profile change or another editor's
    save never changes what a saved bundle does."""
    config = BundleConfig.model_validate(body.model_dump(exclude={"webhook_secret", rate_limit.FIELD}))
    zoned = [{**step.model_dump(), "mapping": await with_profile_timezone(ctx, step.mapping)} for step in config.steps]
    return BundleConfig.model_validate({**config.model_dump(exclude={"target", "mapping", "dedup"}), "steps": zoned})


async def create(ctx: RequestContext, body: BundleIn) -> BundleOut:
    session, actor = ctx.session, ctx.actor
    config = await _config(ctx, body)
    trigger, missing = await validation.validate(ctx, config)
    secrets = take_config_secrets(config.source.config, trigger)
    stored = config.stored()
    bundle = Bundle(
        workspace_id=actor.workspace_id,
        name=config.name,
        status=BundleStatus.stopped,
        config=stored,
        config_version=1,
        source_app=config.source.app,
        source_connection_id=config.source.connection_id,
        target_connection_id=config.steps[0].connection_id,
        **(webhook_token_columns(ctx.box, new_webhook_token()) if trigger.kind == "webhook" else {}),
        webhook_secret_encrypted=encrypt_webhook_secret(ctx.box, body.webhook_secret) if body.webhook_secret else None,
        config_secrets_encrypted=merged_config_secrets(ctx.box, None, secrets),
        missing=missing,
    )
    rate_limit.apply_rate_limit(bundle, trigger, body)
    session.add(bundle)
    await session.flush()
    session.add(BundleVersion(bundle_id=bundle.id, version=1, config=stored))
    if trigger.kind == "polling":
        session.add(
            PollState(
                bundle_id=bundle.id, workspace_id=actor.workspace_id, interval_minutes=config.schedule.interval_minutes
            )
        )
    entities = [step.entity for step in config.steps if step.entity]
    details = {
        "source_app": config.source.app,
        "trigger": config.source.trigger,
        "entity": entities[0] if entities else None,
    }
    await record_audit(session, actor, "created", "bundle", bundle.id, bundle.name, details)
    return await refreshed_out(ctx, bundle)


async def update_config(ctx: RequestContext, bundle_id: uuid.UUID, body: BundleIn) -> BundleOut:
    """Save a new configuration; events processed after this run with the new version."""
    bundle = await get_bundle(ctx, bundle_id)
    config = await _config(ctx, body)
    if config.source.app != bundle.source_app or config.source.trigger != bundle.config["source"]["trigger"]:
        raise InvalidInput(
            message("source_cannot_change", "the source of a saved bundle cannot change; create a new bundle"),
            details=[{"field": "source", "message": "cannot change"}],
        )
    trigger, missing = await validation.validate(ctx, config)
    secrets = take_config_secrets(config.source.config, trigger)
    stored = config.stored()
    # The parts of the configuration that changed, by name; the secrets only as "set".
    changed = changed_fields(bundle.config, stored) + (["webhook_secret"] if body.webhook_secret else [])
    changed += [f"source.config.{name}" for name in sorted(secrets)]
    changed += [rate_limit.FIELD] if rate_limit.apply_rate_limit(bundle, trigger, body) else []
    details: dict[str, Any] = {"changed": changed}
    if config.name != bundle.name:
        details["previous_name"] = bundle.name
    if stored != bundle.config:
        bundle.config_version += 1
        bundle.config = stored
        bundle.name = config.name
        bundle.source_connection_id = config.source.connection_id
        bundle.target_connection_id = config.steps[0].connection_id
        ctx.session.add(BundleVersion(bundle_id=bundle.id, version=bundle.config_version, config=stored))
        await repository.set_poll_interval(ctx.session, bundle.id, config.schedule.interval_minutes)
    bundle.missing = missing  # $metadata may have changed since the last save, even if the config did not
    if body.webhook_secret:
        bundle.webhook_secret_encrypted = encrypt_webhook_secret(ctx.box, body.webhook_secret)
    if secrets:
        bundle.config_secrets_encrypted = merged_config_secrets(ctx.box, bundle.config_secrets_encrypted, secrets)
    if changed:
        details["config_version"] = bundle.config_version
        await record_audit(ctx.session, ctx.actor, "updated", "bundle", bundle.id, bundle.name, details)
    return await refreshed_out(ctx, bundle)


async def delete(ctx: RequestContext, bundle_id: uuid.UUID) -> None:
    """Soft delete: history stays readable by id, the webhook URL answers 410."""
    bundle = await get_bundle(ctx, bundle_id)
    details = {"previous_status": bundle.status}
    await record_audit(ctx.session, ctx.actor, "deleted", "bundle", bundle.id, bundle.name, details)
    bundle.deleted_at = datetime.now(UTC)
    bundle.status = BundleStatus.stopped
    bundle.source_connection_id = None
    bundle.target_connection_id = None
    await repository.pause_polling(ctx.session, bundle.id)
    await ctx.session.flush()
