from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from bpmlink.notifications import NotificationSettings


class WorkspaceIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class WorkspaceSettings(BaseModel):
    id: uuid.UUID
    name: str
    notifications: NotificationSettings


class WorkspacePatch(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    notifications: NotificationSettings | None = None
