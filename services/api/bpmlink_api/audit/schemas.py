from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EntityType = Literal["connection", "bundle", "member", "invitation", "api_key", "workspace"]


class AuditActor(BaseModel):
    id: uuid.UUID
    email: str
    name: str


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: AuditActor | None = Field(description="null for bpmlink itself, or a user since removed")
    via: str = Field(description="session | api_key | cli | system")
    action: str = Field(
        description="created | updated | started | stopped | deleted | revoked"
        " | role_changed | invited | joined | removed (members)"
    )
    entity_type: str = Field(description="connection | bundle | member | invitation | api_key | workspace")
    entity_id: str | None
    entity_name: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = None
