"""Dedup and push one mapped record to bpm'online (invariants 2 and 3).

- A create sends an `Id` derived from the event id, and a retry checks it first, so a
  worker that dies after bpm'online wrote the row never causes a second one.
- Events of one bundle with the same match key are serialised by a Redis lock on that key,
  so two workers cannot both miss the search and both create. The lock keeps them apart, not in
  order: waiters take it in no fixed order (parked retries keep theirs: the worker's parked_retries).
- `push_many` does the same for many events of one bundle step with two `$batch` requests (all
  searches, then all writes). What cannot go in a batch (a retry, a key another event holds,
  the same key twice) it hands back, to take `push`'s path one at a time after the batch's
  locks are released — in the caller's own time, so a key held elsewhere for long never
  holds up the rest of the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bpmlink.bpmonline.batch import MAX_BATCH, BatchOp, BatchResult, sub_step
from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError, ServerError, ValidationError, is_duplicate_key
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.bundle_steps import MAIN, record_id_for
from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import Message
from bpmlink.mapping.dedup import UPDATE_ALL_CAP, DedupMode, DedupPolicy, OnSeveral, match_keys, merge_for_update
from bpmlink.mapping.types import TargetField
from bpmlink.pipeline.dedup_notes import (
    MATCH_FIELD_EMPTY,
    NO_MATCH,
    SEVERAL_SKIPPED,
    TOO_MANY_TO_UPDATE,
    USED,
    found_note,
)
from bpmlink.pipeline.match_search import (
    GroupFound,
    PhoneSearch,
    first_found,
    group_queries,
    phone_search_of,
    search,
)

LOCK_TTL = 15  # a key lock lives this long unless its holder renews it: a dead worker's keys free up soon
LOCK_WAIT = 120  # the longest an event waits for a key another event holds


__all__ = ["PushItem", "PushResult", "PushTarget", "push", "push_alone", "push_many", "record_id_for"]


@dataclass(frozen=True)
class PushResult:
    """`record`: the record as found or created (its columns as bpm'online gave them), for later steps."""

    status: OperationStatus
    record_id: str | None
    note: Message | None = None
    record: dict[str, Any] | None = field(default=None, compare=False)
    # An update's changed columns, {column: [old, new]} (the PATCH of the record found; None otherwise).
    changes: dict[str, list[Any]] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class PushTarget:
    """What one bundle step pushes to: its entity and fields, its dedup policy, the communication
    entity its phones are searched in, the columns later steps read of the record (`select`), and
    for find_record `find_only` (search, never write)."""

    bundle_id: uuid.UUID
    entity: str
    fields: dict[str, TargetField]
    policy: DedupPolicy
    comm_entity: str | None = None
    step: str = MAIN
    select: tuple[str, ...] = ()
    find_only: bool = False

    @property
    def lock_scope(self) -> str:
        """Match keys are locked per step (round 1's names for the step main)."""
        return str(self.bundle_id) if self.step == MAIN else f"{self.bundle_id}:{self.step}"


def _lock_name(scope: str, key: tuple[tuple[str, str], ...]) -> str:
    return f"bpmlink:match:{scope}:{hashlib.sha256(repr(key).encode()).hexdigest()[:32]}"


def _lock_names(target: PushTarget, values: dict[str, Any]) -> list[str]:
    """A lock for each group's key of the record, in a fixed order (no deadlock between events)."""
    if target.policy.mode == DedupMode.ALWAYS_CREATE and not target.find_only:
        return []
    return sorted({_lock_name(target.lock_scope, key) for key in match_keys(target.policy, values)})


_NO_MATCH_KEY = PushResult(OperationStatus.not_found, None, MATCH_FIELD_EMPTY)


@dataclass(frozen=True)
class _Write:
    """What to send after the search: a create (patch None) or a PATCH of `existing_id`, and for
    on_several=update_all the PATCHes of the other records found (`others`)."""

    existing_id: str | None = None
    patch: dict[str, Any] | None = None
    note: Message | None = None
    others: tuple[tuple[str, dict[str, Any]], ...] = ()
    existing: dict[str, Any] | None = None

    def updated(self) -> PushResult:
        """The result of this write once sent: the record as it is now (found, then patched)."""
        existing = self.existing or {}
        patch = self.patch or {}
        changes = {name: [existing.get(name), value] for name, value in patch.items()}
        return PushResult(OperationStatus.updated, self.existing_id, self.note, {**existing, **patch}, changes)


def _decide(
    policy: DedupPolicy,
    values: dict[str, Any],
    record_id: uuid.UUID,
    found: GroupFound | None,
    phone_search: PhoneSearch | None = None,
    find_only: bool = False,
) -> PushResult | _Write:
    """The policy applied to what the search found: a final result, or the write(s) to make.
    `find_only` (find_record): found is `unchanged` with the record, never a write."""
    if found is None:
        if policy.mode == DedupMode.UPDATE_ONLY or find_only:
            return PushResult(OperationStatus.not_found, None, NO_MATCH)
        return _Write()
    records = found.records
    own = next((r for r in records if str(r.get("Id")) == str(record_id)), None)
    if own is not None and not find_only:
        # Our own create from an earlier attempt of this event (the worker died after it).
        return PushResult(OperationStatus.created, str(record_id), record=own)
    several = len(records) > 1
    if several and policy.on_several == OnSeveral.SKIP:
        note = found_note(policy, found, phone_search, SEVERAL_SKIPPED)
        return PushResult(OperationStatus.skipped_duplicate, None, note)
    if several and policy.on_several == OnSeveral.UPDATE_ALL and len(records) > UPDATE_ALL_CAP:
        note = found_note(policy, found, phone_search, TOO_MANY_TO_UPDATE)
        return PushResult(OperationStatus.skipped_duplicate, None, note)
    existing = records[-1] if policy.on_several == OnSeveral.OLDEST else records[0]
    existing_id = str(existing.get("Id"))
    if find_only:
        return PushResult(
            OperationStatus.unchanged, existing_id, found_note(policy, found, phone_search, None), existing
        )
    note = found_note(policy, found, phone_search, USED.get(policy.on_several) if several else None)
    if policy.mode == DedupMode.SKIP_IF_FOUND:
        return PushResult(OperationStatus.skipped_duplicate, existing_id, note, existing)
    others: tuple[tuple[str, dict[str, Any]], ...] = ()
    if several and policy.on_several == OnSeveral.UPDATE_ALL:
        patches = ((str(r.get("Id")), merge_for_update(r, values, policy.update_rules)) for r in records[1:])
        others = tuple((rid, patch) for rid, patch in patches if patch)
    patch = merge_for_update(existing, values, policy.update_rules)
    if not patch and not others:
        return PushResult(OperationStatus.unchanged, existing_id, note, existing)
    if not patch:  # update_all: the first record needs nothing, another does
        (existing_id, patch), others = others[0], others[1:]
    return _Write(existing_id, patch, note, others, existing)


async def push(client: BpmClient, redis: aioredis.Redis, target: PushTarget, item: PushItem) -> PushResult:
    """One record's dedup and write, waiting for its match keys' locks (the lone path)."""
    record_id, values, recorder = item.create_id, item.values, item.recorder

    async def create() -> PushResult:
        result = await client.create_idempotent(
            target.entity, values, record_id, check_first=item.retry, recorder=recorder
        )
        return PushResult(OperationStatus.created, str(result.record.get("Id", record_id)), record=result.record)

    policy = target.policy
    if policy.mode == DedupMode.ALWAYS_CREATE and not target.find_only:
        return await create()
    names = _lock_names(target, values)
    if not names:
        if policy.mode == DedupMode.UPDATE_ONLY or target.find_only:
            return _NO_MATCH_KEY
        return await create()
    async with contextlib.AsyncExitStack() as stack:
        for name in names:  # sorted: two events that share keys take them in one order
            lock = redis.lock(name, timeout=LOCK_TTL, blocking_timeout=LOCK_WAIT)
            await stack.enter_async_context(lock)
            await stack.enter_async_context(_renewed(redis, [name], lock.local.token.decode()))
        found = await search(
            client, target.entity, policy, values, target.fields, target.comm_entity, recorder, target.select
        )
        phone_search = phone_search_of(policy, target.comm_entity)
        decision = _decide(policy, values, record_id, found, phone_search, target.find_only)
        if isinstance(decision, PushResult):
            return decision
        if decision.patch is None:
            return await create()
        assert decision.existing_id is not None
        await client.update(target.entity, decision.existing_id, decision.patch, recorder=recorder)
        for other_id, patch in decision.others:
            await client.update(target.entity, other_id, patch, recorder=recorder)
        return decision.updated()
    raise AssertionError("unreachable")  # pragma: no cover - the block returns


@dataclass
class PushItem:
    """One mapped record (of an event, or of one for_each element) for `push_many`; `outcome` is
    filled in: a result or the error that ended it. `record_id`: the Id a create sends (default:
    round 1's, from the event id)."""

    event_id: uuid.UUID
    values: dict[str, Any]
    retry: bool
    recorder: StepRecorder
    outcome: PushResult | BpmError | None = None
    write: _Write | None = field(default=None, repr=False)
    record_id: uuid.UUID | None = None

    @property
    def create_id(self) -> uuid.UUID:
        return self.record_id or record_id_for(self.event_id)


# Takes each free lock (SET NX PX, like redis-py's Lock) and says which it took; never waits,
# so a batch holding some keys never waits for others (no deadlock between batches).
_TAKE_LOCKS = """
local taken = {}
for i, key in ipairs(KEYS) do
  taken[i] = redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
end
return taken
"""
_RENEW_LOCKS = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2]) end
end
return 0
"""
_RELEASE_LOCKS = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0
"""


