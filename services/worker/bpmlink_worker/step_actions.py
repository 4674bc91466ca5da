"""What each step action sends for the mapped elements of a batch's runs, and the step result of
each run from its elements' ends.

find_record, create_record, update_record and create_activity go through `push_many` (the dedup
and `$batch` path of round 1, per step: each created record's Id is derived from (event, step,
element), its match keys locked per step). A task gets Creatio's defaults for what the mapping
leaves out, and its participants as ActivityParticipant rows with derived Ids.

run_process starts the process once per element, at most once: a process cannot be looked up
afterwards, so the step is marked `started` in the operation before it is sent, and a run that finds
that mark (its worker died meanwhile) fails the step as unknown instead of starting it again — a
replay, asked for by a person, runs it (for_replay drops the mark); attach_file
downloads the file through the outbound guard and uploads it under a derived Id (a retry replaces
the same file, never adds one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError, TransientError
from bpmlink.bundle_steps import PARTICIPANT, BundleStep, StepAction, record_id_for
from bpmlink.db.models import OperationStatus
from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.types import TargetField
from bpmlink.mapping.values import format_datetime_utc, to_text
from bpmlink.pipeline.file_download import DownloadError, download
from bpmlink.pipeline.push import PushItem, PushResult, PushTarget, push_alone, push_many
from bpmlink.step_results import ElementResult, StepOutcome, StepResult, elements_result

from .claims import Claimed
from .failures import Failed, message_of
from .writes import save_step_results

if TYPE_CHECKING:
    from .context import WorkerContext

Work = Sequence[tuple[Claimed, list["Element"]]]


@dataclass(frozen=True)
class StepTarget:
    """A step's client and the fields its mapping builds (the entity's, or the action's own)."""

    step: BundleStep
    client: BpmClient
    fields: dict[str, TargetField]
    comm_entity: str | None = None
    select: tuple[str, ...] = ()


@dataclass
class Element:
    """One mapped record of a step for one run (one for_each element, or the one)."""

    index: int | None
    values: dict[str, Any]
    participants: list[str] = field(default_factory=list)
    item: PushItem | None = None
    outcome: PushResult | Exception | None = None  # run_process / attach_file: their end

    def end(self) -> PushResult | Exception | None:
        return self.item.outcome if self.item is not None else self.outcome


_OUTCOME = {
    OperationStatus.created: StepOutcome.created,
    OperationStatus.updated: StepOutcome.updated,
    OperationStatus.unchanged: StepOutcome.unchanged,
    OperationStatus.skipped_duplicate: StepOutcome.skipped,
    OperationStatus.not_found: StepOutcome.not_found,
}


async def act(context: WorkerContext, target: StepTarget, work: Work, *, alone: bool) -> dict[Claimed, list[Element]]:
    """Send the step's records; every element gets its end, except those of the runs returned
    (handed back by push_many: their rest runs alone)."""
    step = target.step
    if step.action not in (StepAction.run_process, StepAction.attach_file):
        return await _push(context, target, work, alone=alone)
    each = _run_process if step.action == StepAction.run_process else _attach_file
    if step.action == StepAction.run_process:
        await _mark_started(context, step, work)
    todo = [(run, element) for run, elements in work for element in elements if element.outcome is None]
    await asyncio.gather(*(each(context, target, run, element) for run, element in todo))
    return {}


async def _mark_started(context: WorkerContext, step: BundleStep, work: Work) -> None:
    """Before a process is sent: a run that finds the `started` mark of an earlier attempt fails the
    step (it may have run); the others write the mark."""
    for run, elements in work:
        earlier = run.step_results.get(step.key)
        if earlier is not None and earlier.result == StepOutcome.started:
            process = step.process.schema_name if step.process else ""
            unknown = Failed(
                f"the worker stopped while bpm'online was running the process {process}; it is not started "
                "again on its own, so that it never runs twice: check it in bpm'online, and replay the operation "
                "to run it again",
                code="process_outcome_unknown",
                step=step.key,
                process=process,
            )
            for element in elements:
                element.outcome = unknown
            continue
        run.step_results[step.key] = StepResult(key=step.key, action=step.action, result=StepOutcome.started)
        await save_step_results(context, run)


async def _run_process(context: WorkerContext, target: StepTarget, run: Claimed, element: Element) -> None:
    options = target.step.process
    assert options is not None
    parameters = {name: to_text(value) for name, value in element.values.items()}
    try:
        result = await target.client.run_process(
            options.schema_name, parameters, result_parameter=options.result_parameter, recorder=run.recorder
        )
    except BpmError as exc:
        element.outcome = exc
        return
    element.outcome = PushResult(OperationStatus.created, None, record={"result": result})


async def _attach_file(context: WorkerContext, target: StepTarget, run: Claimed, element: Element) -> None:
    """The file at the mapped Url, attached to the record of the step `file.attach_to`."""
    step, options = target.step, target.step.file
    assert options is not None
    parent = run.step_results[options.attach_to]  # it ran and has a record: unmet_reference checked
    parent_entity = parent.entity or ""
    entity = step.entity or f"{parent_entity}File"
    try:
        got = await download(str(element.values.get("Url", "")), max_bytes=options.max_bytes, settings=context.settings)
    except DownloadError as exc:
        element.outcome = (
            TransientError(exc.text, code=exc.code) if exc.transient else Failed(exc.text, code=exc.code, **exc.params)
        )
        return
    name = str(element.values.get("Name") or got.name)
    file_id = record_id_for(run.event_id, step.key, element.index)
    try:
        await target.client.attach_file(
            entity, parent_entity, str(parent.record_id), file_id, name, got.data, got.mime, recorder=run.recorder
        )
    except BpmError as exc:
        element.outcome = exc
        return
    element.outcome = PushResult(OperationStatus.created, str(file_id), record={"Name": name, "Size": len(got.data)})


