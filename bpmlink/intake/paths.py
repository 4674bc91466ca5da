"""Dotted paths into an item (`data.FIELDS.ID`, `leads.add.0`) and `header:<name>` for a request header."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def masked(item: dict[str, Any], paths: Sequence[str], mask: str) -> dict[str, Any]:
    """The item with the value at each path that holds one replaced by `mask` (copied on the way: the
    caller's item is not changed)."""
    result = item
    for path in paths:
        if get(result, path) is None:
            continue
        result = dict(result)
        if path in result:
            result[path] = mask
            continue
        node: Any = result
        for part in path.split(".")[:-1]:
            key: Any = part if isinstance(node, dict) else int(part)
            child = node[key]
            node[key] = child = dict(child) if isinstance(child, dict) else list(child)
            node = child
        last = path.rsplit(".", 1)[-1]
        node[last if isinstance(node, dict) else int(last)] = mask
    return result
