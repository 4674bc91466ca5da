"""A message a person reads, as a stable `code` with `params` (DESIGN.md "Messages in the user's
language"): the SPA and the API render it in the reader's language; `text` is the English words,
for logs and for clients that know no codes. What bpm'online itself answered goes in `remote`,
shown as it wrote it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    params: dict[str, Any] = {}
    text: str
    remote: str | None = None  # bpm'online's own words, when the message is about its answer


def message(code: str, text: str, *, remote: str | None = None, **params: Any) -> Message:
    """`message("step_not_run", "…", step="contact")`: the English `text` may name the params."""
    return Message(code=code, params=params, text=text, remote=remote)
