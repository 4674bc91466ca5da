from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from bpmlink.bundle_config import BundleConfig, TargetConfig
from bpmlink.bundle_steps import BundleStep, StepAction
from bpmlink.hook_limits import HOOK_RATE_MAX, HOOK_RATE_MIN
from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.filters import FilterGroup
from bpmlink.mapping.rules import MappingRule
from bpmlink_api.schemas import Input


def _round_one(what: str, reads: str) -> Any:
    """A round-1 field: documented as deprecated in OpenAPI (no runtime warning: the model fills it)."""
    return Field(
        None,
        description=f"Deprecated (round 1), use `steps`: {what}. {reads}",
        json_schema_extra={"deprecated": True},
    )


_IN = "Given, it is the one step `main` (beside `steps`: only for a bundle of one step, and it wins)."
_OUT = "Filled in only for a bundle of one create/update step, else null."


class BundleIn(BundleConfig):
    steps: list[BundleStep] = Field(
        default_factory=list,
        description="The steps, run in order for each event (1 to 20); or give round 1's target + mapping + dedup.",
    )
    target: TargetConfig | None = _round_one("the connection, action and entity", _IN)
    mapping: list[MappingRule] | None = _round_one("the step's mapping", _IN)
    dedup: DedupPolicy | None = _round_one("the step's duplicate policy", _IN)
    # Write-only: the webhook verification secret (stored encrypted, never returned).
    webhook_secret: str | None = Field(None, min_length=8, max_length=500)
    webhook_rate_per_minute: int | None = Field(
        None,
        description=f"The webhook URL's own limit, requests per minute ({HOOK_RATE_MIN} to {HOOK_RATE_MAX}); null: "
        "the default (`webhook_rate_default_per_minute`). Left out of an update: unchanged.",
    )

    @field_validator("webhook_rate_per_minute")
    @classmethod
    def _rate_in_range(cls, value: int | None) -> int | None:
        if value is not None and not HOOK_RATE_MIN <= value <= HOOK_RATE_MAX:
            raise PydanticCustomError(
                "hook_rate_out_of_range",
                "a webhook's limit is from {min} to {max} requests a minute",
                {"min": HOOK_RATE_MIN, "max": HOOK_RATE_MAX},
            )
        return value

    @model_validator(mode="after")
    def _has_steps(self) -> BundleIn:
        if not self.steps:
            raise PydanticCustomError(
                "steps_empty", "a bundle needs at least {min} step (or round 1's target)", {"min": 1}
            )
        return self


class LastRun(BaseModel):
    at: datetime
    status: str


