"""One request → one item per element at the trigger's `Split` path (amoCRM's `leads.add.0`, …).

Path segments: a name, `*` (any key or index), `{name}` (any key or index, captured under `_split`) or
`{name:a|b}` (one of these keys, captured). Elements that are not objects are skipped. Each item gets
the captures under `_split` and each `keep` path of the envelope under its last name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bpmlink.catalog.model import Split

from .paths import get

MAX_ITEMS = 500  # one request never becomes more events than this: a bigger one is refused whole

_CAPTURE = re.compile(r"^\{(\w+)(?::([^{}]+))?\}$")


class TooManyItems(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request holds more than {limit} items")
        self.limit = limit


@dataclass(frozen=True)
class _Segment:
    name: str | None = None  # a plain key
    capture: str | None = None  # `{capture}` or `{capture:a|b}`
    only: frozenset[str] | None = None


def _segments(path: str) -> list[_Segment]:
    segments = []
    for part in path.split("."):
        match = _CAPTURE.match(part)
        if part == "*":
            segments.append(_Segment())
        elif match:
            only = frozenset(match[2].split("|")) if match[2] else None
            segments.append(_Segment(capture=match[1], only=only))
        else:
            segments.append(_Segment(name=part))
    return segments


def _children(value: Any, segment: _Segment) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(str(i), v) for i, v in enumerate(value)]
    else:
        return []
    if segment.name is not None:
        return [(k, v) for k, v in pairs if k == segment.name]
    if segment.only is not None:
        return [(k, v) for k, v in pairs if k in segment.only]
    return pairs


def split_items(item: dict[str, Any], split: Split | None, *, limit: int = MAX_ITEMS) -> list[dict[str, Any]]:
    """The items of one request ([item] without a split rule); [] when the path finds no object.
    TooManyItems when a level of the walk holds more than `limit` elements (checked as it goes, so a huge
    request costs no more than the limit)."""
    if split is None:
        return [item]
    found: list[tuple[Any, dict[str, str]]] = [(item, {})]
    for segment in _segments(split.path):
        step: list[tuple[Any, dict[str, str]]] = []
        for value, captures in found:
            for key, child in _children(value, segment):
                if len(step) == limit:
                    raise TooManyItems(limit)
                step.append((child, {**captures, segment.capture: key} if segment.capture else captures))
        found = step
    kept = {path.rsplit(".", 1)[-1]: get(item, path) for path in split.keep}
    items = []
    for element, captures in found:
        if not isinstance(element, dict):
            continue
        items.append({**element, **({"_split": captures} if captures else {}), **kept})
    return items
