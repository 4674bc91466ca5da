"""A bundle's sample (captured, set by hand or fetched from the source) and the preview of its mapping."""

from __future__ import annotations

import uuid
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.db.models import Bundle
from bpmlink.kit.web import AppError, InvalidInput
from bpmlink.mapping.budget import Budget, Busy, LimitExceeded, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.sources import FetchEnv, SourceError, get_source, load_source, trigger_config
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from . import validation
from .preview_limit import PreviewBusy, count_preview
from .schemas import FieldProblem, PreviewIn, PreviewOut, SampleOut
from .service import get_bundle, with_profile_timezone


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


async def get_sample(ctx: RequestContext, bundle_id: uuid.UUID) -> SampleOut:
    return sample_out(await get_bundle(ctx, bundle_id))


async def set_sample(
    ctx: RequestContext, bundle_id: uuid.UUID, capture: bool | None, item: dict[str, Any] | None
) -> SampleOut:
    bundle = await get_bundle(ctx, bundle_id)
    if item is not None:
        bundle.sample = item
        bundle.capture_sample = False
    elif capture is not None:
        if capture and bundle.webhook_token_hash is None:
            raise InvalidInput("capture mode is for webhook bundles; polling bundles fetch a sample")
        bundle.capture_sample = capture
    await ctx.session.flush()
    return sample_out(bundle)


class SourceUnavailable(AppError):
    status_code = 502
    code = "source_error"


async def fetch_sample(ctx: RequestContext, bundle_id: uuid.UUID) -> SampleOut:
    """Fetch one item from a polling source (from the beginning, the cursor untouched) as the sample."""
    bundle = await get_bundle(ctx, bundle_id)
    source = get_source(bundle.source_app)
    if source is None or bundle.webhook_token_hash is not None:
        raise InvalidInput("fetching a sample is for polling bundles; webhook bundles capture one")
    recorder = StepRecorder(system=bundle.source_app)
    env = FetchEnv(ctx.settings, redis=ctx.redis)
    try:
        source, conn = await load_source(ctx.session, ctx.box, bundle)
        page = await source.fetch(conn, trigger_config(bundle), None, 1, recorder, env)
    except SourceError as exc:
        raise SourceUnavailable(f"the source failed: {exc.message}", details={"code": exc.code}) from exc
    if not page.items:
        raise InvalidInput("the source has no items yet: add one there, or set a sample by hand")
    bundle.sample = page.items[0][1]
    bundle.capture_sample = False
    await ctx.session.flush()
    return sample_out(bundle)


async def preview(ctx: RequestContext, bundle_id: uuid.UUID, body: PreviewIn) -> PreviewOut:
    """The mapping applied to the sample: reads lookups, writes nothing. An unsaved mapping gets
    the caller's profile zone in its date steps as a save would, so the preview shows what the
    saved bundle will do. Unsaved filters and rules pass the checks of a save; the filter and the
    mapping run as the worker runs them: under one budget, off the event loop."""
    await count_preview(ctx.redis, ctx.actor.user_id)
    bundle = await get_bundle(ctx, bundle_id)
    item = body.item if body.item is not None else bundle.sample
    if item is None:
        raise InvalidInput("no sample yet: send a test request or fetch a sample first")
    config = BundleConfig.model_validate(bundle.config)
    if body.mapping is not None:
        config.mapping = await with_profile_timezone(ctx, body.mapping)
    if "filter" in body.model_fields_set:
        config.filter = body.filter
    validation.check_user_code(config)
    budget = Budget(owner=ctx.workspace_id)
    try:
        verdict = await off_loop(budget, explain, config.filter, item, budget=budget)
    except Busy as exc:
        raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
    except MappingError as exc:
        return PreviewOut(passed_filter=False, filter_reason=exc.message, values={}, errors=[], warnings=[])
    target = await get_connection(ctx.session, ctx.workspace_id, config.target.connection_id)
    if target is None:
        raise InvalidInput("the bundle's bpm'online connection is gone")
    async with BpmClient(bpm_connection(target, ctx.box), settings=ctx.settings, redis=ctx.redis) as client:
        fields = await validation.entity_fields(client, config.target.entity)
        resolver = make_resolver(client, StepRecorder(), allow_create=False)
        try:
            mapped = await apply_mapping(config.mapping, item, fields, resolver, budget=budget)
        except Busy as exc:
            raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
        except LimitExceeded as exc:
            problem = FieldProblem(field=exc.field or "mapping", message=exc.message)
            return PreviewOut(
                passed_filter=verdict.passed,
                filter_reason=verdict.reason or None,
                values={},
                errors=[problem],
                warnings=[],
            )
        except BpmError as exc:
            raise UpstreamError(f"a lookup failed in bpm'online: {exc}") from exc
    return PreviewOut(
        passed_filter=verdict.passed,
        filter_reason=verdict.reason or None,
        values=mapped.values,
        errors=[FieldProblem(field=e.field, message=e.message) for e in mapped.errors],
        warnings=[FieldProblem(field=e.field, message=e.message) for e in mapped.warnings],
    )