async def push_many(
    client: BpmClient, redis: aioredis.Redis, target: PushTarget, items: Sequence[PushItem]
) -> list[PushItem]:
    """Dedup and push many records of one bundle step; every item gets its `outcome`, except those
    it returns: they are for `push_alone`."""
    policy = target.policy
    batched: list[PushItem] = []
    alone: list[PushItem] = []
    keyed: dict[str, PushItem] = {}
    wanted: list[tuple[PushItem, list[str]]] = []
    for item in items:
        names = _lock_names(target, item.values)
        if item.retry:
            alone.append(item)  # a retry checks for its own earlier create first: `push` does that
        elif not names and (policy.mode == DedupMode.UPDATE_ONLY or target.find_only):
            item.outcome = _NO_MATCH_KEY
        elif not names:
            item.write = _Write()
            batched.append(item)
        elif any(name in keyed for name in names):
            alone.append(item)  # a key twice: after the first, so it sees the first's record
        else:
            keyed.update(dict.fromkeys(names, item))
            wanted.append((item, names))
    token = uuid.uuid4().hex
    names = list(keyed)
    if names:
        result = await redis.eval(_TAKE_LOCKS, len(names), *names, token, str(LOCK_TTL * 1000))  # type: ignore[misc]
        taken = {name for name, ok in zip(names, result, strict=True) if ok}
        for item, item_names in wanted:
            # All of its keys or the lone path (which waits for them); keys it took are freed below.
            (batched if taken.issuperset(item_names) else alone).append(item)
        names = [name for name in names if name in taken]
    try:
        async with _renewed(redis, names, token):
            await _search_and_write(client, target, batched)
    finally:
        if names:
            await redis.eval(_RELEASE_LOCKS, len(names), *names, token)  # type: ignore[misc]
    # A create refused as a duplicate key may be our own (the answer to an earlier try was lost):
    # `push` as a retry looks the Id up.
    for item in batched:
        if isinstance(item.outcome, ValidationError) and item.write is not None and item.write.patch is None:
            if is_duplicate_key(item.outcome):
                item.retry, item.outcome = True, None
                alone.append(item)
    return alone


