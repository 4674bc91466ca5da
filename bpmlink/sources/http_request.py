"""One request to a source's HTTP API, recorded as a redacted step: the auth headers and query
parameters by name, and every secret value of the connection anywhere in the URL (a token inside
a Bitrix24 webhook URL). Shared by `http_polling` and the catalog apps' calls (`app_http`)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bpmlink.bpmonline._http import classify_exception
from bpmlink.bpmonline.steps import REDACTED, StepRecorder
from bpmlink.kit.net import BlockedAddressError
from bpmlink.sources.base import PermanentSourceError, SourceConnection, TransientSourceError

MAX_BODY_BYTES = 10 * 1024 * 1024


def _redact_query(url: str, names: set[str]) -> str:
    parts = urlsplit(url)
    if not parts.query or not names:
        return url
    pairs = [(k, REDACTED if k.lower() in names else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def redact_values(text: str, values: set[str]) -> str:
    """`text` with each secret value replaced (a secret URL keeps its origin: the Bitrix24 webhook's host)."""
    for value in sorted(values, key=len, reverse=True):
        if value not in text:
            continue
        parts = urlsplit(value)
        shown = f"{parts.scheme}://{parts.netloc}/{REDACTED}/" if parts.scheme in ("http", "https") else REDACTED
        text = text.replace(value.rstrip("/") + "/", shown).replace(value, shown)
    return text


def secret_values(conn: SourceConnection) -> set[str]:
    """The connection's secret texts, redacted wherever a step shows them (a token inside the base URL)."""
    return {str(v) for v in conn.secrets.values() if isinstance(v, str) and len(v) >= 4}


@dataclass(frozen=True)
class Redaction:
    """What a step must not show: query parameters and headers by name, and secret values anywhere in its URL."""

    params: frozenset[str] = frozenset()
    headers: frozenset[str] = frozenset()
    values: frozenset[str] = frozenset()


async def request_json(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    params: dict[str, str],
    json_body: dict[str, Any] | None,
    headers: dict[str, str],
    recorder: StepRecorder,
    redaction: Redaction,
) -> Any:
    """One request to the source, recorded as a redacted step; the JSON answer (None: 204 No Content).
    TransientSourceError for network failures, timeouts, 408, 429 and 5xx; PermanentSourceError else."""
    # Merged, not replaced: a next-page link carries its own query.
    request = client.build_request(method, httpx.URL(url).copy_merge_params(params), headers=headers, json=json_body)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    response: httpx.Response | None = None
    error: Exception | None = None
    try:
        streamed = await client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            size = 0
            async for chunk in streamed.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise PermanentSourceError(
                        f"the answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB", code="too_large"
                    )
                chunks.append(chunk)
        finally:
            await streamed.aclose()
        response = httpx.Response(
            streamed.status_code, headers=streamed.headers, content=b"".join(chunks), request=request
        )
    except (httpx.HTTPError, BlockedAddressError, PermanentSourceError) as exc:
        error = exc
    step = recorder.record(
        request,
        response,
        started_at=started,
        duration_ms=(time.perf_counter() - t0) * 1000,
        error=None if error is None else str(error),
    )
    step.url = redact_values(_redact_query(step.url, set(redaction.params)), set(redaction.values))
    for name in redaction.headers & set(step.request_headers):
        step.request_headers[name] = REDACTED
    if isinstance(error, PermanentSourceError):
        error.steps = list(recorder.steps)
        raise error
    if error is not None:
        classified = classify_exception(error)
        step.error = redact_values(classified.message, set(redaction.values))
        kind = TransientSourceError if classified.transient else PermanentSourceError
        raise kind(step.error, code=classified.code, steps=recorder.steps) from error
    assert response is not None
    status = response.status_code
    if status == 429 or status >= 500 or status == 408:
        raise TransientSourceError(f"the source answered HTTP {status}", code=f"http_{status}", steps=recorder.steps)
    if status >= 300:
        raise PermanentSourceError(
            f"the source answered HTTP {status}: {response.text[:300]}",
            code=f"http_{status}",
            steps=recorder.steps,
        )
    if status == 204 or not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise PermanentSourceError("the answer is not JSON", code="not_json", steps=recorder.steps) from exc
