from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, Field

from bpmlink.notifications import NotificationSettings
from bpmlink.retry_schedule import DEFAULT_DELAYS_SECONDS, DEFAULT_GIVE_UP_AFTER_SECONDS
from bpmlink_api.schemas import Input

_WEEK = 7 * 24 * 3600


class RetrySchedule(BaseModel):
    """How an operation parked after its fast tries is retried: the delays in turn (the last repeated),
    counted from when it was parked, until `give_up_after_seconds`; then it fails (and can be replayed)."""

    delays_seconds: list[Annotated[int, Field(ge=1, le=_WEEK)]] = Field(
        default_factory=lambda: list(DEFAULT_DELAYS_SECONDS), min_length=1, max_length=20
    )
    give_up_after_seconds: int = Field(DEFAULT_GIVE_UP_AFTER_SECONDS, ge=1, le=30 * 24 * 3600)


class WorkspaceIn(Input):
    name: str = Field(min_length=1, max_length=200)


class WorkspaceSettings(BaseModel):
    id: uuid.UUID
    name: str
    notifications: NotificationSettings
    retry_schedule: RetrySchedule


class NotificationsIn(Input, NotificationSettings):
    """`notifications` as a PATCH takes it: the stored shape, refusing unknown fields."""


class RetryScheduleIn(Input, RetrySchedule):
    """`retry_schedule` as a PATCH takes it: refusing unknown fields."""


class WorkspacePatch(Input):
    name: str | None = Field(None, min_length=1, max_length=200)
    notifications: NotificationsIn | None = None
    retry_schedule: RetryScheduleIn | None = None
