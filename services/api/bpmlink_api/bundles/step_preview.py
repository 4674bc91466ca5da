"""One step of the preview: what it would send for the item, nothing written.

The earlier steps' records do not exist, so each step that would run stands in with a fixed Id
derived from its key (`stand_in_id`), its other read columns null, found false and created true.
A step's scope, condition, for_each and mapping are built as the worker builds them
(`bpmlink.pipeline.step_scope`, `apply_mapping`), under the request's one budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bpmlink.bundle_steps import MAX_ELEMENTS, BundleStep, for_each_elements, references
from bpmlink.mapping.budget import Budget, LimitExceeded, off_loop
from bpmlink.mapping.engine import apply_mapping
from bpmlink.mapping.errors import FieldError, MappingError
from bpmlink.mapping.filters import explain
from bpmlink.mapping.types import TargetField
from bpmlink.pipeline.step_scope import for_each_value, step_scope, unmet_reference
from bpmlink.step_results import StepOutcome, StepResult

from .schemas import ElementPreview, FieldProblem, StepPreview

PREVIEW_NAMESPACE = uuid.UUID("6f1d2c3e-8a4b-4f5e-9c7d-2b1a0e9f8d7c")

Resolver = Callable[[str, str, str, bool], Awaitable[str | None]]


def stand_in_id(key: str) -> str:
    """The Id the preview gives the record of step `key` (the same in every preview)."""
    return str(uuid.uuid5(PREVIEW_NAMESPACE, key))


def stand_in(step: BundleStep, columns: set[str]) -> StepResult:
    """The result a step that would run stands in with for the steps after it."""
    record = dict.fromkeys(sorted(columns))
    return StepResult(
        key=step.key,
        action=step.action,
        entity=step.entity,
        result=StepOutcome.created,
        record_id=stand_in_id(step.key),
        record=record,
    )


def stand_ins_read(step: BundleStep, results: Mapping[str, StepResult]) -> dict[str, str]:
    """The stand-in Ids the step reads: `{"steps.contact.Id": "<guid>"}`."""
    used: dict[str, str] = {}
    for ref in references(step):
        result = results.get(ref.step)
        if result is not None and result.record_id is not None and ref.column in (None, "Id"):
            used[f"steps.{ref.step}.Id"] = result.record_id
    return used


@dataclass(frozen=True)
class Target:
    """Where a step sends: its entity's fields (None: unchecked, a process or a file) and lookups."""

    fields: Mapping[str, TargetField] | None
    resolver: Resolver | None
    problem: FieldProblem | None = None  # the step cannot be previewed (its entity is unknown)


def _problem(error: FieldError) -> FieldProblem:
    return FieldProblem(field=error.field, message=error.message, code=error.code, params=error.params)


def _limit(exc: LimitExceeded) -> FieldProblem:
    return FieldProblem(field=exc.field or "mapping", message=exc.message, code=exc.code, params=exc.params)


class _Mapped:
    """The values, errors and warnings of one mapping (a step's, or one element's)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.errors: list[FieldProblem] = []
        self.warnings: list[FieldProblem] = []


async def _map(step: BundleStep, scope: Any, target: Target, budget: Budget) -> _Mapped:
    out = _Mapped()
    try:
        mapped = await apply_mapping(step.mapping, scope, target.fields, target.resolver, budget=budget)
    except LimitExceeded as exc:
        out.errors.append(_limit(exc))
        return out
    out.values = mapped.values
    out.errors = [_problem(e) for e in mapped.errors]
    out.warnings = [_problem(e) for e in mapped.warnings]
    return out


def _not_running(step: BundleStep, reason: str, errors: list[FieldProblem] | None = None) -> StepPreview:
    return _preview(step, runs=False, condition_reason=reason, values={}, errors=errors or [], warnings=[])


def _preview(step: BundleStep, **shown: Any) -> StepPreview:
    return StepPreview(key=step.key, name=step.name, action=step.action, entity=step.entity, **shown)


async def preview_step(
    step: BundleStep,
    item: Mapping[str, Any],
    steps: Sequence[BundleStep],
    results: dict[str, StepResult],
    columns: set[str],
    target: Target,
    budget: Budget,
) -> StepPreview:
    """Preview one step and put its result (its stand-in, or not run) in `results` for the next.
    Busy propagates (the request is answered 429); every other problem is the step's."""
    scope = step_scope(item, steps, results)
    not_run = StepResult(key=step.key, action=step.action, entity=step.entity, result=StepOutcome.not_run)
    if step.condition is not None:
        try:
            verdict = await off_loop(budget, explain, step.condition, scope, budget=budget)
        except LimitExceeded as exc:
            results[step.key] = not_run
            return _not_running(step, exc.message, [_limit(exc)])
        except MappingError as exc:
            results[step.key] = not_run
            return _not_running(step, exc.message)
        if not verdict.passed:
            results[step.key] = not_run
            return _not_running(step, verdict.reason or "the condition does not hold")
    errors: list[FieldProblem] = []
    if (unmet := unmet_reference(step, results)) is not None:
        where = str(unmet.params["where"])
        errors.append(FieldProblem(field=where, message=unmet.text, code=unmet.code, params=unmet.params))
    stand_ins = stand_ins_read(step, results)
    elements: list[ElementPreview] = []
    if target.problem is not None:
        errors.append(target.problem)
        mapped = _Mapped()
    elif step.for_each is None:
        mapped = await _map(step, scope, target, budget)
    else:
        values = for_each_elements(for_each_value(step, scope))
        if values is None:
            message = f"for_each {step.for_each!r} is not a list"
            errors.append(FieldProblem(field="for_each", message=message, code="for_each_not_a_list"))
            mapped = _Mapped()
        elif len(values) > MAX_ELEMENTS:
            message = f"for_each {step.for_each!r} has {len(values)} elements, more than the {MAX_ELEMENTS} allowed"
            params = {"count": len(values), "max": MAX_ELEMENTS}
            errors.append(FieldProblem(field="for_each", message=message, code="too_many_elements", params=params))
            mapped = _Mapped()
        elif not values:
            results[step.key] = not_run
            return _not_running(step, f"for_each {step.for_each!r} has no elements")
        else:
            mapped, elements = await _elements(step, item, steps, results, values, target, budget)
    results[step.key] = stand_in(step, columns)
    return _preview(
        step,
        runs=True,
        condition_reason=None,
        values=mapped.values,
        errors=errors + mapped.errors,
        warnings=mapped.warnings,
        elements=elements,
        stand_ins=stand_ins,
    )


async def _elements(
    step: BundleStep,
    item: Mapping[str, Any],
    steps: Sequence[BundleStep],
    results: Mapping[str, StepResult],
    values: list[Any],
    target: Target,
    budget: Budget,
) -> tuple[_Mapped, list[ElementPreview]]:
    """Each element mapped in its own scope (`item` the element, `index`, `event`); the step shows the first."""
    elements: list[ElementPreview] = []
    first: _Mapped | None = None
    for index, element in enumerate(values):
        scope = step_scope(item, steps, results, element=element, index=index)
        mapped = await _map(step, scope, target, budget)
        first = first or mapped
        elements.append(ElementPreview(index=index, values=mapped.values, errors=mapped.errors))
    assert first is not None
    return first, elements
