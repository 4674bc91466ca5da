"""Running a business process: `GET {site}{prefix}/ServiceModel/ProcessEngineService.svc/{schema}/Execute`.

What bpm'online answers, and how sure that is, is in `docs/creatio-process-engine.md`. In short:
the input parameters go in the query string under their codes; `ResultParameterName` names the
one output to read back, which comes as `<string xmlns="…/Serialization/">` around the value
serialised as JSON (a text value quoted). Without it the answer is empty.

How failures are told apart (the error's `message` keeps bpm'online's own words):

* ``process_unknown`` (`PermanentError`): the fault or error page says ``process schema "…" not
  found`` (an `ItemNotFoundException`);
* ``process_failed`` (`PermanentError`): any other 5xx answered with a fault (a JSON body): the
  process or its parameters were refused. Not retried: running a process again may repeat what it
  already did;
* the transient kinds as everywhere (`RateLimitedError` for 503/429, `ServerError` for an HTML
  error page without that verdict, `NetworkError`): retried by the pipeline.

A process that throws half-way is usually answered 200 with whatever its result parameter held:
the answer alone cannot prove that the process finished.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bpmlink.bpmonline._http import decode_json, is_json
from bpmlink.bpmonline.errors import BpmError, PermanentError, ValidationError
from bpmlink.bpmonline.steps import StepRecorder

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient

SERVICE_PATH = "/ServiceModel/ProcessEngineService.svc"
RESULT_PARAMETER = "ResultParameterName"
_CODE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNKNOWN = re.compile(r"process schema \S* ?not found|ItemNotFoundException", re.IGNORECASE)
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
_HTML_SUMMARY = "HTML page"  # how `errors.summarize_html` starts the message of an HTML answer


def service_root(domain: str, path_prefix: str) -> str:
    """`{domain}{prefix}/ServiceModel/ProcessEngineService.svc`, beside OData's `{prefix}/odata`."""
    return f"{domain.rstrip('/')}{path_prefix}{SERVICE_PATH}"


def check_code(value: str, what: str) -> str:
    if not _CODE.match(value):
        raise ValidationError(f"{what} {value!r} is not a process code (latin letters, digits, _)", code="process_code")
    return value


async def run_process(
    client: BpmClient,
    schema: str,
    parameters: Mapping[str, str],
    *,
    result_parameter: str | None = None,
    recorder: StepRecorder | None = None,
) -> str | None:
    """Run `schema` through the client's request path (session, relogin, limits, recorded steps)."""
    check_code(schema, "process")
    params: dict[str, str] = {}
    if result_parameter is not None:
        params[RESULT_PARAMETER] = check_code(result_parameter, "result parameter")
    for name, value in parameters.items():
        if check_code(name, "parameter").lower() == RESULT_PARAMETER.lower():
            raise ValidationError(f"{RESULT_PARAMETER} cannot be a process parameter", code="process_code")
        params[name] = value
    conn = client.connection
    rec = recorder if recorder is not None else StepRecorder(body_limit=client.body_limit)
    try:
        response = await client.request(
            "GET",
            f"{schema}/Execute",
            params=params,
            headers={"Accept": "application/xml, text/xml, */*"},
            expect="xml",
            root=service_root(conn.domain, conn.path_prefix),
            recorder=rec,
        )
    except BpmError as exc:
        raise classify(exc) from exc
    return decode_result(response, rec)


def classify(exc: BpmError) -> BpmError:
    """The process's own verdicts out of a 5xx answer (see the module docstring)."""
    if exc.status is None or exc.status < 500 or exc.status in (502, 503, 504):
        return exc
    if _UNKNOWN.search(exc.message):
        code = "process_unknown"
    elif exc.message.startswith(_HTML_SUMMARY):
        return exc  # an error page without the verdict: the server's trouble, maybe passing
    else:
        code = "process_failed"
    return PermanentError(exc.message, status=exc.status, code=code, steps=exc.steps)


def decode_result(response: httpx.Response, recorder: StepRecorder) -> str | None:
    """The result parameter's value: the wrapper's text, JSON-decoded when it is JSON (a quoted
    text becomes the text, `null` None; numbers and objects stay their JSON text)."""
    body = response.content.strip()
    if not body:
        return None
    text: str | None
    if body.startswith(b"<"):
        try:
            root = fromstring(body)
        except (DefusedXmlException, SyntaxError) as exc:  # ParseError is a SyntaxError
            raise PermanentError(
                f"the process answer is not readable XML: {exc}",
                status=response.status_code,
                code="process_answer_unreadable",
                steps=recorder.steps,
            ) from exc
        text = None if root.get(_NIL) == "true" else (root.text or "")
    elif is_json(response):  # a JSON-format answer carries the same text as a JSON string
        decoded = decode_json(response)
        text = decoded if isinstance(decoded, str) else response.text
    else:
        text = response.text
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return text  # not JSON: the value as it came
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    return text.strip()
