"""The `event.process` job: map → dedup → push one event, and write its operation and steps.

The job may run more than once for the same event (a retry, a worker that died, the
sweeper): it re-reads its rows, does nothing for a finished operation, and pushes with a
deterministic record Id, so every run converges on one record.

Jobs running at the same time in one worker are processed together (`Batcher`): one claim
statement, the events of each bundle pushed with two `$batch` requests (`push_many`), one
transaction writing every operation and its steps. Each job still ends on its own: its own
status, its own retry with its own backoff. The claim is `claims.py`'s, the write `writes.py`'s.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from arq import Retry

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, TransientError
from bpmlink.connections import bpm_connection
from bpmlink.db.models import OperationStatus
from bpmlink.events import PROCESS_EVENT
from bpmlink.kit import metrics
from bpmlink.kit.logs import bind_log_context
from bpmlink.mapping.budget import Budget, Busy, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.quarantine import is_quarantined
from bpmlink.mapping.types import TargetField
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.match_search import communication_entity
from bpmlink.pipeline.push import PushItem, PushResult, push_alone, push_many
from bpmlink.retry_schedule import PARKED
from bpmlink.targets import target_fields

from .claims import MAX_TRIES, Claimed, claim
from .jobs import JobRun, job
from .readback import complete_items
from .writes import write

if TYPE_CHECKING:
    from .context import WorkerContext

log = logging.getLogger("bpmlink.worker.process")

BACKOFF_BASE = 2.0
BACKOFF_CAP = 300.0
BATCH_SIZE = 50  # events per batch: a $batch of searches and one of writes stay under its 100
BATCHES_RUNNING = 4  # per worker process, alongside when a full batch waits or the running one is slow
LATE_AFTER = 0.05  # seconds a batch waits for its other bundles' runs once one bundle's has ended


def backoff_seconds(job_try: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter; never sooner than the server's Retry-After."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (job_try - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class _Failed(Exception):
    def __init__(self, message: str, *, stop_bundle: bool = False) -> None:
        super().__init__(message)  # an error of the bundle's set-up, not of bpm'online's answer
        self.message = message
        self.stop_bundle = stop_bundle


def _fail(claimed: Claimed, exc: Exception) -> None:
    """Set the run's end from the error that ended it."""
    job_try = claimed.job_try
    if isinstance(exc, TransientError):
        if job_try < MAX_TRIES:
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (will retry)"
            claimed.retry_in = backoff_seconds(job_try, exc.retry_after)
            metrics.OPERATION_RETRIES.labels(exc.code).inc()  # a stable reason: unavailable, network, …
        else:  # past the fast tries: parked on the workspace's slow schedule (parking.py)
            claimed.status, claimed.error = OperationStatus.retrying, f"{exc} (retrying on a slow schedule)"
            claimed.parked = True
    elif isinstance(exc, AuthError | ConfigurationError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
        claimed.stop_reason = f"bpm'online refused the connection: {exc}"
    elif isinstance(exc, BpmError):
        claimed.status, claimed.error = OperationStatus.failed, str(exc)
    elif isinstance(exc, _Failed):
        claimed.status, claimed.error = OperationStatus.failed, exc.message
        claimed.stop_reason = exc.message if exc.stop_bundle else None
    elif isinstance(exc, MappingError):
        claimed.status = OperationStatus.failed
        claimed.error = f"{exc.field}: {exc.message}" if exc.field else exc.message
    else:
        raise exc


async def _map(client: BpmClient, fields: dict[str, TargetField], claimed: Claimed) -> dict[str, Any] | None:
    """The event's record for bpm'online, or None when the run ended here (filtered, or failed).

    The bundle's filter and mapping are user code: they run under the event's budget, off the event
    loop, and whatever they raise ends this run alone, never its batch neighbours' (other bundles')."""
    config = claimed.config
    budget = Budget(owner=claimed.workspace_id)
    try:
        verdict = await off_loop(budget, explain, config.filter, claimed.item, budget=budget)
        if not verdict.passed:
            claimed.status, claimed.error = OperationStatus.filtered, verdict.reason or "the filter did not pass"
            return None
        mapped = await apply_mapping(
            config.mapping,
            claimed.item,
            fields,
            make_resolver(client, claimed.recorder, allow_create=True),
            budget=budget,
        )
        claimed.mapped_data = mapped.values
        if not mapped.ok:
            raise _Failed("; ".join(f"{e.field}: {e.message}" for e in mapped.errors))
    except Busy as exc:  # its workspace's earlier events hold the lane: later, with backoff
        _fail(claimed, TransientError(exc.message, code=exc.code))
        return None
    except (BpmError, _Failed, MappingError) as exc:
        _fail(claimed, exc)
        return None
    except Exception as exc:  # a defect met on this event's data: this event's failure, logged for us
        log.exception("mapping event %s failed", claimed.event_id)
        _fail(claimed, _Failed(f"the event could not be mapped ({type(exc).__name__})"))
        return None
    return mapped.values


async def _run_bundle(context: WorkerContext, runs: list[Claimed]) -> None:
    """Map, dedup and push the events of one bundle version; every run gets its end."""
    first = runs[0]
    config = first.config
    try:
        if first.target is None:
            raise _Failed("the bundle's bpm'online connection was deleted", stop_bundle=True)
        client = await context.bpm_clients.get(bpm_connection(first.target, context.secret_box))
        metadata = await client.metadata(recorder=first.recorder)
        entity = metadata.entities.get(config.target.entity)
        if entity is None:
            raise _Failed(f"bpm'online has no entity {config.target.entity!r} any more")
    except (BpmError, _Failed) as exc:
        for claimed in runs:
            _fail(claimed, exc)
        return
    fields = target_fields(entity)
    errors = await complete_items(context, runs)  # thin items read back from their source (readback.py)
    for claimed in runs:
        if (error := errors.get(claimed.event_id)) is not None:
            message = f"{error.code}: {error.message}"
            refused = error.code == "source_refused"  # a refused token fails every next event: stop, tell once
            _fail(
                claimed,
                TransientError(message, code=error.code) if error.transient else _Failed(message, stop_bundle=refused),
            )
    ready = [claimed for claimed in runs if claimed.event_id not in errors]
    mapped = await asyncio.gather(*(_map(client, fields, claimed) for claimed in ready))
    items = {
        claimed.event_id: PushItem(claimed.event_id, values, retry=claimed.attempts > 1, recorder=claimed.recorder)
        for claimed, values in zip(ready, mapped, strict=True)
        if values is not None
    }
    if not items:
        return
    bundle_id, entity_name, policy = first.bundle_id, config.target.entity, config.dedup
    comm_entity = communication_entity(metadata, entity_name)  # phones searched as Creatio's telephony does
    handed_back = await push_many(
        client,
        context.redis,
        bundle_id=bundle_id,
        entity=entity_name,
        fields=fields,
        policy=policy,
        items=list(items.values()),
        comm_entity=comm_entity,
    )
    later = {item.event_id for item in handed_back}
    for claimed in runs:
        item = items.get(claimed.event_id)
        if item is None:
            continue
        if item.event_id in later:

            async def alone(item: PushItem = item) -> PushItem:
                await push_alone(client, context.redis, bundle_id, entity_name, fields, policy, item, comm_entity)
                return item

            claimed.push_alone = alone
        else:
            _end_push(claimed, item)


def _end_push(claimed: Claimed, item: PushItem) -> None:
    result = item.outcome
    if isinstance(result, PushResult):
        claimed.status, claimed.error = result.status, result.note
        claimed.record_id = uuid.UUID(result.record_id) if result.record_id else None
    else:
        _fail(claimed, result or BpmError("no answer for this event"))


async def process_events(context: WorkerContext, jobs: list[tuple[uuid.UUID, int]]) -> list[Claimed | None]:
    """Run the jobs (event id, job try) of one batch; per job, in order, its run (None: nothing to do)."""
    tries = dict(jobs)  # the same event twice (a duplicate delivery) runs once
    metrics.EVENT_BATCH_SIZE.observe(len(jobs))
    async with context.transaction() as tx:
        runs = await claim(tx.session, tries)
    # No database connection is held while bpm'online answers: at 200 ms a request and a hundred
    # jobs per worker, that would be a hundred idle connections.
    groups: dict[tuple[uuid.UUID, int], list[Claimed]] = defaultdict(list)
    for claimed in runs:
        groups[(claimed.bundle_id, claimed.config_version)].append(claimed)
    await _run_bundles(context, list(groups.values()))
    ended = [run for run in runs if run.push_alone is None and run.late is None]
    if ended:
        await write(context, ended)
    by_event = {c.event_id: c for c in runs}
    return [by_event.get(event_id) for event_id, _ in jobs]


async def _run_bundles(context: WorkerContext, groups: list[list[Claimed]]) -> None:
    """Run the groups at once; once one has ended, the others get LATE_AFTER more, then their runs
    are handed to their jobs (`late`), so one bundle's slow user code never holds another's writes.
    The groups of a quarantined workspace (its user code spent a whole budget lately) are handed to
    their jobs at once: the batch, and the batch slot it holds, never wait for them."""
    tasks = {asyncio.ensure_future(_run_bundle(context, group)): group for group in groups}
    held = {task for task, group in tasks.items() if not is_quarantined(group[0].workspace_id)}
    pending = set(tasks) - held
    if held:
        _, still = await asyncio.wait(held, return_when=asyncio.FIRST_COMPLETED)
        if still:
            _, still = await asyncio.wait(still, timeout=LATE_AFTER)
        pending |= still
    for task in pending:
        for run in tasks[task]:
            run.late = task
    for task in tasks.keys() - pending:
        task.result()  # an unexpected error fails the batch, as it did


async def _finish_alone(context: WorkerContext, run: Claimed) -> None:
    """The rest of a late bundle run, and the push push_many handed back (it may wait for a
    match-key lock), then this run's write."""
    if run.late is not None:
        await run.late
    if run.push_alone is not None:
        _end_push(run, await run.push_alone())
    await write(context, [run])


async def run_event(context: WorkerContext, event_id: uuid.UUID, job_try: int) -> Claimed | None:
    """One event's run to its end, in the worker's next batch (None: nothing to do)."""
    run = await context.event_batcher.submit((event_id, job_try))
    if run is not None and (run.push_alone is not None or run.late is not None):
        if run.alone_task is None:
            run.alone_task = asyncio.ensure_future(_finish_alone(context, run))
        await run.alone_task
    return run


# Counted in the job metrics (its answers are the operation statuses). No transaction of its own: a
# batch's claim and its write are one transaction each, shared by the batch's jobs.
@job(PROCESS_EVENT, max_tries=MAX_TRIES, transaction=False, counted=True)
async def process_event(job_run: JobRun, event_id: str, mode: str = "") -> str:
    """arq job `event.process`; `mode` PARKED for a slow try (one asked for in the api; the crons' go
    through parked_retries.py), which counts as past the fast tries."""
    context = job_run.context
    job_try = MAX_TRIES if mode == PARKED else job_run.job_try
    run = await run_event(context, uuid.UUID(event_id), job_try)
    if run is None:
        return "nothing to do"
    # Logged here, in the job's own log context (job and event ids).
    bind_log_context(workspace_id=run.workspace_id, bundle_id=run.bundle_id, operation_id=run.operation_id)
    retry = "" if run.retry_in is None else f", again in {run.retry_in:.1f} s"
    log.info("operation %s%s", run.status, retry)
    if run.retry_in is not None:
        raise Retry(defer=run.retry_in)
    return str(run.status)
