"""Bundle steps (DESIGN.md "Round 2"): a bundle is an ordered list of steps run for each event.

Each step has a `key` the later steps name in their mappings (`steps.contact.Id`), an action, its
bpm'online connection and entity, a mapping, and for the actions that search a dedup policy. A
step may hold a `condition` (it runs only when it holds: two steps with opposite conditions are a
router) and a `for_each` path (it runs once per element of that array, the element being `item`
and its position `index` in its mapping).

This module is the model and what is known of it before any event: which earlier steps (and which
of their columns) a step reads, and the refusals at save (a forward or unknown reference).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bpmlink.mapping.dedup import DedupPolicy, with_phone_defaults
from bpmlink.mapping.filters import Condition, FilterGroup
from bpmlink.mapping.paths import PathSyntaxError, parse_path
from bpmlink.mapping.rules import MappingRule, MappingSpec

ENTITY_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
STEP_KEY = r"^[a-z][a-z0-9_]*$"
MAIN = "main"  # the key of the one step of a round-1 bundle (target + mapping + dedup)
MAX_STEPS = 20
MAX_ELEMENTS = 500  # for_each elements of one step for one event
STEPS_ROOT = "steps"  # the name later steps read earlier results under


class StepAction(StrEnum):
    find_record = "find_record"
    create_record = "create_record"
    update_record = "update_record"
    create_activity = "create_activity"
    run_process = "run_process"
    attach_file = "attach_file"


# The actions that search with the step's dedup policy, and those that write a record.
SEARCHING = frozenset({StepAction.find_record, StepAction.create_record, StepAction.update_record})
WRITING = frozenset(
    {StepAction.create_record, StepAction.update_record, StepAction.create_activity, StepAction.attach_file}
)

# Creatio's own defaults for a new task (../shared/reference/creatio-odata.md, "Activity").
TASK_TYPE = uuid.UUID("fbe0acdc-cfc0-df11-b00f-001d60e938c6")
TODO_CATEGORY = uuid.UUID("f2c0ce0e-cfc1-df11-b00f-001d60e938c6")
NOT_STARTED = uuid.UUID("384d4b84-58e6-df11-971b-001d60e938c6")
MEDIUM_PRIORITY = uuid.UUID("ab96fa02-7fe6-df11-971b-001d60e938c6")
FILE_TYPE = uuid.UUID("529bc2f8-0ee0-df11-971b-001d60e938c6")  # a file attachment (not a link)
ACTIVITY = "Activity"
PARTICIPANT = "ActivityParticipant"


class ActivityOptions(BaseModel):
    """A task's lookups (Creatio's defaults unless the user picks others from the instance), when it
    starts and is due relative to the run (a mapped StartDate/DueDate wins), and its participants:
    templates that render to Contact ids (`{{ steps.contact.Id }}`), one ActivityParticipant row each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_id: uuid.UUID = TASK_TYPE
    category_id: uuid.UUID = TODO_CATEGORY
    status_id: uuid.UUID = NOT_STARTED
    priority_id: uuid.UUID = MEDIUM_PRIORITY
    start_in_minutes: int = Field(0, ge=0, le=525_600)
    due_in_minutes: int = Field(120, ge=0, le=525_600)  # «через 2 часа»
    participants: list[str] = Field(default_factory=list, max_length=20)


class ProcessOptions(BaseModel):
    """A business process started by its code (`ProcessEngineService.svc/{schema}/Execute`): the
    step's mapping targets are the process's parameter codes; `result_parameter` names the one
    output parameter to read back (`steps.<key>.result`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_name: str = Field(pattern=ENTITY_NAME, max_length=128)
    result_parameter: str | None = Field(None, pattern=ENTITY_NAME, max_length=128)


class FileOptions(BaseModel):
    """A file downloaded from a URL and attached to the record of an earlier step. The step's
    mapping builds `Url` (required) and `Name` (optional: else the URL's or the answer's name);
    the step's `entity` is the file entity (default `<Entity of attach_to>File`: ContactFile…)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attach_to: str = Field(pattern=STEP_KEY, max_length=40)
    max_bytes: int = Field(10 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)  # Creatio's MaxFileSize default


