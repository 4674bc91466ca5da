"""Workspace scoping in one place: every query on a tenant table is built here."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, select

T = TypeVar("T")


def scoped(model: type[T], workspace_id: uuid.UUID, *extra: Any) -> Select[T]:
    """SELECT model WHERE workspace_id = :ws (and extra criteria)."""
    column = model.workspace_id  # type: ignore[attr-defined]
    return select(model).where(column == workspace_id, *extra)
