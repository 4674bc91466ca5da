"""`POST /bundles/{id}/dedup-preview`: what the duplicate search finds for an item right now.

The item (default: the bundle's sample) is mapped by one step (`step`, default the first that
searches) and searched for in that step's bpm'online exactly as the worker would (the same groups,
comparisons and phone search), and nothing is written. Rate-limited with the mapping preview: it
runs the same user code.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.bundle_steps import BundleStep, for_each_elements, read_columns
from bpmlink.connections import bpm_connection
from bpmlink.kit.messages import message
from bpmlink.kit.web import InvalidInput
from bpmlink.mapping.budget import Budget, Busy, LimitExceeded
from bpmlink.mapping.dedup import UPDATE_ALL_CAP, DedupMode, DedupPolicy, OnSeveral, with_phone_defaults
from bpmlink.mapping.engine import apply_mapping
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.match_search import GroupFound, communication_entity, phone_search_of, search
from bpmlink.pipeline.step_scope import for_each_value, step_scope
from bpmlink.targets import target_fields
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from .preview import bundle_and_item, step_connections
from .preview_limit import PreviewBusy
from .schemas import DedupCandidate, DedupPreviewIn, DedupPreviewOut, FieldProblem
from .step_preview import stand_in

Action = Literal["create", "update", "skip"]


def searched_step(steps: list[BundleStep], key: str | None) -> int:
    """The position of the step to search for: the one named, else the first that searches."""
    at = next((i for i, step in enumerate(steps) if (step.key == key if key else step.searches)), None)
    if at is None:
        message = f"no step {key!r}" if key else "no step of the bundle searches for duplicates"
        details: list[dict[str, Any]] = [
            {"field": "step", "message": message, "code": "step_unknown" if key else "no_step_searches"}
        ]
        raise InvalidInput(message, details=details)
    if not steps[at].searches:
        message = f"the step {key!r} does not search for duplicates ({steps[at].action})"
        params = {"step": key, "action": steps[at].action}
        details = [{"field": "step", "message": message, "code": "step_does_not_search", "params": params}]
        raise InvalidInput(message, details=details)
    return at


async def dedup_preview(ctx: RequestContext, bundle_id: uuid.UUID, body: DedupPreviewIn) -> DedupPreviewOut:
    """The step's mapping in its scope (earlier steps as the preview's stand-ins, a for_each step's
    first element), then its search."""
    bundle, item = await bundle_and_item(ctx, bundle_id, body.item)
    steps = BundleConfig.model_validate(bundle.config).steps
    at = searched_step(steps, body.step)
    step = steps[at]
    assert step.entity is not None  # a searching step has one
    policy = with_phone_defaults(body.dedup or step.dedup, step.mapping)
    target = (await step_connections(ctx, [step]))[step.connection_id]
    columns = read_columns(steps)
    results = {s.key: stand_in(s, columns.get(s.key, set())) for s in steps[:at]}
    scope = step_scope(item, steps, results)
    if step.for_each is not None:
        elements = for_each_elements(for_each_value(step, scope)) or []
        if not elements:
            raise InvalidInput(
                message(
                    "dedup_for_each_empty",
                    f"for_each {step.for_each!r} gives no element to search for",
                    path=step.for_each,
                )
            )
        scope = step_scope(item, steps, results, element=elements[0], index=0)
    budget = Budget(owner=ctx.workspace_id)
    async with BpmClient(bpm_connection(target, ctx.box), settings=ctx.settings, redis=ctx.redis) as client:
        try:
            metadata = await client.metadata()
            info = metadata.entities.get(step.entity)
            if info is None:
                raise InvalidInput(
                    message("entity_unknown", f"bpm'online has no entity {step.entity!r}", entity=step.entity)
                )
            fields = target_fields(info)
            resolver = make_resolver(client, StepRecorder(), allow_create=False)
            mapped = await apply_mapping(step.mapping, scope, fields, resolver, budget=budget)
            comm = communication_entity(metadata, step.entity)
            found = None
            if policy.mode != DedupMode.ALWAYS_CREATE:
                found = await search(client, step.entity, policy, mapped.values, fields, comm, StepRecorder())
        except Busy as exc:
            raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
        except LimitExceeded as exc:
            raise InvalidInput(
                exc.message, details=[{"field": exc.field or "mapping", "message": exc.message}]
            ) from exc
        except BpmError as exc:
            raise UpstreamError(
                message("search_failed", f"the search failed in bpm'online: {exc}", remote=str(exc))
            ) from exc
    return DedupPreviewOut(
        step=step.key,
        group=found.index if found else None,
        fields=policy.match[found.index].fields if found else [],
        values=found.values if found else {},
        candidates=[DedupCandidate(id=str(r.get("Id")), name=_name(r)) for r in found.records] if found else [],
        phone_search=phone_search_of(policy, comm),
        action=_action(policy, found),
        errors=[FieldProblem(field=e.field, message=e.message, code=e.code, params=e.params) for e in mapped.errors],
    )


def _action(policy: DedupPolicy, found: GroupFound | None) -> Action:
    """What the worker would do (its own earlier create aside: a preview has no event)."""
    if found is None:
        return "skip" if policy.mode == DedupMode.UPDATE_ONLY else "create"
    several = len(found.records) > 1
    if policy.mode == DedupMode.SKIP_IF_FOUND or (several and policy.on_several == OnSeveral.SKIP):
        return "skip"
    if several and policy.on_several == OnSeveral.UPDATE_ALL and len(found.records) > UPDATE_ALL_CAP:
        return "skip"
    return "update"


def _name(record: dict[str, object]) -> str | None:
    for column in ("Name", "Title", "LeadName", "Subject", "Number"):
        if isinstance(record.get(column), str) and record[column]:
            return str(record[column])
    return None