async def _push(context: WorkerContext, target: StepTarget, work: Work, *, alone: bool) -> dict[Claimed, list[Element]]:
    step = target.step
    assert step.entity is not None
    activity = step.action == StepAction.create_activity
    push_target = PushTarget(
        bundle_id=work[0][0].bundle_id,
        entity=step.entity,
        fields=target.fields,
        policy=step.dedup if step.searches else DedupPolicy(),
        comm_entity=target.comm_entity,
        step=step.key,
        select=target.select,
        find_only=step.action == StepAction.find_record,
    )
    pending: list[tuple[Claimed, Element]] = []
    for run, elements in work:
        for element in elements:
            if element.item is None:
                values = _task_values(step, element.values) if activity else element.values
                record_id = record_id_for(run.event_id, step.key, element.index)
                element.item = PushItem(
                    run.event_id, values, retry=run.attempts > 1, recorder=run.recorder, record_id=record_id
                )
            if element.item.outcome is None:
                pending.append((run, element))
    handed: dict[Claimed, list[Element]] = {}
    if alone:
        for _, element in pending:
            assert element.item is not None
            await push_alone(target.client, context.redis, push_target, element.item)
    else:
        items = [element.item for _, element in pending if element.item is not None]
        back = {id(item) for item in await push_many(target.client, context.redis, push_target, items)}
        for run, elements in work:
            if any(id(e.item) in back for e in elements):
                handed[run] = elements
    if activity:
        for run, elements in work:
            if run not in handed:
                await _participants(target.client, step, run, elements)
    return handed


def _task_values(step: BundleStep, mapped: dict[str, Any]) -> dict[str, Any]:
    """A task with Creatio's defaults (type Task, "To do", "Not started", Medium) and its dates
    relative to now, for what the mapping leaves out."""
    options = step.activity
    assert options is not None
    now = datetime.now(UTC)
    defaults = {
        "TypeId": str(options.type_id),
        "ActivityCategoryId": str(options.category_id),
        "StatusId": str(options.status_id),
        "PriorityId": str(options.priority_id),
        "StartDate": format_datetime_utc(now + timedelta(minutes=options.start_in_minutes)),
        "DueDate": format_datetime_utc(now + timedelta(minutes=max(options.due_in_minutes, options.start_in_minutes))),
    }
    return {**defaults, **mapped}


async def _participants(client: BpmClient, step: BundleStep, run: Claimed, elements: list[Element]) -> None:
    """One ActivityParticipant row per participant of each created task (derived Ids: never twice)."""
    for element in elements:
        item = element.item
        if item is None or not isinstance(item.outcome, PushResult) or item.outcome.record_id is None:
            continue
        activity_id = item.outcome.record_id
        try:
            for contact_id in element.participants:
                row_id = record_id_for(run.event_id, step.key, element.index, f"participant:{contact_id}")
                values = {"ActivityId": activity_id, "ParticipantId": contact_id}
                await client.create_idempotent(
                    PARTICIPANT, values, row_id, check_first=run.attempts > 1, recorder=run.recorder
                )
        except BpmError as exc:
            item.outcome = exc


def element_results(target: StepTarget, elements: list[Element]) -> tuple[StepResult, Exception | None]:
    """The step's result from its elements' outcomes, and the error that ends the run (if any:
    a transient one first, so the run retries)."""
    step = target.step
    ends: list[ElementResult] = []
    errors: list[Exception] = []
    first: PushResult | None = None
    for element in elements:
        outcome = element.end()
        if isinstance(outcome, PushResult):
            end = _OUTCOME.get(outcome.status, StepOutcome.unchanged)
            if step.action == StepAction.find_record and end == StepOutcome.unchanged:
                end = StepOutcome.found
            elif step.action == StepAction.run_process:
                end = StepOutcome.ran
            ends.append(ElementResult(index=element.index or 0, result=end, record_id=outcome.record_id))
            first = first or outcome
        else:
            exc: Exception = outcome if isinstance(outcome, Exception) else BpmError("no answer for this record")
            errors.append(exc)
            ends.append(ElementResult(index=element.index or 0, result=StepOutcome.failed, error=message_of(exc)))
    error = next((e for e in errors if isinstance(e, BpmError) and e.transient), errors[0] if errors else None)
    values = elements[0].values if elements else None
    changes = first.changes if first else None
    if step.for_each is None:
        only = ends[0]
        record = _kept(first.record if first else None, target.select)
        if step.action == StepAction.run_process and first is not None and first.record:
            record = {"result": first.record.get("result")}  # what `steps.<key>.result` reads
        result = StepResult(
            key=step.key,
            action=step.action,
            entity=step.entity,
            result=only.result,
            record_id=only.record_id,
            record=record,
            values=values,
            changes=changes,
            error=only.error,
            note=first.note if first else None,
        )
    else:
        result = StepResult(
            key=step.key,
            action=step.action,
            entity=step.entity,
            result=elements_result(ends),
            values=values,
            changes=changes,
            elements=ends,
            error=next((e.error for e in ends if e.error), None),
        )
    return result, error


def _kept(record: dict[str, Any] | None, columns: Sequence[str]) -> dict[str, Any]:
    """Of the record, the columns later steps read (kept in the operation for a replay)."""
    if not record:
        return {}
    return {name: record.get(name) for name in columns if name != "Id"}
