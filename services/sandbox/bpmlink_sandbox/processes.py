"""`ProcessEngineService.svc/{ProcessSchemaName}/Execute`: business processes started by their code.

How the real service answers, and how sure we are, is in `docs/creatio-process-engine.md`:

* input parameters are query parameters named by their code; `ResultParameterName` names the one
  output to return, as `<string xmlns="…/Serialization/">` around the value serialised as JSON
  (a text value comes quoted: `"…"`); without it the answer is an empty 200; a result parameter the
  process lacks reads `null`;
* an unknown process and a parameter value that does not convert are a 500 WCF fault
  (`{"Message", "StackTrace", "ExceptionType"}`; the `process_error_body` switch makes it the
  ASP.NET HTML error page instead);
* a process that throws while running is answered 200 with whatever the result parameter held
  (measured on a real stand); the `process_failure_mode` switch makes it a 500 fault instead.

Every run of a known process is recorded for `GET /_sandbox/process-runs`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .auth import Principal
from .http import JSON_UTF8, Request, Response, dumps, html_response
from .pages import not_found_html
from .state import State
from .values import GUID_RE, fmt_dt
from .writes import WriteError, create

SERIALIZATION_NS = "http://schemas.microsoft.com/2003/10/Serialization/"
XML_UTF8 = "application/xml; charset=utf-8"
RESULT_PARAMETER = "resultparametername"  # WCF matches query names case-insensitively
BAD_GUID = "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."


class ProcessFailed(Exception):
    """A process element threw: `message` and the .NET exception type a fault would name."""

    def __init__(self, message: str, exception_type: str = "System.Exception") -> None:
        super().__init__(message)
        self.message = message
        self.exception_type = exception_type


@dataclass
class Run:
    """One process instance: its inputs (already converted) and the outputs it has set so far."""

    state: State
    caller: Principal
    inputs: dict[str, str]
    outputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProcessSchema:
    name: str
    parameters: dict[str, str] | None  # code → "guid" | "text"; None: takes any parameter as text
    outputs: tuple[str, ...]
    body: Callable[[Run], Awaitable[None]]


async def _call_back(run: Run) -> None:
    """A task to call the contact back, due in an hour; `TaskId` is the new Activity's Id."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "Title": "Call back",
        "StartDate": fmt_dt(now),
        "DueDate": fmt_dt(now + timedelta(hours=1)),
        "Notes": run.inputs.get("Comment", ""),
    }
    if run.inputs.get("ContactId"):
        values["ContactId"] = run.inputs["ContactId"]
    store = run.state.store
    entity = store.schema.entities["Activity"]
    try:
        row, _ = await create(store, entity, values, run.caller.contact_id, 4)
    except WriteError as exc:  # e.g. a contact that does not exist: the element fails
        raise ProcessFailed(exc.message, exc.inner_type or "System.Exception") from None
    run.outputs["TaskId"] = row["Id"]


async def _echo(run: Run) -> None:
    run.outputs["Result"] = json.dumps(run.inputs, ensure_ascii=False, separators=(",", ":"))


async def _failing(run: Run) -> None:
    run.outputs["Stage"] = "started"
    raise ProcessFailed("UsrBpmlinkFailing: the script task threw on purpose (sandbox demo process)")


PROCESSES: dict[str, ProcessSchema] = {
    p.name: p
    for p in (
        ProcessSchema("UsrBpmlinkCallBack", {"ContactId": "guid", "Comment": "text"}, ("TaskId",), _call_back),
        ProcessSchema("UsrBpmlinkEcho", None, ("Result",), _echo),
        ProcessSchema("UsrBpmlinkFailing", {}, ("Stage", "Result"), _failing),
    )
}


def wcf_fault(state: State, message: str, exception_type: str) -> Response:
    """A 500 the way the service fails: the WCF JSON fault, or the ASP.NET error page (switch)."""
    if state.faults.process_error_body == "html":
        text = html.escape(message)
        page = (
            f'<!DOCTYPE html>\n<html><head><title>{text}</title></head><body bgcolor="white">'
            f"<span><H1>Server Error in '/' Application.<hr width=100% size=1 color=silver></H1>"
            f"<h2> <i>{text}</i> </h2></span><b> Exception Details: </b>{exception_type}: {text}</body></html>"
        )
        return html_response(page, 500)
    return Response(500, dumps({"Message": message, "StackTrace": None, "ExceptionType": exception_type}), JSON_UTF8)


def result_body(value: Any) -> bytes:
    payload = html.escape(json.dumps(value, ensure_ascii=False), quote=False)
    return f'<string xmlns="{SERIALIZATION_NS}">{payload}</string>'.encode()


def _inputs(state: State, schema: ProcessSchema, query: list[tuple[str, str]]) -> dict[str, str]:
    """Query parameters → converted inputs (duplicates joined by commas, as ASP.NET reads them)."""
    raw: dict[str, str] = {}
    for name, value in query:
        if name.lower() != RESULT_PARAMETER:
            raw[name] = f"{raw[name]},{value}" if name in raw else value
    inputs: dict[str, str] = {}
    for name, value in raw.items():
        kind = "text" if schema.parameters is None else schema.parameters.get(name)
        if kind is None:
            continue  # not a parameter of this process: ignored
        if kind == "guid" and value and not GUID_RE.match(value):
            if state.faults.process_bad_parameter == "ignore":
                continue
            raise ProcessFailed(BAD_GUID, "System.FormatException")
        inputs[name] = value.lower() if kind == "guid" else value
    return inputs


async def handle(state: State, who: Principal, req: Request, rest: str) -> Response:
    """`rest` is what follows `ProcessEngineService.svc/`: `{ProcessSchemaName}/Execute`."""
    parts = rest.strip("/").split("/")
    if len(parts) != 2 or parts[1] != "Execute":
        return not_found_html(req.path)
    if req.method not in ("GET", "POST"):
        return Response(405, b"", None, [("Allow", "GET, POST")])
    schema = PROCESSES.get(parts[0])
    if schema is None:
        return wcf_fault(state, f'Item process schema "{parts[0]}" not found', "Terrasoft.Common.ItemNotFoundException")
    result_parameter = next((v for k, v in req.query if k.lower() == RESULT_PARAMETER), None) or None
    try:
        inputs = _inputs(state, schema, req.query)
    except ProcessFailed as exc:  # conversion happens before the process starts: nothing runs
        return wcf_fault(state, exc.message, exc.exception_type)
    run = Run(state, who, inputs)
    failure: ProcessFailed | None = None
    try:
        await schema.body(run)
    except ProcessFailed as exc:
        failure = exc
    result = run.outputs.get(result_parameter) if result_parameter else None
    state.process_runs.append(
        {
            "schema": schema.name,
            "parameters": inputs,
            "result_parameter": result_parameter,
            "result": result,
            "status": "failed" if failure else "completed",
            "error": failure.message if failure else None,
            "at": fmt_dt(datetime.now(UTC)),
        }
    )
    if failure is not None and state.faults.process_failure_mode == "500":
        return wcf_fault(state, failure.message, failure.exception_type)
    if result_parameter is None:
        return Response(200, b"", None)
    return Response(200, result_body(result), XML_UTF8)
