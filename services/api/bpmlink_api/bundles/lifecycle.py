"""A bundle's run state: start (letting held events go or dropping them), stop, a new webhook URL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bpmlink.bundle_config import BundleConfig
from bpmlink.bundle_steps import BundleStep
from bpmlink.catalog import get_app
from bpmlink.db.models import Bundle, BundleStatus
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput
from bpmlink.webhooks import new_webhook_token, webhook_token_columns
from bpmlink_api.audit.service import record_audit
from bpmlink_api.deps import RequestContext

from . import repository, telegram
from .schemas import BundleOut
from .service import get_bundle, refreshed_out
from .step_checks import connections_of, step_problem

DISCARDED = "discarded by the user when the bundle was started"

# What a trigger's `on_start` (catalog) does on the sender's side when its bundle starts.
START_HOOKS: dict[str, Callable[[RequestContext, Bundle], Awaitable[None]]] = {
    "telegram_set_webhook": telegram.register_webhook,
}


async def start(ctx: RequestContext, bundle_id: uuid.UUID, held: str) -> BundleOut:
    bundle = await get_bundle(ctx, bundle_id)
    app = get_app(bundle.source_app)
    trigger = app.trigger(bundle.config["source"]["trigger"]) if app else None
    if trigger is None:
        raise InvalidInput(message("source_gone_from_catalog", "the bundle's source no longer exists in the catalog"))
    steps = BundleConfig.model_validate(bundle.config).steps
    _, unknown = await connections_of(ctx, steps)
    if bundle.target_connection_id is None or unknown:
        problems = unknown or [{"field": "steps.0.connection_id", "message": "required", "loc": ["body", "steps", 0]}]
        raise InvalidInput(
            message("step_without_connection", "a step of the bundle has no bpm'online connection"), details=problems
        )
    if bundle.missing:
        problems = unmapped_problems(steps, bundle.missing)
        first = problems[0]  # the step and the fields, in the reader's words (step_fields_unmapped)
        raise InvalidInput(message(first["code"], first["message"], **first["params"]), details=problems)
    previous_status = bundle.status
    bundle.status = BundleStatus.running if trigger.kind == "polling" else BundleStatus.waiting
    bundle.status_reason = None
    if previous_status != bundle.status and trigger.on_start and (hook := START_HOOKS.get(trigger.on_start)):
        await hook(ctx, bundle)
    if trigger.kind == "polling":
        await repository.poll_now(ctx.session, bundle.id)
    held_ids = await repository.held_event_ids(ctx.session, bundle.id)
    if held_ids:
        if held == "process":
            await repository.release_held(ctx.session, held_ids, bundle.config_version)
            for event_id in held_ids:
                ctx.jobs.enqueue_event(event_id)
        else:
            await repository.discard_held(ctx.session, held_ids, DISCARDED)
    # Starting a running bundle changes nothing, unless it let held events go or dropped them.
    if previous_status != bundle.status or held_ids:
        details: dict[str, Any] = {"previous_status": previous_status, "status": bundle.status}
        if held_ids:
            details["held"] = {"count": len(held_ids), "decision": held}
        await record_audit(ctx.session, ctx.actor, "started", "bundle", bundle.id, bundle.name, details)
    return await refreshed_out(ctx, bundle)


def unmapped_problems(steps: Sequence[BundleStep], missing: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    """One problem per step whose required fields are unmapped, naming the step and the fields."""
    problems = []
    for i, step in enumerate(steps):
        fields = [m["field"] for m in missing if m["step"] == step.key]
        if fields:
            name = step.name or step.key
            message = f"step «{name}»: the required fields are not mapped: {', '.join(fields)}"
            params = {"step": name, "fields": ", ".join(fields), "count": len(fields)}
            problems.append(step_problem(i, "mapping", message, "step_fields_unmapped", params))
    return problems


async def stop(ctx: RequestContext, bundle_id: uuid.UUID) -> BundleOut:
    bundle = await get_bundle(ctx, bundle_id)
    if bundle.status != BundleStatus.stopped:
        details = {"previous_status": bundle.status}
        await record_audit(ctx.session, ctx.actor, "stopped", "bundle", bundle.id, bundle.name, details)
    bundle.status = BundleStatus.stopped
    bundle.status_reason = None
    await repository.pause_polling(ctx.session, bundle.id)
    return await refreshed_out(ctx, bundle)


async def regenerate_token(ctx: RequestContext, bundle_id: uuid.UUID) -> BundleOut:
    bundle = await get_bundle(ctx, bundle_id)
    if bundle.webhook_token_hash is None:
        raise InvalidInput(message("url_webhook_only", "only a webhook bundle has a URL"))
    for column, value in webhook_token_columns(ctx.box, new_webhook_token()).items():
        setattr(bundle, column, value)
    # The token is the URL's secret: the entry says it changed, not what it is now.
    details = {"changed": ["webhook_url"]}
    await record_audit(ctx.session, ctx.actor, "updated", "bundle", bundle.id, bundle.name, details)
    return await refreshed_out(ctx, bundle)
