"""Dedup and push one mapped record to bpm'online (invariants 2 and 3).

- A create sends an `Id` derived from the event id, and a retry checks it first, so a
  worker that dies after bpm'online wrote the row never causes a second one.
- Events of one bundle with the same match key are serialised by a Redis lock on that key,
  so two workers cannot both miss the search and both create.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.filters import Expr, F
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import OperationStatus
from bpmlink.mapping.dedup import DedupMode, DedupPolicy, match_key, merge_for_update
from bpmlink.mapping.types import TargetField

_RECORD_NAMESPACE = uuid.UUID("b9d6f0a2-41c3-4e0e-9a5b-6d1f8e2c7a30")
LOCK_SECONDS = 120


def record_id_for(event_id: uuid.UUID) -> uuid.UUID:
    """The Id a create for this event sends: the same on every attempt and every worker."""
    return uuid.uuid5(_RECORD_NAMESPACE, str(event_id))


@dataclass(frozen=True)
class PushResult:
    status: OperationStatus
    record_id: str | None
    note: str | None = None


MATCH_LIMIT = 20  # records read when several match; the operation reports the count


def _match_filter(policy: DedupPolicy, values: dict[str, Any], fields: dict[str, TargetField]) -> Expr:
    parts = []
    for name in policy.match_fields:
        field = fields.get(name)
        value = values[name]
        if field is not None and field.lookup_entity:
            parts.append(F.eq_lookup(name, value))  # lookups filter through the navigation path
        elif isinstance(value, str) and "@" in value and (field is None or field.type == "Edm.String"):
            parts.append(F.eq_ignore_case(name, value))  # e-mails match whatever their case
        else:
            parts.append(F.eq(name, value))
    return F.and_(*parts)


async def push(
    client: BpmClient,
    redis: aioredis.Redis,
    *,
    bundle_id: uuid.UUID,
    event_id: uuid.UUID,
    entity: str,
    values: dict[str, Any],
    fields: dict[str, TargetField],
    policy: DedupPolicy,
    retry: bool,
    recorder: StepRecorder,
) -> PushResult:
    record_id = record_id_for(event_id)

    async def create() -> PushResult:
        result = await client.create_idempotent(entity, values, record_id, check_first=retry, recorder=recorder)
        return PushResult(OperationStatus.created, str(result.record.get("Id", record_id)))

    if policy.mode == DedupMode.ALWAYS_CREATE:
        return await create()
    key = match_key(policy, values)
    if key is None:
        if policy.mode == DedupMode.UPDATE_ONLY:
            return PushResult(OperationStatus.not_found, None, "a match field is empty, so nothing can be found")
        return await create()
    digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
    async with redis.lock(f"bpmlink:match:{bundle_id}:{digest}", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS):
        select = sorted({"Id", "ModifiedOn", *policy.match_fields, *values})
        found = await client.query(
            entity,
            filter=_match_filter(policy, values, fields),
            select=select,
            orderby=["ModifiedOn desc", "Id"],
            top=MATCH_LIMIT,
            recorder=recorder,
        )
        if not found:
            if policy.mode == DedupMode.UPDATE_ONLY:
                return PushResult(OperationStatus.not_found, None, "no record matches")
            return await create()
        ours = next((r for r in found if str(r.get("Id")) == str(record_id)), None)
        if ours is not None:
            # Our own create from an earlier attempt of this event (the worker died after it).
            return PushResult(OperationStatus.created, str(record_id))
        existing = found[0]  # the most recently modified
        existing_id = str(existing.get("Id"))
        note = None
        if len(found) > 1:
            count = f"{len(found)}+" if len(found) == MATCH_LIMIT else str(len(found))
            note = f"{count} records match; the most recently modified one was used"
        if policy.mode == DedupMode.SKIP_IF_FOUND:
            return PushResult(OperationStatus.skipped_duplicate, existing_id, note)
        patch = merge_for_update(existing, values, policy.update_rules)
        if not patch:
            return PushResult(OperationStatus.unchanged, existing_id, note)
        await client.update(entity, existing_id, patch, recorder=recorder)
        return PushResult(OperationStatus.updated, existing_id, note)
