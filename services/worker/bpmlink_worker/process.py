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
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

from arq import Retry

from bpmlink.bpmonline.batch import MAX_BATCH
from bpmlink.bpmonline.errors import BpmError, TransientError
from bpmlink.bundle_steps import StepAction
from bpmlink.connections import bpm_connection
from bpmlink.db.models import OperationStatus
from bpmlink.events import PROCESS_EVENT
from bpmlink.kit import metrics
from bpmlink.kit.logs import bind_log_context
from bpmlink.kit.messages import message
from bpmlink.mapping.budget import Budget, Busy, off_loop
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.quarantine import is_quarantined
from bpmlink.mapping.types import TargetField
from bpmlink.pipeline.match_search import communication_entity
from bpmlink.retry_schedule import PARKED
from bpmlink.targets import target_fields

from .claims import MAX_TRIES, Claimed, claim
from .failures import Failed, defect, fail
from .jobs import JobRun, job
from .readback import complete_items
from .step_actions import StepTarget
from .step_runner import Prepared, prepare_columns, run_steps
from .writes import write

if TYPE_CHECKING:
    from .context import WorkerContext

__all__ = ["MAX_TRIES", "process_event", "process_events", "run_event"]

log = logging.getLogger("bpmlink.worker.process")

BATCH_SIZE = 50  # events per batch: a $batch of searches and one of writes stay under its 100
HELD_BATCH_SIZE = MAX_BATCH  # … while a connection's rate limit waits: fewer, fuller $batch requests
BATCHES_RUNNING = 4  # per worker process, alongside when a full batch waits or the running one is slow
LATE_AFTER = 0.05  # seconds a batch waits for its other bundles' runs once one bundle's has ended

# The fields an action's mapping builds when they are not an entity's columns.
_FILE_FIELDS = {"Url": TargetField("Url", "Edm.String", required=True), "Name": TargetField("Name", "Edm.String")}


async def _prepare(context: WorkerContext, first: Claimed) -> Prepared:
    """Each step's client, fields and searched columns; raises Failed/BpmError for every run."""
    config = first.config
    columns = prepare_columns(config.steps)
    targets: dict[str, StepTarget] = {}
    for step in config.steps:
        connection = first.connections.get(step.connection_id)
        if connection is None:
            raise Failed("the bundle's bpm'online connection was deleted", stop_bundle=True, code="connection_deleted")
        client = await context.bpm_clients.get(bpm_connection(connection, context.secret_box))
        comm_entity = None
        if step.action == StepAction.run_process:
            fields = {rule.target: TargetField(rule.target, "Edm.String") for rule in step.mapping}
        elif step.action == StepAction.attach_file:
            fields = _FILE_FIELDS
        else:
            assert step.entity is not None
            metadata = await client.metadata(recorder=first.recorder)
            entity = metadata.entities.get(step.entity)
            if entity is None:
                raise Failed(
                    f"bpm'online has no entity {step.entity!r} any more", code="entity_missing", entity=step.entity
                )
            fields = target_fields(entity)
            comm_entity = communication_entity(metadata, step.entity)  # phones searched as Creatio's telephony does
        targets[step.key] = StepTarget(step, client, fields, comm_entity, columns.get(step.key, ()))
    return Prepared(config.steps, targets)


async def _passes_filter(claimed: Claimed) -> bool:
    """The bundle's filter (user code: under the event's budget, off the event loop); a run it
    ends gets its end here."""
    if claimed.config.filter is None:
        return True
    budget = Budget(owner=claimed.workspace_id)
    try:
        verdict = await off_loop(budget, explain, claimed.config.filter, claimed.item, budget=budget)
    except Busy as exc:  # its workspace's earlier events hold the lane: later, with backoff
        fail(claimed, TransientError(exc.message, code=exc.code))
        return False
    except (BpmError, Failed, MappingError) as exc:
        fail(claimed, exc)
        return False
    except Exception as exc:  # a defect met on this event's data: this event's failure, logged for us
        log.exception("filtering event %s failed", claimed.event_id)
        fail(claimed, defect(exc))
        return False
    if not verdict.passed:
        why = verdict.why or message("filter_did_not_pass", "the filter did not pass")
        claimed.status, claimed.error, claimed.message = OperationStatus.filtered, why.text, why
    return verdict.passed


async def _run_bundle(context: WorkerContext, runs: list[Claimed]) -> None:
    """Run the steps of one bundle version for its events; every run gets its end (or its rest)."""
    try:
        prepared = await _prepare(context, runs[0])
    except (BpmError, Failed) as exc:
        for claimed in runs:
            fail(claimed, exc)
        return
    errors = await complete_items(context, runs)  # thin items read back from their source (readback.py)
    for claimed in runs:
        if (error := errors.get(claimed.event_id)) is not None:
            message = f"{error.code}: {error.message}"
            refused = error.code == "source_refused"  # a refused token fails every next event: stop, tell once
            if error.transient:
                fail(claimed, TransientError(message, code=error.code))
                continue
            params = dict(error.params)
            said = params.pop("said", None) or None
            code = "readback_answered" if "status" in params else error.code  # an HTTP 4xx, by the words of it
            fail(claimed, Failed(message, stop_bundle=refused, code=code, remote=said, **params))
    ready = [claimed for claimed in runs if claimed.event_id not in errors]
    passed = await asyncio.gather(*(_passes_filter(claimed) for claimed in ready))
    await run_steps(context, prepared, [claimed for claimed, ok in zip(ready, passed, strict=True) if ok])


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
    ended = [run for run in runs if run.rest is None and run.late is None]
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
    """The rest of a late bundle run, and of a run push_many handed back (its push may wait for a
    match-key lock, then its later steps), then this run's write."""
    if run.late is not None:
        await run.late
    if run.rest is not None:
        await run.rest()
    await write(context, [run])


async def run_event(context: WorkerContext, event_id: uuid.UUID, job_try: int) -> Claimed | None:
    """One event's run to its end, in the worker's next batch (None: nothing to do)."""
    run = await context.event_batcher.submit((event_id, job_try))
    if run is not None and (run.rest is not None or run.late is not None):
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
