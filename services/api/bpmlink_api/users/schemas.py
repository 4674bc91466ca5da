from __future__ import annotations

import uuid

from pydantic import BaseModel, EmailStr, Field

from bpmlink.db.models import Role


class MemberOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role


class MemberList(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None = None


class MemberIn(BaseModel):
    email: EmailStr
    name: str = Field("", max_length=200)
    password: str | None = Field(None, min_length=8, max_length=1024)
    role: Role = Role.editor


class RoleIn(BaseModel):
    role: Role
