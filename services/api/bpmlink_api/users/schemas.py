from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from bpmlink.db.models import Role
from bpmlink_api.schemas import Input


class MemberOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


class RoleIn(Input):
    role: Role


class ResetLinkOut(BaseModel):
    """A password-reset link for a member: e-mailed to them (link null) or, without SMTP, for the owner to pass on."""

    link: str | None
    emailed: bool
    expires_at: datetime