class BundleStep(BaseModel):
    """One step of a bundle."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=STEP_KEY, max_length=40)
    name: str = Field("", max_length=200)
    action: StepAction = StepAction.create_record
    connection_id: uuid.UUID
    entity: str | None = Field(None, pattern=ENTITY_NAME, max_length=128)
    mapping: list[MappingRule] = Field(default_factory=list)
    dedup: DedupPolicy = Field(default_factory=DedupPolicy)
    condition: FilterGroup | None = None
    for_each: str | None = Field(None, max_length=500)
    not_found: Literal["stop", "continue"] = "stop"  # find_record (and update_only): end the run or go on
    activity: ActivityOptions | None = None
    process: ProcessOptions | None = None
    file: FileOptions | None = None

    @field_validator("mapping")
    @classmethod
    def _unique_targets(cls, rules: list[MappingRule]) -> list[MappingRule]:
        return MappingSpec(rules=rules).rules

    @field_validator("for_each")
    @classmethod
    def _valid_path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)
        return value

    @model_validator(mode="after")
    def _action_parts(self) -> BundleStep:
        """Each action's own parts; a match field the mapping converts with phone_e164 compares as a phone."""
        action = self.action
        if action == StepAction.create_activity:
            self.entity = self.entity or ACTIVITY
            self.activity = self.activity or ActivityOptions()
        elif action == StepAction.run_process:
            if self.process is None:
                raise ValueError(f"the step {self.key!r} runs a process: name it (process.schema_name)")
            self.entity = None
        elif action == StepAction.attach_file:
            if self.file is None:
                raise ValueError(f"the step {self.key!r} attaches a file: say to which step's record (file.attach_to)")
        elif self.entity is None:
            raise ValueError(f"the step {self.key!r} needs an entity")
        if action == StepAction.find_record and not self.dedup.match:
            raise ValueError(f"the step {self.key!r} finds a record: give the fields to search by (dedup.match)")
        object.__setattr__(self, "dedup", with_phone_defaults(self.dedup, self.mapping))
        return self

    @property
    def searches(self) -> bool:
        return self.action in SEARCHING

    @property
    def writes(self) -> bool:
        return self.action in WRITING


def round_one_step(target: dict[str, Any], mapping: Any, dedup: Any) -> dict[str, Any]:
    """The step a round-1 bundle (`target`, `mapping`, `dedup`) means: key `main`."""
    step: dict[str, Any] = {"key": MAIN, **target}
    if mapping is not None:
        step["mapping"] = mapping
    if dedup is not None:
        step["dedup"] = dedup
    return step


def record_id_for(event_id: uuid.UUID, key: str = MAIN, index: int | None = None, part: str = "") -> uuid.UUID:
    """The Id a create of this step for this event (and element, and part: a participant row) sends:
    the same on every attempt and every worker. Step `main` without an element keeps round 1's Id,
    so an event retried across the upgrade finds the record its earlier try made."""
    if key == MAIN and index is None and not part:
        return uuid.uuid5(_RECORD_NAMESPACE, str(event_id))
    return uuid.uuid5(_RECORD_NAMESPACE, f"{event_id}:{key}:{'' if index is None else index}:{part}")


_RECORD_NAMESPACE = uuid.UUID("b9d6f0a2-41c3-4e0e-9a5b-6d1f8e2c7a30")


# -- what a step reads of earlier steps ---------------------------------------------------------

# `steps.contact.Id`, `steps.contact['OwnerId']`, `steps["contact"].found` in a template.
_TEMPLATE_REF = re.compile(
    r"\bsteps\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
    r"(?:\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([^'\"]+)['\"]\s*\]))?"
)


@dataclass(frozen=True)
class Reference:
    """A step's read of an earlier step: `steps.<step>.<column>` (column None: the whole result),
    and where it was found (`mapping.LeadName`, `condition`, …) for the message at save."""

    step: str
    column: str | None
    where: str


def _path_ref(path: str, where: str) -> Reference | None:
    try:
        segments = parse_path(path)
    except PathSyntaxError:
        return None
    if len(segments) < 2 or segments[0] != STEPS_ROOT or not isinstance(segments[1], str):
        return None
    column = segments[2] if len(segments) > 2 and isinstance(segments[2], str) else None
    return Reference(segments[1], column, where)


