from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from bpmlink_api.schemas import Input


class ApiKeyIn(Input):
    name: str = Field(min_length=1, max_length=200)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    id: uuid.UUID
    name: str
    key: str  # shown once, never again


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
