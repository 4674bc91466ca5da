"""What each bundle step did for one event (`operations.step_results`), and the operation's status
they sum up to.

A replay resumes at the first step that did not finish: the finished steps' results — their record
Id and the columns later steps read — come from here, so a task that failed never makes the worker
create the contact again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from bpmlink.bundle_steps import WRITING, BundleStep, StepAction
from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import Message, message


class StepOutcome(StrEnum):
    found = "found"  # find_record found it
    created = "created"
    updated = "updated"
    unchanged = "unchanged"  # found, and nothing differed
    skipped = "skipped"  # found, and the policy said leave it (skip_if_found, several on skip)
    not_found = "not_found"
    ran = "ran"  # run_process: bpm'online ran the process
    not_run = "not_run"  # its condition did not hold (or for_each had no elements)
    failed = "failed"
    started = "started"  # run_process: sent, its answer not written yet (a worker that died meanwhile)


# A step with one of these never runs again for the event (a replay takes its result as it is).
FINISHED = frozenset(StepOutcome) - {StepOutcome.failed, StepOutcome.started}
_FOUND = frozenset({StepOutcome.found, StepOutcome.updated, StepOutcome.unchanged, StepOutcome.skipped})


class ElementResult(BaseModel):
    """One for_each element's end."""

    model_config = ConfigDict(extra="forbid")

    index: int
    result: StepOutcome
    record_id: str | None = None
    error: Message | None = None


class StepResult(BaseModel):
    """One step's end for one event; `record` holds the record's Id and the columns later steps read."""

    model_config = ConfigDict(extra="forbid")

    key: str
    action: StepAction
    entity: str | None = None
    result: StepOutcome
    record_id: str | None = None
    record: dict[str, Any] = {}
    values: dict[str, Any] | None = None  # what was sent (for for_each: the first element's)
    changes: dict[str, list[Any]] | None = None  # an update's {column: [old, new]} (the first element's)
    elements: list[ElementResult] = []
    error: Message | None = None
    note: Message | None = None
    # Set on a failed step whose error will pass (bpm'online unavailable): the operation retries.
    transient: bool = False

    @property
    def finished(self) -> bool:
        return self.result in FINISHED


def for_replay(stored: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The results a replay keeps: all but a process whose outcome is unknown (a person who replays
    asks for it to run again; the worker alone never runs it twice)."""
    if stored is None:
        return None
    return [r for r in stored if r.get("result") != StepOutcome.started]


def scope_entry(result: StepResult | None) -> dict[str, Any]:
    """What later steps read as `steps.<key>`: the record's columns and Id, and the flags. A step
    that did not run reads as not found (and `ran` false: a mapping that needs its record fails)."""
    if result is None:
        return {"found": False, "created": False, "ran": False}
    entry: dict[str, Any] = dict(result.record)
    if result.record_id is not None:
        entry["Id"] = result.record_id
    entry["found"] = result.result in _FOUND
    entry["created"] = result.result == StepOutcome.created
    entry["ran"] = result.result != StepOutcome.not_run
    if result.elements:
        entry["records"] = [e.record_id for e in result.elements if e.record_id]
    return entry


def elements_result(elements: Sequence[ElementResult]) -> StepOutcome:
    """A for_each step's result from its elements' (failed wins, then created, updated…)."""
    results = {e.result for e in elements}
    for outcome in (StepOutcome.failed, StepOutcome.created, StepOutcome.updated, StepOutcome.ran, StepOutcome.found):
        if outcome in results:
            return outcome
    for outcome in (StepOutcome.unchanged, StepOutcome.skipped, StepOutcome.not_found):
        if outcome in results:
            return outcome
    return StepOutcome.not_run


_STATUS_OF = {
    StepOutcome.created: OperationStatus.created,
    StepOutcome.updated: OperationStatus.updated,
    StepOutcome.unchanged: OperationStatus.unchanged,
    StepOutcome.skipped: OperationStatus.skipped_duplicate,
    StepOutcome.not_found: OperationStatus.not_found,
}


class Summary(BaseModel):
    """The operation's status, record and error from its steps' results."""

    status: OperationStatus
    record_id: str | None = None
    error: Message | None = None
    note: Message | None = None


def summarize(steps: Sequence[BundleStep], results: Mapping[str, StepResult], stopped: str | None = None) -> Summary:
    """A failed step fails the operation (naming it); otherwise the first writing step that ran says
    created/updated/…; a run `stopped` by a find that found nothing is not_found; steps that all
    did not run make it filtered."""
    named = {step.key: step.name or step.key for step in steps}
    for step in steps:
        result = results.get(step.key)
        if result is not None and result.result == StepOutcome.failed:
            error = result.error or message("step_failed_unknown", "the step failed")
            text = f"step «{named[step.key]}»: {error.text}"
            return Summary(
                status=OperationStatus.failed,
                error=Message(
                    code="step_failed",
                    params={"step": step.key, "name": named[step.key], "error": error.model_dump()},
                    text=text,
                    remote=error.remote,
                ),
            )
    ran = [(step, results[step.key]) for step in steps if step.key in results]
    for step, result in ran:
        if step.action in WRITING and result.result in _STATUS_OF:
            return Summary(status=_STATUS_OF[result.result], record_id=result.record_id, note=result.note)
    if stopped is not None:
        result = results[stopped]
        return Summary(
            status=OperationStatus.not_found,
            note=result.note
            or message(
                "step_stopped_not_found",
                f"step «{named[stopped]}» found no record, so the run stopped here",
                step=stopped,
                name=named[stopped],
            ),
        )
    if ran and all(result.result == StepOutcome.not_run for _, result in ran):
        return Summary(
            status=OperationStatus.filtered,
            note=message("no_step_ran", "no step's condition held, so nothing was sent"),
        )
    found = next((r for _, r in ran if r.result in _FOUND), None)
    return Summary(status=OperationStatus.unchanged, record_id=found.record_id if found else None)
