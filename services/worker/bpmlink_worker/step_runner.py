"""A bundle's steps for the events of one batch, in order: each step's condition, for_each and
mapping over the event and the earlier steps' results, then its action for all the events at once
(the creates of a step share `$batch` requests, as round 1's one action did).

A step that finished for an event (read from its operation on a replay) is never run again; an
event whose push was handed back (a match key held elsewhere) continues alone, in its job's own
task (`Claimed.rest`), so it never holds up the batch.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bpmlink.bpmonline.errors import BpmError, TransientError
from bpmlink.bundle_steps import MAX_ELEMENTS, BundleStep, for_each_elements, read_columns
from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import message
from bpmlink.mapping.budget import Budget, Busy, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.templates import render_template
from bpmlink.pipeline.lookups import make_resolver
from bpmlink.pipeline.step_scope import for_each_value, step_scope, unmet_reference
from bpmlink.step_results import StepOutcome, StepResult, summarize

from .claims import Claimed
from .failures import Failed, defect, fail, message_of
from .step_actions import Element, StepTarget, act, element_results

if TYPE_CHECKING:
    from .context import WorkerContext

log = logging.getLogger("bpmlink.worker.steps")


@dataclass(frozen=True)
class Prepared:
    """What the steps of one bundle version share in a batch."""

    steps: list[BundleStep]
    targets: dict[str, StepTarget]

    @property
    def single(self) -> bool:
        return len(self.steps) == 1


async def run_steps(
    context: WorkerContext, prepared: Prepared, runs: Sequence[Claimed], start: int = 0, *, alone: bool = False
) -> None:
    """Steps `start`… for these runs (`alone`: one run, on the lone push path); every run gets its
    end, except those handed back (their `rest` continues them)."""
    going = [run for run in runs if _going(run)]
    for index in range(start, len(prepared.steps)):
        step = prepared.steps[index]
        todo = [run for run in going if not _finished(run, step)]
        if todo:
            handed = await _run_step(context, prepared, step, todo, alone=alone)
            for run, elements in handed.items():
                run.rest = _continuation(context, prepared, run, index, elements)
        going = [run for run in going if run.rest is None and _going(run)]
    for run in runs:
        if run.rest is None and run.status == OperationStatus.processing:
            finish(prepared, run)  # its steps all ran, or a find that found nothing stopped it


def _continuation(
    context: WorkerContext, prepared: Prepared, run: Claimed, index: int, elements: list[Element]
) -> Callable[[], Awaitable[None]]:
    """The rest of a run push_many handed back: that step's push alone, then the later steps alone."""

    async def rest() -> None:
        run.rest = None
        step = prepared.steps[index]
        await act(context, prepared.targets[step.key], [(run, elements)], alone=True)
        _end_step(prepared, step, run, elements)
        await run_steps(context, prepared, [run], start=index + 1, alone=True)

    return rest


def _finished(run: Claimed, step: BundleStep) -> bool:
    result = run.step_results.get(step.key)
    return result is not None and result.finished


def _going(run: Claimed) -> bool:
    return run.status == OperationStatus.processing and run.stopped is None


async def _run_step(
    context: WorkerContext, prepared: Prepared, step: BundleStep, runs: list[Claimed], *, alone: bool
) -> dict[Claimed, list[Element]]:
    """One step for these runs; returns the runs whose elements were handed back, with them."""
    target = prepared.targets[step.key]
    planned = await asyncio.gather(*(_plan(prepared, target, run) for run in runs))
    work = [(run, elements) for run, elements in zip(runs, planned, strict=True) if elements]
    if not work:
        return {}
    handed = await act(context, target, work, alone=alone)
    for run, elements in work:
        if run not in handed:
            _end_step(prepared, step, run, elements)
    return handed


