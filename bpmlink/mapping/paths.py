"""Source field paths: how a rule names a value inside a (nested) source item.

Syntax
------
- ``contact.email`` — keys separated by dots;
- ``contact.emails[0]``, ``items[-1]`` — list elements by index (negative counts
  from the end); ``items.0.name`` works too when the value there is a list;
- ``items[*].name`` — the value at ``name`` of every element, as a list;
- ``["utm.source"]``, ``fields['first name'].value`` — keys with dots, spaces,
  brackets or anything else, in single or double quotes (``\\`` escapes a quote
  or a backslash inside).

If the item has a top-level key spelled exactly like the whole path (form posts
often send keys such as ``contact.email`` or ``fields[email]``), that key wins.

A path that leads nowhere (missing key, index out of range, wrong kind of value)
gives ``None``: a missing value is a normal thing in source data, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, Final


class PathSyntaxError(ValueError):
    """The path text itself is malformed (reported when the bundle is saved)."""


class _Wildcard:
    def __repr__(self) -> str:
        return "[*]"


WILDCARD: Final = _Wildcard()
Segment = str | int | _Wildcard


@lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[Segment, ...]:
    """Split a path into keys (str), indices (int) and WILDCARD."""
    if not path or not path.strip():
        raise PathSyntaxError("the field path is empty")
    segments: list[Segment] = []
    i, n = 0, len(path)
    expect_segment = True  # at the start or right after a dot
    while i < n:
        ch = path[i]
        if ch == "[":
            i, seg = _parse_bracket(path, i)
            segments.append(seg)
            expect_segment = False
        elif ch == ".":
            if expect_segment:
                raise PathSyntaxError(f"empty key at position {i + 1} in {path!r}")
            expect_segment = True
            i += 1
            if i == n:
                raise PathSyntaxError(f"the path {path!r} ends with a dot")
        elif ch == "]":
            raise PathSyntaxError(f"unexpected ']' at position {i + 1} in {path!r}")
        else:
            if not expect_segment:
                raise PathSyntaxError(f"expected '.' or '[' at position {i + 1} in {path!r}")
            start = i
            while i < n and path[i] not in ".[]":
                i += 1
            segments.append(path[start:i])
            expect_segment = False
    return tuple(segments)


def _parse_bracket(path: str, i: int) -> tuple[int, Segment]:
    """Parse ``[...]`` starting at ``path[i] == '['``; return the next index and the segment."""
    n = len(path)
    j = i + 1
    if j < n and path[j] in "\"'":
        quote = path[j]
        j += 1
        chars: list[str] = []
        while j < n and path[j] != quote:
            if path[j] == "\\" and j + 1 < n:
                j += 1
            chars.append(path[j])
            j += 1
        if j >= n:
            raise PathSyntaxError(f"unclosed quote in {path!r}")
        j += 1
        if j >= n or path[j] != "]":
            raise PathSyntaxError(f"expected ']' after the quoted key in {path!r}")
        return j + 1, "".join(chars)
    end = path.find("]", j)
    if end < 0:
        raise PathSyntaxError(f"unclosed '[' in {path!r}")
    inner = path[j:end].strip()
    if inner == "*":
        return end + 1, WILDCARD
    try:
        return end + 1, int(inner)
    except ValueError:
        raise PathSyntaxError(
            f'[{inner}] in {path!r} is neither an index nor a quoted key (write ["{inner}"])'
        ) from None


def get_path(item: Any, path: str) -> Any:
    """The value at `path` in `item`, or ``None`` when there is none."""
    if isinstance(item, Mapping) and path in item:
        return item[path]
    return _walk(item, parse_path(path))


def _walk(value: Any, segments: Sequence[Segment]) -> Any:
    for pos, seg in enumerate(segments):
        if value is None:
            return None
        if isinstance(seg, _Wildcard):
            if not _is_list(value):
                return None
            rest = segments[pos + 1 :]
            return [_walk(element, rest) for element in value]
        if isinstance(seg, int):
            if not _is_list(value):
                return None
            value = value[seg] if -len(value) <= seg < len(value) else None
            continue
        if isinstance(value, Mapping):
            value = value.get(seg)
        elif _is_list(value) and _is_index(seg):
            idx = int(seg)
            value = value[idx] if -len(value) <= idx < len(value) else None
        else:
            return None
    return value


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def _is_index(text: str) -> bool:
    return text.lstrip("-").isdigit()
