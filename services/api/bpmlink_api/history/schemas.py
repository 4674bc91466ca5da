from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bpmlink.db.models import OperationStatus


class StepOut(BaseModel):
    attempt: int
    position: int
    system: str
    method: str
    url: str
    request_headers: dict[str, Any] | None
    request_body: str | None
    status: int | None
    response_body: str | None
    duration_ms: int | None
    error: str | None
    started_at: datetime


class OperationOut(BaseModel):
    id: uuid.UUID
    bundle_id: uuid.UUID
    event_id: uuid.UUID
    config_version: int
    status: OperationStatus
    attempts: int
    record_id: uuid.UUID | None
    error: str | None
    source_data: dict[str, Any] | None
    mapped_data: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    # Parked after its fast tries (status `retrying`): since when, and when the next slow try is due.
    parked_at: datetime | None = None
    next_attempt_at: datetime | None = None


class OperationDetail(OperationOut):
    steps: list[StepOut]


class OperationList(BaseModel):
    items: list[OperationOut]
    next_cursor: str | None = None


class ReplayOut(BaseModel):
    replayed: int


class StatsBucket(BaseModel):
    bucket: datetime
    bundle_id: uuid.UUID
    status: str
    count: int


class StatsOut(BaseModel):
    since: datetime
    bucket: str
    items: list[StatsBucket]
