from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from bpmlink_api.schemas import Input


class ConnectionIn(Input):
    app: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class ConnectionPatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    params: dict[str, Any] | None = None
    # Only the secrets named here change; a null value clears that secret.
    secrets: dict[str, str | None] | None = None


class ConnectionOut(BaseModel):
    id: uuid.UUID
    app: str
    name: str
    params: dict[str, Any]
    secrets_set: list[str]
    last_test: LastTest | None = None  # the last test's result and when it ran (None: never tested)
    created_at: datetime
    updated_at: datetime


class ConnectionList(BaseModel):
    items: list[ConnectionOut]
    next_cursor: str | None = None


class TestResult(BaseModel):
    ok: bool
    stage: str  # `unchecked`: not tested here (checked at the first poll), neither working nor failed
    message: str
    code: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class LastTest(TestResult):
    at: datetime


class EntitySummary(BaseModel):
    name: str


class EntityList(BaseModel):
    items: list[EntitySummary]
    next_cursor: str | None = None


class FieldOut(BaseModel):
    name: str
    type: str
    required: bool
    max_length: int | None = None
    lookup_entity: str | None = None
    read_only: bool = False


class EntityOut(BaseModel):
    name: str
    fields: list[FieldOut]
