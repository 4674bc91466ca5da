"""What each step action sends for the mapped elements of a batch's runs, and the step result of
each run from its elements' ends.

find_record, create_record, update_record and create_activity go through `push_many` (the dedup
and `$batch` path of round 1, per step: each created record's Id is derived from (event, step,
element), its match keys locked per step). A task gets Creatio's defaults for what the mapping
leaves out, and its participants as ActivityParticipant rows with derived Ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bpmlink.bpmonline.client import BpmClient
from bpmlink.bpmonline.errors import BpmError
from bpmlink.bundle_steps import PARTICIPANT, BundleStep, StepAction, record_id_for
from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import Message
from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.types import TargetField
from bpmlink.mapping.values import format_datetime_utc
from bpmlink.pipeline.push import PushItem, PushResult, PushTarget, push_alone, push_many
from bpmlink.step_results import ElementResult, StepOutcome, StepResult, elements_result

from .claims import Claimed
from .failures import message_of

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
    for run, elements in work:
        for element in elements:
            unavailable = BpmError(f"the action {step.action} is not available yet", code="action_unavailable")
            element.item = PushItem(run.event_id, element.values, False, run.recorder, outcome=unavailable)
    return {}


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
        outcome = element.item.outcome if element.item is not None else None
        if isinstance(outcome, PushResult):
            end = _OUTCOME.get(outcome.status, StepOutcome.unchanged)
            if step.action == StepAction.find_record and end == StepOutcome.unchanged:
                end = StepOutcome.found
            ends.append(ElementResult(index=element.index or 0, result=end, record_id=outcome.record_id))
            first = first or outcome
        else:
            exc: Exception = outcome if isinstance(outcome, Exception) else BpmError("no answer for this record")
            errors.append(exc)
            ends.append(ElementResult(index=element.index or 0, result=StepOutcome.failed, error=message_of(exc)))
    error = next((e for e in errors if isinstance(e, BpmError) and e.transient), errors[0] if errors else None)
    values = elements[0].values if elements else None
    if step.for_each is None:
        only = ends[0]
        record = _kept(first.record if first else None, target.select)
        note = Message(code="dedup_note", params={}, text=first.note) if first and first.note else None
        result = StepResult(
            key=step.key,
            action=step.action,
            entity=step.entity,
            result=only.result,
            record_id=only.record_id,
            record=record,
            values=values,
            error=only.error,
            note=note,
        )
    else:
        result = StepResult(
            key=step.key,
            action=step.action,
            entity=step.entity,
            result=elements_result(ends),
            values=values,
            elements=ends,
            error=next((e.error for e in ends if e.error), None),
        )
    return result, error


def _kept(record: dict[str, Any] | None, columns: Sequence[str]) -> dict[str, Any]:
    """Of the record, the columns later steps read (kept in the operation for a replay)."""
    if not record:
        return {}
    return {name: record.get(name) for name in columns if name != "Id"}
