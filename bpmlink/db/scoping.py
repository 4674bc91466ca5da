"""Workspace scoping in one place: every query on a tenant table is built here.

`scoped` selects a tenant model's rows; `in_workspace` is the same criterion for a statement
that selects columns, counts or joins. tests/api/test_scoping.py fails when code in the api
writes the comparison itself.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select

T = TypeVar("T")


def in_workspace(model: type[Any], workspace_id: uuid.UUID) -> ColumnElement[bool]:
    """model.workspace_id = :ws, for statements that do not select the model itself."""
    column = model.workspace_id
    criterion: ColumnElement[bool] = column == workspace_id
    return criterion


def scoped(model: type[T], workspace_id: uuid.UUID, *extra: Any) -> Select[T]:
    """SELECT model WHERE workspace_id = :ws (and extra criteria)."""
    return select(model).where(in_workspace(model, workspace_id), *extra)
