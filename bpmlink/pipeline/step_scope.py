"""What a step's mapping, condition and templates read: the event's item, the earlier steps' results
under `steps`, and in a for_each step the element as `item` and its position as `index` (the whole
event then as `event`). The worker and the preview build it the same way, here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bpmlink.bundle_steps import STEPS_ROOT, BundleStep, references
from bpmlink.kit.messages import Message, message
from bpmlink.mapping.paths import get_path
from bpmlink.mapping.templates import ElementScope
from bpmlink.step_results import StepOutcome, StepResult, scope_entry


def step_scope(
    item: Mapping[str, Any],
    steps: Sequence[BundleStep],
    results: Mapping[str, StepResult],
    *,
    element: Any = None,
    index: int | None = None,
) -> dict[str, Any]:
    """The scope of one step (one element of a for_each step). A bundle of one step reads its
    item as it is, as in round 1: `steps` is added only when there are earlier steps."""
    if len(steps) <= 1 and index is None:
        return dict(item)
    scope: dict[str, Any] = ElementScope(item) if index is not None else dict(item)
    scope[STEPS_ROOT] = {step.key: scope_entry(results.get(step.key)) for step in steps if step.key in results}
    if index is not None:
        scope.update(item=element, index=index, event=dict(item))
    return scope


def unmet_reference(step: BundleStep, results: Mapping[str, StepResult]) -> Message | None:
    """A mapping (or the file's record) that reads a step that did not run, or ran without a record:
    the run fails naming both. Conditions may read such a step (`steps.contact.found`)."""
    for ref in references(step):
        if ref.where == "condition":
            continue
        result = results.get(ref.step)
        if result is None or result.result == StepOutcome.not_run:
            return message(
                "step_not_run",
                f"{ref.where} reads steps.{ref.step}.{ref.column or ''}, but the step {ref.step!r} did not run",
                step=step.key,
                ref=ref.step,
                column=ref.column,
                where=ref.where,
            )
        if ref.column == "Id" and result.record_id is None:
            return message(
                "step_has_no_record",
                f"{ref.where} reads steps.{ref.step}.Id, but the step {ref.step!r} has no record ({result.result})",
                step=step.key,
                ref=ref.step,
                column=ref.column,
                where=ref.where,
                result=str(result.result),
            )
    return None


def for_each_value(step: BundleStep, scope: Mapping[str, Any]) -> Any:
    """The value a for_each step's path reads in the step's scope (the event's item, earlier steps)."""
    assert step.for_each is not None
    return get_path(scope, step.for_each)
