"""A bundle's configuration as the API takes it and the worker runs it (DESIGN.md "Bundle").

A bundle is a list of steps (`bundle_steps`). The round-1 shape — `target`, `mapping`, `dedup` —
stays accepted and means one step with key `main`; a one-step bundle reads back with those fields
filled in too, so scripts written for round 1 keep working. Only `steps` is stored.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bpmlink.bundle_steps import ENTITY_NAME, BundleStep, StepAction, round_one_step
from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.filters import FilterGroup
from bpmlink.mapping.rules import MappingRule

__all__ = ["ENTITY_NAME", "BundleConfig", "Schedule", "SourceConfig", "TargetConfig"]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app: str
    connection_id: uuid.UUID | None = None
    trigger: str
    config: dict[str, Any] = Field(default_factory=dict)


class TargetConfig(BaseModel):
    """Round 1's one action (a bundle of one step reads back with it)."""

    model_config = ConfigDict(extra="forbid")

    connection_id: uuid.UUID
    action: Literal["create_record", "update_record"] = "create_record"
    entity: str = Field(pattern=ENTITY_NAME, max_length=128)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_minutes: int = Field(5, ge=1, le=1440)


_ROUND_ONE_ACTIONS = (StepAction.create_record, StepAction.update_record)


class BundleConfig(BaseModel):
    """Everything that says what a bundle does; saved as a new version on every change."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    source: SourceConfig
    steps: list[BundleStep] = Field(min_length=1)
    filter: FilterGroup | None = None
    schedule: Schedule = Field(default_factory=Schedule)
    # Round 1's shape, filled in on read for a bundle of one create/update step (None otherwise).
    target: TargetConfig | None = None
    mapping: list[MappingRule] | None = None
    dedup: DedupPolicy | None = None

    @model_validator(mode="before")
    @classmethod
    def _round_one(cls, data: Any) -> Any:
        """`target` (+ `mapping`, `dedup`) given: they are the step `main`. Sent beside `steps` (a
        script that read a bundle, changed `mapping` and sent it all back), they win for a one-step
        bundle, keeping the step's name, condition and for_each; beside several steps they are refused."""
        if not isinstance(data, dict) or data.get("target") is None:
            return data
        data = dict(data)
        step = round_one_step(dict(data.pop("target")), data.pop("mapping", None), data.pop("dedup", None))
        given = data.get("steps") or []
        if len(given) > 1:
            raise ValueError("give either steps or target (with mapping and dedup), not both, for several steps")
        if given and isinstance(given[0], dict):
            kept = {k: given[0][k] for k in ("key", "name", "condition", "for_each") if k in given[0]}
            step = {**step, **kept}
        data["steps"] = [step]
        return data

    @model_validator(mode="after")
    def _mirror(self) -> BundleConfig:
        """A bundle of one create/update step also reads as round 1's `target`, `mapping`, `dedup`."""
        only = self.steps[0] if len(self.steps) == 1 else None
        if only is not None and only.action in _ROUND_ONE_ACTIONS and only.entity is not None:
            action: Literal["create_record", "update_record"] = (
                "update_record" if only.action == StepAction.update_record else "create_record"
            )
            self.target = TargetConfig(connection_id=only.connection_id, action=action, entity=only.entity)
            self.mapping, self.dedup = only.mapping, only.dedup
        else:
            self.target, self.mapping, self.dedup = None, None, None
        return self

    @property
    def connection_ids(self) -> list[uuid.UUID]:
        """The bpm'online connections the steps write to, each once, in step order."""
        return list(dict.fromkeys(step.connection_id for step in self.steps))

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude={"target", "mapping", "dedup"})