async def _plan(prepared: Prepared, target: StepTarget, run: Claimed) -> list[Element] | None:
    """The step's elements for this run, mapped; None when the step is over for it here (its
    condition did not hold, nothing to do for, or an error that ends the run)."""
    step = target.step
    scope = step_scope(run.item, prepared.steps, run.step_results)
    budget = Budget(owner=run.workspace_id)
    try:
        if step.condition is not None:
            verdict = await off_loop(budget, explain, step.condition, scope, budget=budget)
            if not verdict.passed:
                why = verdict.why or message("filter_condition_false", "the condition did not hold")
                note = message("step_condition_false", why.text, step=step.key, reason=why)
                _record(run, step, StepResult(key=step.key, action=step.action, result=StepOutcome.not_run, note=note))
                return None
        if (unmet := unmet_reference(step, run.step_results)) is not None:
            raise Failed(unmet.text, code=unmet.code, **unmet.params)
        scopes: list[tuple[int | None, Any]] = [(None, scope)]
        if step.for_each is not None:
            found = for_each_elements(for_each_value(step, scope))
            if found is None:
                raise Failed(f"for_each: {step.for_each} is not a list", code="for_each_not_list", path=step.for_each)
            if len(found) > MAX_ELEMENTS:
                raise Failed(
                    f"for_each: {len(found)} elements, more than {MAX_ELEMENTS}",
                    code="too_many_elements",
                    count=len(found),
                    limit=MAX_ELEMENTS,
                )
            if not found:
                note = message("for_each_empty", f"{step.for_each} has no elements", path=step.for_each)
                _record(run, step, StepResult(key=step.key, action=step.action, result=StepOutcome.not_run, note=note))
                return None
            scopes = [
                (i, step_scope(run.item, prepared.steps, run.step_results, element=e, index=i))
                for i, e in enumerate(found)
            ]
        resolver = make_resolver(target.client, run.recorder, allow_create=True)
        elements = []
        for index, element_scope in scopes:
            mapped = await apply_mapping(step.mapping, element_scope, target.fields, resolver, budget=budget)
            if not mapped.ok:
                text = "; ".join(f"{e.field}: {e.message}" for e in mapped.errors)
                errors = [e.words().model_dump(exclude_none=True) for e in mapped.errors]
                raise Failed(text, code="mapping_failed", errors=errors)
            participants = await _participants(step, element_scope, budget)
            elements.append(Element(index, mapped.values, participants))
        if prepared.single:
            run.mapped_data = elements[0].values
        return elements
    except Busy as exc:  # its workspace's earlier events hold the lane: later, with backoff
        step_failed(prepared, step, run, TransientError(exc.message, code=exc.code))
    except (BpmError, Failed, MappingError) as exc:
        step_failed(prepared, step, run, exc)
    except Exception as exc:  # a defect met on this event's data: this event's failure, logged for us
        log.exception("mapping event %s failed", run.event_id)
        step_failed(prepared, step, run, defect(exc))
    return None


async def _participants(step: BundleStep, scope: Any, budget: Budget) -> list[str]:
    """A task's participants: each template rendered (off the loop), blanks dropped, each once."""
    found: dict[str, None] = {}
    for text in step.activity.participants if step.activity else ():
        value = (await off_loop(budget, render_template, text, scope)).strip()
        if value:
            found[value] = None
    return list(found)


def _record(run: Claimed, step: BundleStep, result: StepResult) -> None:
    run.step_results[step.key] = result.model_copy(update={"entity": step.entity})


def step_failed(
    prepared: Prepared, step: BundleStep, run: Claimed, exc: Exception, result: StepResult | None = None
) -> None:
    """The step failed: the run ends (retrying when the error will pass), the step says why (and
    for for_each, what each element did)."""
    transient = isinstance(exc, TransientError)
    failed = StepResult(key=step.key, action=step.action, result=StepOutcome.failed, error=message_of(exc))
    if result is not None:
        failed = result.model_copy(update={"result": StepOutcome.failed, "error": result.error or failed.error})
    _record(run, step, failed.model_copy(update={"transient": transient}))
    fail(run, exc)
    if not prepared.single and not transient:
        run.error = f"step «{step.name or step.key}»: {run.error}"
        why = run.message.model_dump(exclude_none=True) if run.message else run.error
        run.message = message("step_failed", run.error, name=step.name or step.key, error=why)


def _end_step(prepared: Prepared, step: BundleStep, run: Claimed, elements: list[Element]) -> None:
    """The step's result from its elements' ends (set by the action); a failure ends the run."""
    result, exc = element_results(prepared.targets[step.key], elements)
    if exc is not None:
        step_failed(prepared, step, run, exc, result)
        return
    _record(run, step, result)
    if result.result == StepOutcome.not_found and step.not_found == "stop":
        run.stopped = step.key


def finish(prepared: Prepared, run: Claimed) -> None:
    """The operation's end from its steps' results (round 1's words for a bundle of one step)."""
    if run.status != OperationStatus.processing:
        return  # a step failed: fail() set it
    summary = summarize(prepared.steps, run.step_results, run.stopped)
    run.status = summary.status
    run.record_id = None if summary.record_id is None else _uuid(summary.record_id)
    note = summary.note or summary.error
    run.error, run.message = (note.text, note) if note is not None else (None, None)
    run.changes = next((r.changes for s in prepared.steps if (r := run.step_results.get(s.key)) and r.changes), None)
    if not prepared.single:
        first = next(
            (r for s in prepared.steps if (r := run.step_results.get(s.key)) is not None and r.values is not None),
            None,
        )
        run.mapped_data = first.values if first is not None else None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def prepare_columns(steps: Sequence[BundleStep]) -> dict[str, tuple[str, ...]]:
    """The columns later steps read of each step's record, for its search's $select."""
    return {key: tuple(sorted(columns)) for key, columns in read_columns(steps).items()}