def _template_refs(text: str, where: str) -> Iterator[Reference]:
    for match in _TEMPLATE_REF.finditer(text):
        step = match.group(1) or match.group(2)
        column = match.group(3) or match.group(4)
        yield Reference(step, column, where)


def _condition_refs(group: FilterGroup | None, where: str) -> Iterator[Reference]:
    for part in group.conditions if group is not None else ():
        if isinstance(part, Condition):
            if (ref := _path_ref(part.field, where)) is not None:
                yield ref
        else:
            yield from _condition_refs(part, where)


def references(step: BundleStep) -> list[Reference]:
    """Every read of `steps.<key>…` in the step: mapping sources and templates, lookups, the
    condition, for_each, the participants and the file's record."""
    refs: list[Reference] = []
    for rule in step.mapping:
        where = f"mapping.{rule.target}"
        if rule.source is not None and (ref := _path_ref(rule.source, where)) is not None:
            refs.append(ref)
        for text in (rule.template, rule.lookup.value if rule.lookup else None):
            if text:
                refs.extend(_template_refs(text, where))
    refs.extend(_condition_refs(step.condition, "condition"))
    if step.for_each and (ref := _path_ref(step.for_each, "for_each")) is not None:
        refs.append(ref)
    for i, text in enumerate(step.activity.participants if step.activity else ()):
        refs.extend(_template_refs(text, f"activity.participants[{i}]"))
    if step.file is not None:
        refs.append(Reference(step.file.attach_to, "Id", "file.attach_to"))
    return refs


@dataclass(frozen=True)
class StepProblem:
    """A refusal at save: `code` and `params` for the reader's language, `text` in English."""

    step: str
    where: str
    code: str
    params: dict[str, Any]
    text: str


def check_steps(steps: Sequence[BundleStep]) -> list[StepProblem]:
    """Keys unique, at most MAX_STEPS, and every reference to an earlier step (a later step or an
    unknown key is refused: no cycle can be written)."""
    problems: list[StepProblem] = []
    if not steps:
        problems.append(StepProblem("", "steps", "steps_empty", {}, "a bundle needs at least one step"))
    if len(steps) > MAX_STEPS:
        problems.append(StepProblem("", "steps", "too_many_steps", {"limit": MAX_STEPS}, f"at most {MAX_STEPS} steps"))
    position: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.key in position:
            text = f"the key {step.key!r} is used twice"
            problems.append(StepProblem(step.key, "key", "step_key_twice", {"step": step.key}, text))
        position.setdefault(step.key, i)
    for i, step in enumerate(steps):
        for ref in references(step):
            at = position.get(ref.step)
            params = {"step": step.key, "ref": ref.step, "where": ref.where}
            if at is None:
                text = f"the step {step.key!r} reads steps.{ref.step} ({ref.where}), but there is no step {ref.step!r}"
                problems.append(StepProblem(step.key, ref.where, "step_ref_unknown", params, text))
            elif at >= i:
                text = (
                    f"the step {step.key!r} reads steps.{ref.step} ({ref.where}), "
                    "which runs at the same time or later: a step reads only the steps before it"
                )
                problems.append(StepProblem(step.key, ref.where, "step_ref_forward", params, text))
        if step.file is not None and step.file.attach_to in position:
            target = steps[position[step.file.attach_to]]
            if not target.writes and not target.searches:
                params = {"step": step.key, "ref": target.key}
                text = f"the step {step.key!r} attaches a file to {target.key!r}, which has no record"
                problems.append(StepProblem(step.key, "file.attach_to", "step_has_no_record", params, text))
    return problems


def read_columns(steps: Sequence[BundleStep]) -> dict[str, set[str]]:
    """Per step key, the columns later steps read of its record (so a search selects them and the
    operation keeps them for a replay): `steps.contact.OwnerId` → {"contact": {"OwnerId"}}."""
    wanted: dict[str, set[str]] = {}
    for step in steps:
        for ref in references(step):
            if ref.column and ref.column not in RESULT_FLAGS:
                wanted.setdefault(ref.step, set()).add(ref.column)
    return wanted


RESULT_FLAGS = frozenset({"found", "created", "ran", "result", "records"})


def for_each_elements(value: Any) -> list[Any] | None:
    """The elements a for_each path gave (None: not a list; a single object counts as one)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return [value]
    return None
