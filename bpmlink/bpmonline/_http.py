"""Sending one request: timing, a step record, and network failures turned into `BpmError`s."""

from __future__ import annotations

import json
import ssl
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bpmlink.bpmonline.errors import (
    BpmError,
    BpmTimeoutError,
    ConfigurationError,
    NetworkError,
    error_for_status,
    extract_message,
    parse_retry_after,
    summarize_html,
)
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit import metrics
from bpmlink.kit.net import BlockedAddressError, DNSResolutionError


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    return seen


def classify_exception(exc: Exception) -> BpmError:
    """A failure without an HTTP answer, in words a user understands."""
    chain = _chain(exc)
    blocked = next((e for e in chain if isinstance(e, BlockedAddressError)), None)
    if blocked is not None:
        return ConfigurationError(str(blocked), code="blocked_address")
    if any(isinstance(e, DNSResolutionError) for e in chain):
        return NetworkError(f"The domain could not be found (DNS): {exc}", code="dns")
    if any(isinstance(e, ssl.SSLError) for e in chain) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        # A certificate problem does not heal by retrying; the user must fix the domain or cert.
        return ConfigurationError(f"TLS/certificate error: {exc}", code="tls")
    if isinstance(exc, httpx.TimeoutException):
        kind = type(exc).__name__.replace("Timeout", "").lower() or "request"
        return BpmTimeoutError(f"{kind} timeout: the server did not answer in time", code=f"{kind}_timeout")
    if isinstance(exc, httpx.ConnectError):
        text = " ".join(str(e) for e in chain).lower()
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
            return NetworkError(f"Connection refused: {exc}", code="connection_refused")
        return NetworkError(f"Could not connect: {exc}", code="connect_failed")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return ConfigurationError(f"Unsupported URL: {exc}", code="bad_url")
    if isinstance(exc, httpx.HTTPError):
        return NetworkError(f"Network error: {type(exc).__name__}: {exc}", code="network")
    return NetworkError(f"{type(exc).__name__}: {exc}", code="network")


def json_default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        from bpmlink.bpmonline.dialects import utc_iso

        return utc_iso(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN/infinity cannot be sent")
        return float(value)  # JSON number; exact for the precision of money columns
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(data: Any) -> bytes:
    return json.dumps(data, default=json_default, ensure_ascii=False).encode("utf-8")


async def send(
    http: httpx.AsyncClient,
    request: httpx.Request,
    recorder: StepRecorder,
    *,
    secret_body: bool = False,
    body_note: str | None = None,
) -> httpx.Response:
    """Send without following redirects, record the step, map transport failures."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    try:
        response = await http.send(request, follow_redirects=False)
    except (httpx.HTTPError, BlockedAddressError) as exc:
        elapsed = time.perf_counter() - t0
        metrics.observe_bpm_request(http, request.method, None, elapsed)
        err = classify_exception(exc)
        recorder.record(
            request,
            None,
            started_at=started,
            duration_ms=elapsed * 1000,
            error=err.message,
            secret_body=secret_body,
            body_note=body_note,
        )
        err.steps = list(recorder.steps)
        raise err from exc
    elapsed = time.perf_counter() - t0
    metrics.observe_bpm_request(http, request.method, response.status_code, elapsed)
    recorder.record(
        request,
        response,
        started_at=started,
        duration_ms=elapsed * 1000,
        secret_body=secret_body,
        body_note=body_note,
    )
    return response


def is_html(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    if "html" in ctype:
        return True
    if "json" in ctype or "xml" in ctype:
        return False
    head = response.content[:200].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "").lower()


def decode_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def response_message(response: httpx.Response) -> str:
    """bpm'online's own message from an error answer, or a readable summary."""
    if is_html(response):
        return summarize_html(response.text)
    body = decode_json(response)
    msg = extract_message(body) if body is not None else None
    if msg:
        return msg
    text = response.text.strip()
    reason = response.reason_phrase or ""
    if text:
        return f"HTTP {response.status_code} {reason}: {text[:300]}".strip()
    return f"HTTP {response.status_code} {reason}".strip()


def error_from_response(response: httpx.Response, recorder: StepRecorder) -> BpmError:
    err = error_for_status(
        response.status_code,
        response_message(response),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        is_html=is_html(response),
        steps=recorder.steps,
    )
    return err