class BackfillProgress(BaseModel):
    """A backfill's progress: pages read, items found and stored (new events), and their outcome."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    since: datetime | None = None
    pages: int = 0
    found: int = 0
    stored: int = 0
    processed: int | None = None  # operations of the stored events that reached a final status (single read)
    failed: int | None = None
    error: str | None = None
    requested_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class PollingOut(BaseModel):
    interval_minutes: int
    next_due_at: datetime | None
    last_polled_at: datetime | None
    last_error: str | None
    failures: int
    backfill: BackfillProgress | None


class MissingField(BaseModel):
    step: str = Field(description="The step's key.")
    field: str = Field(description="The entity's required field no rule fills.")


class BundleOut(BundleConfig):
    steps: list[BundleStep] = Field(description="The steps, run in order for each event.")
    target: TargetConfig | None = _round_one("the one step's connection, action and entity", _OUT)
    mapping: list[MappingRule] | None = _round_one("the one step's mapping", _OUT)
    dedup: DedupPolicy | None = _round_one("the one step's duplicate policy", _OUT)
    id: uuid.UUID
    status: str
    status_reason: str | None
    config_version: int
    webhook_url: str | None
    webhook_secret_set: bool
    webhook_rate_per_minute: int | None = Field(description="The webhook URL's own limit; null: the default.")
    webhook_rate_default_per_minute: int | None = Field(
        description="Requests per minute a webhook URL takes without a limit of its own (0: no limit); "
        "null for a bundle without a webhook URL."
    )
    rate_limited_24h: int = Field(description="Webhook requests refused as over the limit in the last 24 hours.")
    config_secrets_set: list[str] = Field(default_factory=list)  # the trigger's secret config fields that are set
    capture_sample: bool
    has_sample: bool
    held_count: int
    last_run: LastRun | None
    counts: dict[str, int]  # operations per status over the last 24 hours
    polling: PollingOut | None = None  # polling bundles: schedule, last poll, last error, backfill
    incomplete: bool = Field(False, description="Required fields are unmapped: saved, but it cannot start.")
    missing: list[MissingField] = Field(default_factory=list, description="The required fields left unmapped.")
    created_at: datetime
    updated_at: datetime


class BundleList(BaseModel):
    items: list[BundleOut]
    next_cursor: str | None = None


class StartIn(Input):
    held: Literal["process", "discard"] = "process"


class SampleIn(Input):
    capture: bool | None = None  # arm capture mode: the next webhook request becomes the sample
    item: dict[str, Any] | None = None  # or set the sample directly
    fetch: bool | None = None  # polling bundles: fetch one item from the source now (the cursor is ignored)


class BackfillIn(Input):
    since: datetime | None = None  # start at this cursor value (a date) instead of the beginning


class BackfillOut(BaseModel):
    job_id: str
    backfill: BackfillProgress


class SampleOut(BaseModel):
    capture: bool
    sample: dict[str, Any] | None
    fields: list[dict[str, Any]]  # flattened paths with their sample values, for the mapping dropdowns


class PreviewIn(Input):
    item: dict[str, Any] | None = None  # default: the bundle's sample
    # Unsaved edits to try (default: the saved ones), so the wizard previews before it saves.
    steps: list[BundleStep] | None = Field(None, description="Unsaved steps to try (default: the saved ones).")
    mapping: list[MappingRule] | None = Field(
        None, description="Deprecated (round 1): an unsaved mapping of the first step (ignored beside `steps`)."
    )
    filter: FilterGroup | None = None


class FieldProblem(BaseModel):
    """A field's problem: the English `message`, and where known a stable `code` with `params`."""

    field: str
    message: str
    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ElementPreview(BaseModel):
    """One element of a for_each step: its position in the array and what it maps to."""

    index: int
    values: dict[str, Any]
    errors: list[FieldProblem]


class StepPreview(BaseModel):
    """What one step would do with the item. Earlier steps' records are stand-ins (nothing is written):
    `stand_ins` names the ones this step reads, `steps.<key>.Id` → the stand-in GUID."""

    key: str
    name: str
    action: StepAction
    entity: str | None
    runs: bool  # its condition holds (a step without one always runs)
    condition_reason: str | None  # why it does not run
    values: dict[str, Any]  # for a for_each step: the first element's
    errors: list[FieldProblem]
    warnings: list[FieldProblem]
    elements: list[ElementPreview] = Field(default_factory=list)  # for_each steps only
    stand_ins: dict[str, str] = Field(default_factory=dict)


class PreviewOut(BaseModel):
    """The bundle's filter and each step applied to the item. The top-level values, errors and
    warnings are the first step's (as in round 1)."""

    passed_filter: bool
    filter_reason: str | None
    values: dict[str, Any]
    errors: list[FieldProblem]
    warnings: list[FieldProblem]
    steps: list[StepPreview] = Field(default_factory=list)


class DedupPreviewIn(Input):
    item: dict[str, Any] | None = None  # default: the bundle's sample
    step: str | None = Field(None, description="The key of the step to search for (default: the first that searches).")
    dedup: DedupPolicy | None = None  # an unsaved policy of that step to try (default: the saved one)


class DedupCandidate(BaseModel):
    id: str
    name: str | None


class DedupPreviewOut(BaseModel):
    """What the duplicate search finds for the item now: the first group that found (its index),
    with which values, the records, how phones were searched, and what the worker would do."""

    step: str  # the key of the step searched for
    group: int | None
    fields: list[str]
    values: dict[str, Any]
    candidates: list[DedupCandidate]
    phone_search: Literal["search_column", "exact_fallback"] | None
    action: Literal["create", "update", "skip"]
    errors: list[FieldProblem]