async def _search_and_write(client: BpmClient, target: PushTarget, batched: list[PushItem]) -> None:
    """One `$batch` of searches (every group of the items without a write yet), then one of
    creates and updates."""
    entity, policy, comm_entity = target.entity, target.policy, target.comm_entity
    searching = [item for item in batched if item.write is None]
    queries = [
        group_queries(client, entity, policy, item.values, target.fields, comm_entity, target.select)
        for item in searching
    ]
    flat = [(item, query) for item, item_queries in zip(searching, queries, strict=True) for query in item_queries]
    ops = [BatchOp.query(query.entity, query.params) for _, query in flat]
    results = await _run_batch(client, ops, [item for item, _ in flat])
    answers: dict[int, list[list[dict[str, Any]]]] = {id(item): [] for item in searching}
    for (item, _), result in zip(flat, results, strict=True):
        answers[id(item)].append([] if result is None else result.rows or [])
    phone_search = phone_search_of(policy, comm_entity)
    for item, item_queries in zip(searching, queries, strict=True):
        if item.outcome is not None:
            continue  # a search of it failed: that error is its outcome
        found = first_found(policy, item_queries, answers[id(item)])
        decision = _decide(policy, item.values, item.create_id, found, phone_search, target.find_only)
        if isinstance(decision, PushResult):
            item.outcome = decision
        else:
            item.write = decision
    writing = [item for item in batched if item.outcome is None and item.write is not None]
    writes = [_write_op(entity, item) for item in writing]
    for item, result in zip(writing, await _run_batch(client, writes, writing), strict=True):
        if result is None:
            continue
        write = item.write
        assert write is not None
        if write.patch is not None:
            item.outcome = write.updated()
        else:
            record = result.body or {}
            item.outcome = PushResult(OperationStatus.created, str(record.get("Id", item.create_id)), record=record)
    await _update_others(client, entity, writing)


