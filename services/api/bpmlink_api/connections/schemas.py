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
    """A connection test: `message` in the reader's language; `message_code` + `params` to render it
    again, `text` its English, `remote` what the system itself answered (shown as it wrote it)."""

    ok: bool
    stage: str  # `unchecked`: not tested here (checked at the first poll), neither working nor failed
    message: str
    code: str | None = None
    message_code: str
    params: dict[str, Any] = Field(default_factory=dict)
    text: str
    remote: str | None = None


class LastTest(TestResult):
    at: datetime


class EntitySummary(BaseModel):
    name: str
    caption: str = Field(description="the entity's caption in the reader's language (the code name when none is known)")


class EntityList(BaseModel):
    items: list[EntitySummary]
    next_cursor: str | None = None


class FieldOut(BaseModel):
    name: str
    caption: str = Field(description="the column's caption in the reader's language (the code name when none is known)")
    type: str
    type_caption: str = Field(description="the type in words: «Строка», «Дата и время», «Справочник: Контрагент»")
    required: bool
    max_length: int | None = None
    lookup_entity: str | None = None
    lookup_caption: str | None = Field(None, description="the caption of the entity a lookup points at")
    read_only: bool = False


class EntityOut(BaseModel):
    name: str
    caption: str
    fields: list[FieldOut]
