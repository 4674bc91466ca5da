from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

from bpmlink.db.models import Role
from bpmlink.kit.passwords import MAX_LENGTH
from bpmlink_api.auth.schemas import Language
from bpmlink_api.schemas import Input


class InvitationIn(Input):
    email: EmailStr = Field(max_length=320)
    role: Role = Role.editor


class InvitationOut(BaseModel):
    """A pending invitation. `link` is only in the answer that created it, and only when it was not e-mailed:
    the database keeps no more than the token's hash."""

    id: uuid.UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    invited_by: str
    emailed: bool
    link: str | None = None


class InvitationList(BaseModel):
    items: list[InvitationOut]


class InvitationPreviewOut(BaseModel):
    """What the invitation page shows before the invitee sets a password or logs in."""

    workspace_name: str
    email: str
    role: Role
    invited_by: str
    account_exists: bool
    expires_at: datetime


class InvitationAcceptIn(Input):
    """password: the new account's, or the existing account's when account_exists."""

    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    name: str | None = Field(None, max_length=200)
    language: Language | None = None
