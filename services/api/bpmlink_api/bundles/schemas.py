from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bpmlink.bundle_config import BundleConfig
from bpmlink.mapping.dedup import DedupPolicy
from bpmlink.mapping.filters import FilterGroup
from bpmlink.mapping.rules import MappingRule
from bpmlink_api.schemas import Input


class BundleIn(BundleConfig):
    # Write-only: the webhook verification secret (stored encrypted, never returned).
    webhook_secret: str | None = Field(None, min_length=8, max_length=500)


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


class BundleOut(BundleConfig):
    id: uuid.UUID
    status: str
    status_reason: str | None
    config_version: int
    webhook_url: str | None
    webhook_secret_set: bool
    config_secrets_set: list[str] = Field(default_factory=list)  # the trigger's secret config fields that are set
    capture_sample: bool
    has_sample: bool
    held_count: int
    last_run: LastRun | None
    counts: dict[str, int]  # operations per status over the last 24 hours
    polling: PollingOut | None = None  # polling bundles: schedule, last poll, last error, backfill
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
    mapping: list[MappingRule] | None = None
    filter: FilterGroup | None = None


class FieldProblem(BaseModel):
    field: str
    message: str


class PreviewOut(BaseModel):
    passed_filter: bool
    filter_reason: str | None
    values: dict[str, Any]
    errors: list[FieldProblem]
    warnings: list[FieldProblem]


class DedupPreviewIn(Input):
    item: dict[str, Any] | None = None  # default: the bundle's sample
    dedup: DedupPolicy | None = None  # an unsaved policy to try (default: the saved one)


class DedupCandidate(BaseModel):
    id: str
    name: str | None


class DedupPreviewOut(BaseModel):
    """What the duplicate search finds for the item now: the first group that found (its index),
    with which values, the records, how phones were searched, and what the worker would do."""

    group: int | None
    fields: list[str]
    values: dict[str, Any]
    candidates: list[DedupCandidate]
    phone_search: Literal["search_column", "exact_fallback"] | None
    action: Literal["create", "update", "skip"]
    errors: list[FieldProblem]
