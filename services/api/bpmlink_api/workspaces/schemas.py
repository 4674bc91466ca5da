from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from bpmlink.notifications import NotificationSettings
from bpmlink_api.schemas import Input


class WorkspaceIn(Input):
    name: str = Field(min_length=1, max_length=200)


class WorkspaceSettings(BaseModel):
    id: uuid.UUID
    name: str
    notifications: NotificationSettings


class NotificationsIn(Input, NotificationSettings):
    """`notifications` as a PATCH takes it: the stored shape, refusing unknown fields."""


class WorkspacePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    notifications: NotificationsIn | None = None
