"""`POST /bundles/{id}/preview`: the bundle's filter and each of its steps applied to an item.

Reads lookups, writes nothing. Unsaved steps (or round 1's unsaved mapping of the first step) get
the caller's profile zone in their date steps as a save would, and pass the checks of a save that
need no bpm'online; the filter, the conditions and the mappings run as the worker runs them: under
one budget, off the event loop. The earlier steps' records are stand-ins (`step_preview`).
"""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.metadata import Metadata
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.bundle_steps import BundleStep, StepAction, read_columns
from bpmlink.connections import bpm_connection
from bpmlink.db.models import Bundle, Connection
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput, first_problem
from bpmlink.mapping.budget import Budget, Busy, off_loop
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.rules import MappingRule
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.step_results import StepResult
from bpmlink.targets import target_fields
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from . import validation
from .preview_limit import PreviewBusy, count_preview
from .schemas import FieldProblem, PreviewIn, PreviewOut, StepPreview
from .service import get_bundle, with_profile_timezone
from .step_checks import connections_of
from .step_preview import Target, preview_step


async def bundle_and_item(
    ctx: RequestContext, bundle_id: uuid.UUID, item: dict[str, Any] | None
) -> tuple[Bundle, dict[str, Any]]:
    """The bundle and the item to try (default: its sample), the preview window counted first."""
    await count_preview(ctx.redis, ctx.actor.user_id)
    bundle = await get_bundle(ctx, bundle_id)
    item = item if item is not None else bundle.sample
    if item is None:
        raise InvalidInput(message("no_sample_yet", "no sample yet: send a test request or fetch a sample first"))
    return bundle, item


async def draft_steps(
    ctx: RequestContext, saved: list[BundleStep], steps: list[BundleStep] | None, mapping: list[MappingRule] | None
) -> list[BundleStep]:
    """The steps to try: the unsaved ones, else the saved ones with round 1's unsaved mapping as the
    first step's; an unsaved mapping gets the profile zone as at save."""
    if steps is not None:
        return [s.model_copy(update={"mapping": await with_profile_timezone(ctx, s.mapping)}) for s in steps]
    if mapping is None:
        return saved
    first = saved[0].model_copy(update={"mapping": await with_profile_timezone(ctx, mapping)})
    return [first, *saved[1:]]


async def step_connections(ctx: RequestContext, steps: list[BundleStep]) -> dict[uuid.UUID, Connection]:
    """Each step's connection of this workspace; 422 naming the steps whose is not."""
    connections, unknown = await connections_of(ctx, steps)
    if unknown:
        raise InvalidInput(first_problem(unknown), details=unknown)
    return connections


def step_target(step: BundleStep, metadata: Metadata, client: BpmClient) -> Target:
    """What a step's mapping is checked against: its entity's fields; none for a process or a file."""
    resolver = make_resolver(client, StepRecorder(), allow_create=False)
    if step.action == StepAction.run_process or (step.action == StepAction.attach_file and step.entity is None):
        return Target(None, resolver)
    assert step.entity is not None
    info = metadata.entities.get(step.entity)
    if info is None:
        message = f"bpm'online has no entity {step.entity!r}"
        return Target(None, None, FieldProblem(field="entity", message=message, code="entity_unknown"))
    return Target(None if step.action == StepAction.attach_file else target_fields(info), resolver)


async def preview(ctx: RequestContext, bundle_id: uuid.UUID, body: PreviewIn) -> PreviewOut:
    bundle, item = await bundle_and_item(ctx, bundle_id, body.item)
    config = BundleConfig.model_validate(bundle.config)
    config.steps = await draft_steps(ctx, config.steps, body.steps, body.mapping)
    if "filter" in body.model_fields_set:
        config.filter = body.filter
    validation.check_user_code(config)
    connections = await step_connections(ctx, config.steps)
    budget = Budget(owner=ctx.workspace_id)
    try:
        verdict = await off_loop(budget, explain, config.filter, item, budget=budget)
    except Busy as exc:
        raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
    except MappingError as exc:
        return PreviewOut(passed_filter=False, filter_reason=exc.message, values={}, errors=[], warnings=[])
    columns = read_columns(config.steps)
    results: dict[str, StepResult] = {}
    steps: list[StepPreview] = []
    async with AsyncExitStack() as stack:
        clients = {
            cid: await stack.enter_async_context(
                BpmClient(bpm_connection(row, ctx.box), settings=ctx.settings, redis=ctx.redis)
            )
            for cid, row in connections.items()
        }
        try:
            metadata = {cid: await client.metadata() for cid, client in clients.items()}
            for step in config.steps:
                target = step_target(step, metadata[step.connection_id], clients[step.connection_id])
                wanted = columns.get(step.key, set())
                steps.append(await preview_step(step, item, config.steps, results, wanted, target, budget))
        except Busy as exc:
            raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
        except BpmError as exc:
            raise UpstreamError(
                message("lookup_failed", f"a lookup failed in bpm'online: {exc}", remote=str(exc))
            ) from exc
    first = steps[0]
    return PreviewOut(
        passed_filter=verdict.passed,
        filter_reason=verdict.reason or None,
        values=first.values,
        errors=first.errors,
        warnings=first.warnings,
        steps=steps,
    )
