from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from bpmlink.bundle_steps import StepAction
from bpmlink.db.models import OperationStatus
from bpmlink.kit.messages import Message
from bpmlink.step_results import StepOutcome


class StepOut(BaseModel):
    """One HTTP request the operation made (an item of `requests`)."""

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


class ElementResultOut(BaseModel):
    """One for_each element's end."""

    index: int
    result: StepOutcome
    record_id: str | None = None
    error: Message | None = None


class StepResultSummary(BaseModel):
    """A step's end in a list of operations: its key, action, result and record."""

    key: str
    action: StepAction
    result: StepOutcome
    record_id: str | None = None


class StepResultOut(StepResultSummary):
    """What one bundle step did for the event (`operations.step_results`)."""

    entity: str | None = None
    elements: list[ElementResultOut] = Field(default_factory=list)
    error: Message | None = None
    note: Message | None = None
    values: dict[str, Any] | None = None  # what was sent (for for_each: the first element's)
    changes: dict[str, list[Any]] | None = None  # an update's {column: [old, new]}


class OperationOut(BaseModel):
    id: uuid.UUID
    bundle_id: uuid.UUID
    bundle_name: str | None = Field(default=None, description="The bundle's name (in a list of operations).")
    event_id: uuid.UUID
    config_version: int
    status: OperationStatus
    attempts: int
    record_id: uuid.UUID | None
    error: str | None = Field(description="The error's English words (for clients that know no codes).")
    # The error (or note) as a code with params, to render in the reader's language (the SPA does;
    # None for operations written before messages were stored: read `error`).
    message: Message | None = None
    source_data: dict[str, Any] | None
    mapped_data: dict[str, Any] | None
    changes: dict[str, list[Any]] | None = Field(
        default=None, description="What an update changed: {column: [old, new]} (the first step that changed one)."
    )
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    # Parked after its fast tries (status `retrying`): since when, and when the next slow try is due.
    parked_at: datetime | None = None
    next_attempt_at: datetime | None = None
    # Each bundle step's end, in step order (empty before the worker ran a step, and for round-1 rows).
    step_results: list[StepResultSummary] = Field(default_factory=list)

    @field_validator("step_results", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or []


class IncomingRequestOut(BaseModel):
    """The webhook request the operation's event came from, as the gateway stored it: its headers
    without cookies, authorization and secrets; a secret query parameter's value masked."""

    method: str | None = None
    headers: dict[str, Any] = Field(default_factory=dict)
    query: str | None = None
    client: str | None = Field(default=None, description="The sender's address.")
    body: str | None = Field(default=None, description="The body as text (undecodable bytes replaced).")
    received_at: datetime


class OperationDetail(OperationOut):
    step_results: list[StepResultOut] = Field(default_factory=list)  # type: ignore[assignment]
    incoming: IncomingRequestOut | None = Field(
        default=None, description="For a webhook source: the incoming request, the operation's first request."
    )
    requests: list[StepOut] = Field(description="The HTTP requests the operation made, in order.")
    steps: list[StepOut] = Field(
        description="Deprecated: the same list as `requests` (its round-1 name), kept for one release.",
        json_schema_extra={"deprecated": True},
    )


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
