"""`POST /bundles/{id}/dedup-preview`: what the duplicate search finds for an item right now.

The item (default: the bundle's sample) is mapped and searched for in the connected bpm'online
exactly as the worker would (the same groups, comparisons and phone search), and nothing is
written. Rate-limited with the mapping preview: it runs the same user code.
"""

from __future__ import annotations

import uuid
from typing import Literal

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_config import BundleConfig
from bpmlink.connections import bpm_connection, get_connection
from bpmlink.kit.web import InvalidInput
from bpmlink.mapping.budget import Budget, Busy, LimitExceeded
from bpmlink.mapping.dedup import UPDATE_ALL_CAP, DedupMode, DedupPolicy, OnSeveral, with_phone_defaults
from bpmlink.mapping.engine import apply_mapping
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.match_search import GroupFound, communication_entity, phone_search_of, search
from bpmlink.targets import target_fields
from bpmlink_api.deps import RequestContext
from bpmlink_api.errors import UpstreamError

from .preview_limit import PreviewBusy, count_preview
from .schemas import DedupCandidate, DedupPreviewIn, DedupPreviewOut, FieldProblem
from .service import get_bundle

Action = Literal["create", "update", "skip"]


async def dedup_preview(ctx: RequestContext, bundle_id: uuid.UUID, body: DedupPreviewIn) -> DedupPreviewOut:
    await count_preview(ctx.redis, ctx.actor.user_id)
    bundle = await get_bundle(ctx, bundle_id)
    item = body.item if body.item is not None else bundle.sample
    if item is None:
        raise InvalidInput("no sample yet: send a test request or fetch a sample first")
    config = BundleConfig.model_validate(bundle.config)
    policy = with_phone_defaults(body.dedup or config.dedup, config.mapping)
    target = await get_connection(ctx.session, ctx.workspace_id, config.target.connection_id)
    if target is None:
        raise InvalidInput("the bundle's bpm'online connection is gone")
    budget = Budget(owner=ctx.workspace_id)
    async with BpmClient(bpm_connection(target, ctx.box), settings=ctx.settings, redis=ctx.redis) as client:
        try:
            metadata = await client.metadata()
            info = metadata.entities.get(config.target.entity)
            if info is None:
                raise InvalidInput(f"bpm'online has no entity {config.target.entity!r}")
            fields = target_fields(info)
            resolver = make_resolver(client, StepRecorder(), allow_create=False)
            mapped = await apply_mapping(config.mapping, item, fields, resolver, budget=budget)
            comm = communication_entity(metadata, config.target.entity)
            found = None
            if policy.mode != DedupMode.ALWAYS_CREATE:
                found = await search(client, config.target.entity, policy, mapped.values, fields, comm, StepRecorder())
        except Busy as exc:
            raise PreviewBusy(exc.message, headers={"Retry-After": "1"}) from None
        except LimitExceeded as exc:
            raise InvalidInput(
                exc.message, details=[{"field": exc.field or "mapping", "message": exc.message}]
            ) from exc
        except BpmError as exc:
            raise UpstreamError(f"the search failed in bpm'online: {exc}") from exc
    return DedupPreviewOut(
        group=found.index if found else None,
        fields=policy.match[found.index].fields if found else [],
        values=found.values if found else {},
        candidates=[DedupCandidate(id=str(r.get("Id")), name=_name(r)) for r in found.records] if found else [],
        phone_search=phone_search_of(policy, comm),
        action=_action(policy, found),
        errors=[FieldProblem(field=e.field, message=e.message) for e in mapped.errors],
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
