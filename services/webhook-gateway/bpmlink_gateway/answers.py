"""What a sender gets back once its request's events are committed, by the trigger's `Answer`.

The bytes are rendered here once, so the hot path and the FastAPI route send the same answer: a
text type without a charset gets `; charset=utf-8` (what Starlette's Response adds), and the JSON
is spelled as JSONResponse spells it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from bpmlink.catalog.model import Answer


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def json_bytes(content: Any) -> bytes:
    """The bytes JSONResponse renders."""
    return json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


def reply(answer: Answer, event_ids: Sequence[uuid.UUID], *, config: Mapping[str, Any], query_string: bytes) -> Reply:
    content_type = answer.content_type
    if content_type.startswith("text/") and "charset=" not in content_type.lower():
        content_type += "; charset=utf-8"
    return Reply(answer.status, content_type, _body(answer, event_ids, config, query_string))


def _body(answer: Answer, event_ids: Sequence[uuid.UUID], config: Mapping[str, Any], query_string: bytes) -> bytes:
    if answer.body == "event_id":
        if len(event_ids) == 1:
            return b'{"event_id":"%s"}' % str(event_ids[0]).encode()
        ids = [str(i) for i in event_ids]  # a request stores one event at least
        return json_bytes({"event_id": ids[0], "event_ids": ids})
    if answer.body == "text":
        return (answer.text or "").encode()
    if answer.body == "config":
        value = config.get(answer.field or "")
        return (value if isinstance(value, str) else "").encode()
    if answer.body == "query":
        query = query_string.decode("latin-1")
        return next((v for k, v in parse_qsl(query, keep_blank_values=True) if k == answer.field), "").encode()
    return b""
