"""Dotted paths into an item (`data.FIELDS.ID`, `leads.add.0`) and `header:<name>` for a request header."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HEADER = "header:"


def get(item: Any, path: str) -> Any:
    """The value at a dotted path, None when any step is missing; a digit step also indexes a list. A
    top-level key spelled with dots (Facebook's query `hub.mode`) is read as itself first."""
    if isinstance(item, dict) and path in item:
        return item[path]
    value = item
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def read(path: str, *, item: Any, headers: Mapping[str, str]) -> Any:
    """`get`, or the header's value for `header:<name>` (headers have lower-case names)."""
    if path.startswith(HEADER):
        return headers.get(path[len(HEADER) :].strip().lower())
    return get(item, path)


def text(value: Any) -> str | None:
    """A scalar as the text a rule compares; None for a missing value, a list or an object."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
