"""The values history can be searched by: every scalar in the source and mapped data, and the record id."""

from __future__ import annotations

from typing import Any

MAX_TERMS = 200
MAX_TERM_LENGTH = 200


def normalise(value: str) -> str:
    return value.strip().casefold()


def search_terms(*values: Any) -> list[str]:
    """Distinct, case-folded scalar values (bounded in count and length, so the GIN index stays lean)."""
    found: dict[str, None] = {}

    def walk(value: Any, depth: int) -> None:
        if len(found) >= MAX_TERMS or depth > 8 or value is None or isinstance(value, bool):
            return
        if isinstance(value, dict):
            for child in value.values():
                walk(child, depth + 1)
        elif isinstance(value, list | tuple):
            for child in value:
                walk(child, depth + 1)
        else:
            text = normalise(str(value))
            if 0 < len(text) <= MAX_TERM_LENGTH:
                found[text] = None

    for value in values:
        walk(value, 0)
    return list(found)
