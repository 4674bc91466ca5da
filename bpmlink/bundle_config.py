"""A bundle's configuration as the API takes it and the worker runs it (DESIGN.md "Bundle")."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bpmlink.mapping.dedup import DedupPolicy, with_phone_defaults
from bpmlink.mapping.filters import FilterGroup
from bpmlink.mapping.rules import MappingRule, MappingSpec

ENTITY_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    app: str
    connection_id: uuid.UUID | None = None
    trigger: str
    config: dict[str, Any] = Field(default_factory=dict)


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connection_id: uuid.UUID
    action: Literal["create_record", "update_record"] = "create_record"
    entity: str = Field(pattern=ENTITY_NAME, max_length=128)


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interval_minutes: int = Field(5, ge=1, le=1440)


class BundleConfig(BaseModel):
    """Everything that says what a bundle does; saved as a new version on every change."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    source: SourceConfig
    target: TargetConfig
    mapping: list[MappingRule] = Field(default_factory=list)
    filter: FilterGroup | None = None
    dedup: DedupPolicy = Field(default_factory=DedupPolicy)
    schedule: Schedule = Field(default_factory=Schedule)

    @field_validator("mapping")
    @classmethod
    def _unique_targets(cls, rules: list[MappingRule]) -> list[MappingRule]:
        return MappingSpec(rules=rules).rules

    @model_validator(mode="after")
    def _phone_matches(self) -> BundleConfig:
        """A match field the mapping converts with phone_e164 compares as a phone (stored so)."""
        object.__setattr__(self, "dedup", with_phone_defaults(self.dedup, self.mapping))
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)
