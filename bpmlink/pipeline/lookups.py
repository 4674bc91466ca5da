"""Resolve a lookup's display value to the referenced record's Id, cached briefly per connection."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.filters import F
from bpmlink.bpmonline.steps import StepRecorder

CACHE_SECONDS = 60.0
# A worker resolves values for every tenant for months: keep the most recent ones, not all it ever saw.
MAX_CACHED = 10_000
_NAMESPACE = uuid.UUID("6f1c2d1e-8a57-4bb1-9d7c-0c5d3b7b1a11")

# (connection id, entity, column, value) → (expires at, Id), oldest first
_cache: dict[tuple[str, str, str, str], tuple[float, str]] = {}


def _remember(key: tuple[str, str, str, str], record_id: str) -> None:
    now = time.monotonic()
    _cache.pop(key, None)  # re-inserted last: the newest
    if len(_cache) >= MAX_CACHED:
        for stale in [k for k, (expires, _) in _cache.items() if expires <= now]:
            del _cache[stale]
    while len(_cache) >= MAX_CACHED:
        del _cache[next(iter(_cache))]
    _cache[key] = (now + CACHE_SECONDS, record_id)


def lookup_record_id(connection_id: str, entity: str, by: str, value: str) -> uuid.UUID:
    """A deterministic Id for a lookup record we create, so a retry or a race creates one."""
    return uuid.uuid5(_NAMESPACE, f"{connection_id}\x1f{entity}\x1f{by}\x1f{value.casefold()}")


def make_resolver(
    client: BpmClient, recorder: StepRecorder, *, allow_create: bool
) -> Callable[[str, str, str, bool], Awaitable[str | None]]:
    """The mapping engine's LookupResolver; with allow_create False (preview) nothing is written."""
    connection_id = client.connection.id

    async def resolve(entity: str, by: str, value: str, create_if_missing: bool) -> str | None:
        key = (connection_id, entity, by, value)
        hit = _cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        rows = await client.query(entity, filter=F.eq(by, value), select=["Id"], top=1, recorder=recorder)
        record_id: str | None = str(rows[0]["Id"]) if rows else None
        if record_id is None and create_if_missing and allow_create:
            created = await client.create_idempotent(
                entity, {by: value}, lookup_record_id(connection_id, entity, by, value), recorder=recorder
            )
            record_id = str(created.record.get("Id"))
        if record_id is not None:
            _remember(key, record_id)
        return record_id

    return resolve
