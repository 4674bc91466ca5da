"""A bundle's sample: captured, set by hand or fetched from the source (the preview is in `preview`)."""

from __future__ import annotations

import uuid
from typing import Any

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Bundle
from bpmlink.kit.messages import message
from bpmlink.kit.web import AppError, InvalidInput
from bpmlink.sources import FetchEnv, SourceError, get_source, load_source, trigger_config
from bpmlink_api.deps import RequestContext

from .schemas import SampleOut
from .service import get_bundle


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
            raise InvalidInput(
                message(
                    "sample_capture_webhook_only", "capture mode is for webhook bundles; polling bundles fetch a sample"
                )
            )
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
        raise InvalidInput(
            message(
                "sample_fetch_polling_only", "fetching a sample is for polling bundles; webhook bundles capture one"
            )
        )
    recorder = StepRecorder(system=bundle.source_app)
    env = FetchEnv(ctx.settings, redis=ctx.redis)
    try:
        source, conn = await load_source(ctx.session, ctx.box, bundle)
        page = await source.fetch(conn, trigger_config(bundle), None, 1, recorder, env)
    except SourceError as exc:
        # The source's request and answer (redacted as in history), so the wizard can show what went wrong.
        requests = [step.to_dict() for step in (exc.steps or recorder.steps)]
        details = {"code": exc.code, "params": exc.params, "requests": requests}
        raise SourceUnavailable(
            message("source_failed", f"the source failed: {exc.message}", error=exc.message), details=details
        ) from exc
    if not page.items:
        raise InvalidInput(
            message("sample_source_empty", "the source has no items yet: add one there, or set a sample by hand")
        )
    bundle.sample = page.items[0][1]
    bundle.capture_sample = False
    await ctx.session.flush()
    return sample_out(bundle)
