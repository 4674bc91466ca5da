from __future__ import annotations

import functools
import uuid
import zoneinfo
from typing import Annotated, Literal

from fastapi import Path
from pydantic import BaseModel, EmailStr, Field, field_validator
from pydantic_core import PydanticCustomError

from bpmlink.kit.passwords import MAX_LENGTH
from bpmlink_api.schemas import Input

Language = Literal["ru", "en"]
SignupMode = Literal["open", "invite", "closed"]
# Tokens are 43 URL-safe characters; anything much longer is not one.
Token = Annotated[str, Field(min_length=1, max_length=200)]
TokenPath = Annotated[str, Path(min_length=1, max_length=200)]


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def known_zone(name: str | None) -> bool:
    return name is not None and name in _zones()


class LoginIn(Input):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    workspace_id: uuid.UUID | None = None
    # The browser's, for a profile that never had them set: its language (the login page's) and its IANA
    # zone (Intl.DateTimeFormat().resolvedOptions().timeZone). A zone this server does not know is ignored:
    # it must not stop anyone signing in.
    language: Language | None = None
    timezone: str | None = Field(None, max_length=64)


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    language: Language
    timezone: str


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    role: str


class MeOut(BaseModel):
    user: UserOut
    workspace: WorkspaceOut
    role: str
    workspaces: list[WorkspaceOut]


class AuthConfigOut(BaseModel):
    """What the login page needs to know: may people sign up, and is there e-mail."""

    signup: SignupMode
    email_confirmation: bool
    smtp: bool


class SignupIn(Input):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    name: str = Field("", max_length=200)
    workspace_name: str | None = Field(None, min_length=1, max_length=200)
    language: Language = "en"


class SignupOut(BaseModel):
    confirmation_required: bool


class TokenIn(Input):
    token: Token


class PasswordForgotIn(Input):
    email: str = Field(min_length=3, max_length=320)


class PasswordForgotOut(BaseModel):
    """emailed: a link went out if the address has an account (false: no SMTP, ask an owner for a link)."""

    emailed: bool


class PasswordResetIn(Input):
    token: Token
    password: str = Field(min_length=1, max_length=MAX_LENGTH)
    # A reset after a suspected leak: the user's API keys, in every workspace, stop working too.
    revoke_api_keys: bool = False


class PasswordChangeIn(Input):
    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH)


class ProfileIn(Input):
    name: str | None = Field(None, max_length=200)
    language: Language | None = None
    timezone: str | None = Field(None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        if v is not None and not known_zone(v):
            raise PydanticCustomError("not_an_iana_zone", "not an IANA time zone name (e.g. Europe/Moscow, UTC)")
        return v


class SwitchIn(Input):
    workspace_id: uuid.UUID
