"""Read-back: a thin item (Bitrix24's ID, amoCRM's lead id, Facebook's leadgen_id, YooKassa's payment)
completed by one call to its source before it is mapped, as the trigger's `ReadBack` declares.

    item = await read_back(app, readback, item, conn, client, recorder)

The first request whose `when` holds is made (none holds: the item is mapped as it came); its path is
a template over the item, each value quoted. The answer (at `answer_path`) has the `answers` applied,
must hold `require`, and goes into the item under `into`. The call is a redacted step of the
operation (system: the app). Errors are SourceErrors: transient ones (network, timeouts, 408, 429,
5xx) are retried by the operation's schedule; permanent ones carry a stable code and the source's
own message:

    source_not_found   404, 410, 204 or no record in the answer
    source_refused     401, 403: the token or key was refused
    source_rejected    another 4xx (Bitrix24 answers 400 "Not found"; Graph 400 for a bad id)
    source_mismatch    the record read back does not hold what the notification said (`require`)
    readback_no_value  the item has no value for the path's template, or one that is not a plain token

A read-back is a GET (or a read-only POST) and is repeated harmlessly when the operation is retried:
each try reads the source's current state and records its own step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.catalog.model import App, ReadBack, ReadBackRequest
from bpmlink.intake.shape import apply_answers, matches
from bpmlink.sources.app_http import MissingValue, call, render
from bpmlink.sources.base import PermanentSourceError, SourceConnection, SourceError
from bpmlink.sources.http_polling import dotted


def choose(readback: ReadBack, item: Mapping[str, Any]) -> ReadBackRequest | None:
    """The first request whose condition holds for the item."""
    for request in readback.requests:
        if request.when is None or matches(request.when, method=request.method, headers={}, item=dict(item)):
            return request
    return None


def _checked(app: App, readback: ReadBack, answer: Any, item: Mapping[str, Any], where: str) -> dict[str, Any]:
    record = dotted(answer, readback.answer_path or "") if answer is not None else None
    if not isinstance(record, Mapping):
        raise PermanentSourceError(
            f"{app.label.en} has no record at {where}",
            code="source_not_found",
            params={"app": app.label.en, "where": where},
        )
    for path, template in readback.require.items():
        expected = render(template, item)
        found = dotted(record, path)
        if str(found if found is not None else "") != expected:
            raise PermanentSourceError(
                f"the record read back from {app.label.en} has {path} {found!r}, not {expected!r} as notified",
                code="source_mismatch",
                params={"app": app.label.en, "path": path, "found": repr(found), "expected": repr(expected)},
            )
    return apply_answers(dict(record), readback.answers)


async def read_back(
    app: App,
    readback: ReadBack,
    item: dict[str, Any],
    conn: SourceConnection,
    client: httpx.AsyncClient,
    recorder: StepRecorder,
) -> dict[str, Any]:
    """The item with the record read back from its source under `readback.into`."""
    request = choose(readback, item)
    if request is None:
        return item
    try:
        path = render(request.path, item, url_part=True, strict=True)
    except MissingValue as exc:
        raise PermanentSourceError(
            f"the item has no usable {exc.path!r} to read the record back with",
            code="readback_no_value",
            params={"path": exc.path},
        ) from exc
    answer = await call(app, conn, request.method, path, client, recorder)
    where = f"{request.method} {path.split('?', 1)[0]}"
    try:
        record = _checked(app, readback, answer, item, where)
    except SourceError as exc:
        exc.steps = list(recorder.steps)
        raise
    return {**item, readback.into: record}