async def _update_others(client: BpmClient, entity: str, items: list[PushItem]) -> None:
    """on_several=update_all: the other records found, after the first (rare, so one by one)."""
    for item in items:
        if item.write is None or not item.write.others or not isinstance(item.outcome, PushResult):
            continue
        try:
            for other_id, patch in item.write.others:
                await client.update(entity, other_id, patch, recorder=item.recorder)
        except BpmError as exc:
            item.outcome = exc


@contextlib.asynccontextmanager
async def _renewed(redis: aioredis.Redis, names: list[str], token: str) -> AsyncIterator[None]:
    """Keep renewing the holder's locks on `names` while the body runs (at a third of LOCK_TTL)."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(LOCK_TTL / 3)
            await redis.eval(_RENEW_LOCKS, len(names), *names, token, str(LOCK_TTL * 1000))  # type: ignore[misc]

    task = asyncio.create_task(renew()) if names else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _write_op(entity: str, item: PushItem) -> BatchOp:
    write = item.write
    assert write is not None
    if write.patch is not None:
        assert write.existing_id is not None
        return BatchOp.update(entity, write.existing_id, write.patch)
    return BatchOp.create(entity, item.values, item.create_id)


async def _run_batch(client: BpmClient, ops: list[BatchOp], items: list[PushItem]) -> list[BatchResult | None]:
    """Send `ops` (one per item) in `$batch` requests; a failed op or request becomes its items' outcome.

    Returns each item's result, or None where the item already has its outcome (an error).
    Every item's recorder gets the steps of the requests made for it.
    """
    if client.dialect.version == 3:
        # No $batch in OData 3: each op is its own request, recorded in its own item's history.
        singles = await asyncio.gather(
            *(
                client.batch([op], continue_on_error=True, recorder=item.recorder)
                for op, item in zip(ops, items, strict=True)
            )
        )
        return [_result_of(item, results[0]) for item, results in zip(items, singles, strict=True)]
    out: list[BatchResult | None] = []
    for start in range(0, len(ops), MAX_BATCH):
        chunk, chunk_items = ops[start : start + MAX_BATCH], items[start : start + MAX_BATCH]
        recorder = StepRecorder(body_limit=client.body_limit)
        try:
            results = await client.batch(chunk, continue_on_error=True, recorder=recorder)
        except BpmError as exc:
            for item in chunk_items:
                item.recorder.steps.extend(recorder.steps)
                item.outcome = exc
            out.extend([None] * len(chunk))
            continue
        batch_step, before = recorder.steps[-1], recorder.steps[:-1]  # the $batch itself; before it, a login
        for item, result in zip(chunk_items, results, strict=True):
            item.recorder.steps.extend(before)
            item.recorder.add(sub_step(client.dialect, client.service_root, result, batch_step, client.body_limit))
            out.append(_result_of(item, result))
    return out


def _result_of(item: PushItem, result: BatchResult) -> BatchResult | None:
    if result.ok:
        return result
    item.outcome = result.error or ServerError("bpm'online did not run this part of the $batch")
    return None


async def push_alone(client: BpmClient, redis: aioredis.Redis, target: PushTarget, item: PushItem) -> None:
    """`push` for an item `push_many` handed back; its `outcome` is set."""
    try:
        item.outcome = await push(client, redis, target, item)
    except BpmError as exc:
        item.outcome = exc
