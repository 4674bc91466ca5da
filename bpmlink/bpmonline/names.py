"""Checks on the names and numbers a query puts into its URL: identifiers only, never syntax (invariant 4)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bpmlink.bpmonline.filters import FIELD_PATTERN

_ORDERBY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)?)(?: (asc|desc))?$")


def check_field_name(name: str) -> str:
    """A column, or a lookup's column (`Account/Name`), for `$select`/`$expand`."""
    if not isinstance(name, str) or not FIELD_PATTERN.match(name):
        raise ValueError(f"invalid field name {name!r}")
    return name


def check_orderby(orderby: str | Sequence[str]) -> list[str]:
    """`$orderby` items: a field name, optionally followed by ` asc` or ` desc`."""
    items = [orderby] if isinstance(orderby, str) else list(orderby)
    for item in items:
        if not _ORDERBY.match(item):
            raise ValueError(f"invalid $orderby item {item!r}")
    return items


def check_non_negative(value: int, what: str) -> int:
    """`$top`/`$skip`: a non-negative integer (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer")
    return value
