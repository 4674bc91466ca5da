from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bpmlink.bundle_config import BundleConfig


class BundleIn(BundleConfig):
    # Write-only: the webhook verification secret (stored encrypted, never returned).
    webhook_secret: str | None = Field(None, min_length=8, max_length=500)


class LastRun(BaseModel):
    at: datetime
    status: str


class BundleOut(BundleConfig):
    id: uuid.UUID
    status: str
    status_reason: str | None
    config_version: int
    webhook_url: str | None
    webhook_secret_set: bool
    capture_sample: bool
    has_sample: bool
    held_count: int
    last_run: LastRun | None
    counts: dict[str, int]  # operations per status over the last 24 hours
    created_at: datetime
    updated_at: datetime


class BundleList(BaseModel):
    items: list[BundleOut]
    next_cursor: str | None = None


class StartIn(BaseModel):
    held: Literal["process", "discard"] = "process"


class SampleIn(BaseModel):
    capture: bool | None = None  # arm capture mode: the next webhook request becomes the sample
    item: dict[str, Any] | None = None  # or set the sample directly


class SampleOut(BaseModel):
    capture: bool
    sample: dict[str, Any] | None
    fields: list[dict[str, Any]]  # flattened paths with their sample values, for the mapping dropdowns


class PreviewIn(BaseModel):
    item: dict[str, Any] | None = None  # default: the bundle's sample


class FieldProblem(BaseModel):
    field: str
    message: str


class PreviewOut(BaseModel):
    passed_filter: bool
    filter_reason: str | None
    values: dict[str, Any]
    errors: list[FieldProblem]
    warnings: list[FieldProblem]
